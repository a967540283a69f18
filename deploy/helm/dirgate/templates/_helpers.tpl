{{/* Names and labels shared by the chart's objects. */}}

{{- define "dirgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dirgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dirgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dirgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dirgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dirgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dirgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dirgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the store URL and the secret key, when the chart makes one. */}}
{{- define "dirgate.secretName" -}}
{{- include "dirgate.fullname" . }}
{{- end }}

{{- define "dirgate.storeSecret" -}}
{{- default (include "dirgate.secretName" .) .Values.store.existingSecret }}
{{- end }}

{{- define "dirgate.keySecret" -}}
{{- default (include "dirgate.secretName" .) .Values.secretKey.existingSecret }}
{{- end }}

{{- define "dirgate.tlsSecret" -}}
{{- default (printf "%s-tls" (include "dirgate.fullname" .)) .Values.tls.existingSecret }}
{{- end }}

{{/* Refuses values the nodes cannot run with, naming the value to set. */}}
{{- define "dirgate.validate" -}}
{{- if and (not .Values.store.url) (not .Values.store.existingSecret) }}
{{- fail "store.url or store.existingSecret is required: the PostgreSQL store every node shares (postgres://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full)" }}
{{- end }}
{{- if and (not .Values.secretKey.value) (not .Values.secretKey.existingSecret) }}
{{- fail "secretKey.value or secretKey.existingSecret is required: the key encrypting TOTP secrets, the same on every node (openssl rand -base64 32)" }}
{{- end }}
{{- if and .Values.secretKey.value (ne (len (b64dec .Values.secretKey.value)) 32) }}
{{- fail "secretKey.value must be 32 bytes as base64 (openssl rand -base64 32)" }}
{{- end }}
{{- $tlsWays := 0 }}
{{- if .Values.tls.existingSecret }}{{ $tlsWays = add1 $tlsWays }}{{ end }}
{{- if or .Values.tls.cert .Values.tls.key }}{{ $tlsWays = add1 $tlsWays }}{{ end }}
{{- if .Values.tls.certManager.enabled }}{{ $tlsWays = add1 $tlsWays }}{{ end }}
{{- if ne $tlsWays 1 }}
{{- fail "give the server certificate exactly one way: tls.existingSecret, tls.cert with tls.key, or tls.certManager.enabled (every node must present the same certificate, so the chart does not let each make its own)" }}
{{- end }}
{{- if and (or .Values.tls.cert .Values.tls.key) (not (and .Values.tls.cert .Values.tls.key)) }}
{{- fail "tls.cert and tls.key go together" }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.issuerRef.name is required with tls.certManager.enabled" }}
{{- end }}
{{- if lt (int .Values.replicaCount) 1 }}
{{- fail "replicaCount must be at least 1" }}
{{- end }}
{{- end }}
