{{- define "coffre.name" -}}coffre{{- end -}}

{{- define "coffre.fullname" -}}
{{- if contains "coffre" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-coffre" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "coffre.labels" -}}
app.kubernetes.io/name: coffre
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "coffre.selectorLabels" -}}
app.kubernetes.io/name: coffre
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "coffre.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "coffre.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "coffre.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}
{{- end -}}

{{/* The rules the operator needs on the namespaces it watches: exactly what it calls. */}}
{{- define "coffre.operatorRules" -}}
# Informers list and watch connections and clients; the operator never reads one by name, and never
# writes a spec: it belongs to its authors (GitOps sees no drift), status goes through /status. The one
# write to a connection itself is the revokeOnDelete finalizer (coffre.dev/revoke-tokens), by
# server-side apply of that entry of metadata.finalizers alone.
- apiGroups: [coffre.dev]
  resources: [vaultconnections, oauthclients]
  verbs: [list, watch]
- apiGroups: [coffre.dev]
  resources: [vaultconnections]
  verbs: [patch]
- apiGroups: [coffre.dev]
  resources: [vaultconnections/status, oauthclients/status]
  verbs: [patch]
# The Secrets coffre owns carry an owner reference with blockOwnerDeletion (a foreground deletion of the
# connection waits for them). Where the OwnerReferencesPermissionEnforcement admission plugin is on
# (OpenShift, hardened clusters), setting it requires update on the owner's finalizers; nothing else
# uses this (a custom resource serves no finalizers subresource).
- apiGroups: [coffre.dev]
  resources: [vaultconnections/finalizers]
  verbs: [update]
# Metadata-only list/watch of Secrets (referenced ones), get of the referenced ones' data, and
# create/update of the Secrets coffre owns (target and state Secrets).
- apiGroups: ['']
  resources: [secrets]
  verbs: [get, list, watch, create, update]
- apiGroups: ['']
  resources: [events]
  verbs: [create]
# rolloutRestartTargets: a pod-template annotation patch, like kubectl rollout restart.
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [patch]
{{- end -}}
