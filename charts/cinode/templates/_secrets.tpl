{{/*
Chart-managed secrets: per-service DATABASE_URLs (when the external password is given as a value),
the JWKS and the service signing key (when given as values) and the keys the service center and
reporting encrypt with (given or generated, kept: `cinode.<service>.secretData`). Rendered twice:
as ordinary resources for the Deployments (secrets.yaml) and, when a migration Job runs, as hook
copies named `<name>-migration` (migration-secrets.yaml), because pre-install hooks run before any
ordinary resource exists.
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
{{- $a := $ctx.Values.auth }}
{{- $jwks := and $a.jwtPublicKeys (not $a.existingSecret) }}
{{- $serviceKey := and $a.serviceSigningKey (not $a.existingServiceKeySecret) }}
{{- if $serviceKey }}
{{- include "cinode.checkServiceSigningKey" $ctx }}
{{- end }}
{{- if or $jwks $serviceKey }}
---
apiVersion: v1
kind: Secret
metadata:
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" "" "name" (printf "%s%s" (include "cinode.authSecretName" $ctx) $suffix) "annotations" $annotations) | nindent 2 }}
type: Opaque
stringData:
  {{- if $jwks }}
  jwt-public-keys: {{ $a.jwtPublicKeys | quote }}
  {{- end }}
  {{- if $serviceKey }}
  service-signing-key: {{ $a.serviceSigningKey | quote }}
  {{- end }}
{{- end }}
{{- /* `<fullname>-<service>`: the keys of an enabled service that the chart keeps for it. */}}
{{- range $component := list "service-center" "reporting" }}
{{- $key := include "cinode.valuesKey" $component }}
{{- if (index $ctx.Values $key).enabled }}
{{- $data := include (printf "cinode.%s.secretData" $key) $ctx | fromJson }}
{{- if $data }}
---
apiVersion: v1
kind: Secret
metadata:
  {{- /* Kept on uninstall: the encryption key must outlive the release as long as the database does. */}}
  {{- $keep := $.hook | ternary $annotations (dict "helm.sh/resource-policy" "keep") }}
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" $component "name" (printf "%s%s" (include (printf "cinode.%sSecretName" $key) $ctx) $suffix) "annotations" $keep) | nindent 2 }}
type: Opaque
data:
  {{- range $name, $value := $data }}
  {{ $name }}: {{ $value | b64enc | quote }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Fails unless auth.serviceSigningKey is an Ed25519 private JWK with kid and, when the JWKS is a value
too, the JWKS holds its public half marked as a service key: otherwise every service-to-service
call would be refused at run time. Args: the root context.
*/}}
{{- define "cinode.checkServiceSigningKey" -}}
{{- $a := .Values.auth -}}
{{- $key := $a.serviceSigningKey | fromJson -}}
{{- if or $key.Error (ne ($key.kty | toString) "OKP") (ne ($key.crv | toString) "Ed25519") (not $key.d) (not $key.x) (not $key.kid) -}}
{{- fail "auth.serviceSigningKey must be an Ed25519 private JWK (JSON with kty OKP, crv Ed25519, x, d and kid); see README.md" -}}
{{- end -}}
{{- if and $a.jwtPublicKeys (not $a.existingSecret) -}}
{{- $public := dict -}}
{{- range ($a.jwtPublicKeys | fromJson).keys | default list -}}
{{- if eq (.kid | toString) ($key.kid | toString) -}}{{- $public = . -}}{{- end -}}
{{- end -}}
{{- if or (ne ($public.x | toString) ($key.x | toString)) (ne (get $public "cinode_scope" | toString) "service") -}}
{{- fail (printf "auth.jwtPublicKeys must contain the public half of auth.serviceSigningKey (kid %q, same x) marked \"cinode_scope\":\"service\"" ($key.kid | toString)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
