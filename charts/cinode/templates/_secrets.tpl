{{/*
Chart-managed secrets: per-service DATABASE_URLs (when the external password is given as a value)
and the JWKS (when given as a value). Rendered twice: as ordinary resources for the Deployments
(secrets.yaml) and, when a migration Job runs, as hook copies named `<name>-migration`
(migration-secrets.yaml), because pre-install hooks run before any ordinary resource exists.
Args: ctx, hook (bool).
*/}}
{{- define "cinode.secrets" -}}
{{- $ctx := .ctx -}}
{{- $suffix := .hook | ternary "-migration" "" -}}
{{- $annotations := dict -}}
{{- if .hook -}}
{{- $annotations = dict "helm.sh/hook" "pre-install,pre-upgrade" "helm.sh/hook-weight" "-10" "helm.sh/hook-delete-policy" "before-hook-creation,hook-succeeded" -}}
{{- end -}}
{{- if include "cinode.databaseSecretManaged" $ctx }}
---
apiVersion: v1
kind: Secret
metadata:
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" "" "name" (printf "%s%s" (include "cinode.databaseSecretName" $ctx) $suffix) "annotations" $annotations) | nindent 2 }}
type: Opaque
stringData:
  {{- $password := include "cinode.urlPassword" $ctx.Values.postgresql.external.password }}
  {{- range (include "cinode.components" $ctx | splitList "\n") }}
  {{- if (index $ctx.Values (include "cinode.valuesKey" .)).enabled }}
  {{ . }}-url: {{ include "cinode.databaseUrl" (dict "ctx" $ctx "component" . "password" $password) | quote }}
  {{- end }}
  {{- end }}
{{- end }}
{{- if and $ctx.Values.auth.jwtPublicKeys (not $ctx.Values.auth.existingSecret) }}
---
apiVersion: v1
kind: Secret
metadata:
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" "" "name" (printf "%s%s" (include "cinode.authSecretName" $ctx) $suffix) "annotations" $annotations) | nindent 2 }}
type: Opaque
stringData:
  jwt-public-keys: {{ $ctx.Values.auth.jwtPublicKeys | quote }}
{{- end }}
{{- end -}}
