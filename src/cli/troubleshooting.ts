// What to do about each reason the operator reports: the table of docs/operations.md ("Troubleshooting
// by reason"), held here once. `check` prints it; a unit test compares it with the document, row by
// row, so the two cannot drift.
import { Reason, reasonCatalogue } from '../api/v1alpha1/conditions.ts';

export interface TroubleshootingRow {
  reasons: readonly Reason[];
  /** What the reason is reported on, when not a VaultConnection. */
  on?: 'OAuthClient';
  /** Markdown, as in the document. */
  action: string;
}

export const troubleshooting: readonly TroubleshootingRow[] = [
  {
    reasons: [Reason.RenewalFailing],
    action:
      'Still Ready: the published token is valid until the time the message gives, but renewing it failed. Act on the reason of Reconciling (retried) or Stalled (needs you) before it expires.',
  },
  {
    reasons: [Reason.NoCredentialsRef, Reason.SecretNotFound, Reason.KeysMissing],
    action:
      'The connection is Empty: create the Secret (or add the keys the message names). Nothing is broken; coffre picks it up at once.',
  },
  {
    reasons: [Reason.OAuthClientNotFound, Reason.OAuthClientEmpty, Reason.OAuthClientNotReady],
    action: '`kubectl describe oac NAME` in the same namespace.',
  },
  {
    reasons: [Reason.CredentialsRetiring],
    action:
      'Ready=True: published, but the service retires these credentials on the date the message names (Zendesk API tokens: 2027-04-30). Move to the mode the message names ([docs/providers/](providers/)).',
  },
  {
    reasons: [Reason.InvalidSpec],
    action:
      'The message names the field. The API server normally refuses such objects; this appears for objects stored before a CRD upgrade.',
  },
  {
    reasons: [Reason.InvalidCredentials],
    action: 'A key has the wrong shape (the message names the key, never the value).',
  },
  {
    reasons: [Reason.CrossNamespaceReference],
    action: "Copy the Secret or OAuthClient into the connection's namespace; drop `namespace`.",
  },
  {
    reasons: [Reason.TargetSecretConflict],
    action:
      'A Secret with the target name exists and is not owned by this connection. Pick `spec.target.name` or delete that Secret; coffre never adopts.',
  },
  {
    reasons: [Reason.TemplateError],
    action: '`spec.target.template.data` names an unknown key; the message lists the available ones.',
  },
  {
    reasons: [Reason.TemplateTooLarge],
    action:
      'The rendered target would hold more than 1 MiB of data; nothing is written. Publish fewer or smaller keys.',
  },
  {
    reasons: [Reason.EndpointRefused],
    action:
      'The endpoint is not https, or resolves to loopback, private, link-local or metadata addresses. For an in-cluster identity provider, add its range to `--allowed-cidrs` (`operator.allowedCIDRs`).',
  },
  {
    reasons: [Reason.EndpointUnreachable],
    action:
      'DNS, TCP, TLS or timeout. Check egress (NetworkPolicy), DNS, `--ca-file` for private CAs. coffre retries with backoff (2 s doubling to 5 min).',
  },
  {
    reasons: [Reason.RateLimited],
    action: 'Retried after Retry-After / x-ratelimit-reset. See `CoffreRateLimited`.',
  },
  {
    reasons: [Reason.ServerError, Reason.InvalidResponse, Reason.TokenRequestFailed],
    action: "The provider misbehaves; retried with backoff. Check the provider's status page.",
  },
  {
    reasons: [Reason.InvalidClient, Reason.UnauthorizedClient],
    action:
      'Client ID, secret or authMethod are wrong, or the grant is not enabled for the client. Not retried until the Secret, OAuthClient or spec changes.',
  },
  {
    reasons: [Reason.InvalidGrant, Reason.InvalidScope, Reason.InvalidTarget],
    action: 'The client is not authorised for the audience or scopes. Not retried until something changes.',
  },
  {
    reasons: [Reason.ReauthorizationRequired],
    action:
      'The refresh token was refused (expired, revoked, rotated elsewhere). Put a new refresh token in the credentials Secret.',
  },
  {
    reasons: [Reason.ScopesExceeded],
    action:
      "`strictScopes` is set and the server granted more than asked: reduce the client's grants at the provider.",
  },
  {
    reasons: [Reason.DiscoveryFailed],
    on: 'OAuthClient',
    action: "The issuer's metadata cannot be fetched: check `spec.issuer`, or set `spec.tokenEndpoint`.",
  },
];

/** The table row of a reason as docs/operations.md prints it (for the test that compares the two). */
export function troubleshootingMarkdownRow(row: TroubleshootingRow): [string, string] {
  const reasons = row.reasons.map((reason) => `\`${reason}\``).join(', ');
  return [row.on === undefined ? reasons : `${reasons} (${row.on})`, row.action];
}

/** What to do about a reason, as plain text: the troubleshooting table, else the API catalogue. */
export function adviceFor(reason: string): { meaning?: string; action: string } | undefined {
  const known = (reasonCatalogue as Record<string, { meaning: string; action: string } | undefined>)[reason];
  const row = troubleshooting.find((r) => (r.reasons as readonly string[]).includes(reason));
  const action = row?.action ?? known?.action;
  if (action === undefined) return undefined;
  return { ...(known === undefined ? {} : { meaning: known.meaning }), action: action.replaceAll('`', '') };
}
