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
- apiGroups: [coffre.dev]
  resources: [vaultconnections, oauthclients]
  verbs: [get, list, watch]
- apiGroups: [coffre.dev]
  resources: [vaultconnections/status, oauthclients/status]
  verbs: [patch]
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
