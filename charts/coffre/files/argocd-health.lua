-- Argo CD health of coffre.dev VaultConnections and OAuthClients, from the conditions coffre writes
-- (docs/api.md#conditions). The outcome of every state is the table in docs/gitops.md#health.
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end
local status = obj.status or {}
local conditions = {}
for _, c in ipairs(status.conditions or {}) do
  conditions[c.type] = c
end
local function is(type, value)
  return conditions[type] ~= nil and conditions[type].status == value
end
local function say(type)
  return conditions[type].reason .. ": " .. (conditions[type].message or "")
end
local generation = obj.metadata.generation or 0
if conditions["Ready"] == nil or (status.observedGeneration or 0) < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for coffre to observe generation " .. generation
  return hs
end
if is("Stalled", "True") then
  -- A person must act; nothing is retried until the spec, a Secret or an OAuthClient changes.
  hs.status = "Degraded"
  hs.message = say("Stalled")
elseif is("Expired", "True") then
  -- The published token has expired: its consumers fail, although coffre keeps retrying.
  hs.status = "Degraded"
  hs.message = say("Expired")
elseif is("Empty", "True") then
  -- No credentials yet: not broken, waiting for a Secret (the empty-first GitOps flow).
  hs.status = "Suspended"
  hs.message = say("Empty")
elseif is("Ready", "True") and conditions["Ready"].reason == "RenewalFailing" then
  -- The token still serves, but renewing it fails and is being retried.
  hs.status = "Progressing"
  hs.message = say("Ready")
elseif is("Ready", "True") then
  -- A routine renewal in flight (Reconciling=True, Renewing) stays Healthy.
  hs.status = "Healthy"
  hs.message = say("Ready")
elseif is("Reconciling", "True") then
  hs.status = "Progressing"
  hs.message = say("Reconciling")
else
  -- Ready is not True and coffre says neither Reconciling nor Stalled (a coffre older than both).
  hs.status = "Degraded"
  hs.message = say("Ready")
end
return hs
