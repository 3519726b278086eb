{{/*
Shared helpers of the cinode chart: names, labels, images, security contexts, env and probes.
Per-service resources (Deployment, Service, ...) are assembled from these in _service.tpl, so a
per-service template is a single include. Helpers that concern one service take a dict
`(dict "ctx" $ "component" "<service-name>")`; the service's values block is
`.Values.<camelCase of the name>` (national-node-mock -> nationalNodeMock).
*/}}

{{/* Every service the chart knows, in start-up order. Add a new service here (see README.md). */}}
{{- define "cinode.components" -}}
service-center
national-node-mock
identifier
resource-aggregation
compute-selection
reporting
runtime-monitoring
security
{{- end -}}

{{- define "cinode.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cinode.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cinode.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a component's resources: <fullname>-<component>. Args: ctx, component. */}}
{{- define "cinode.componentName" -}}
{{- printf "%s-%s" (include "cinode.fullname" .ctx) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Values key of a service: national-node-mock -> nationalNodeMock. */}}
{{- define "cinode.valuesKey" -}}
{{- . | replace "-" "_" | camelcase | untitle -}}
{{- end -}}

{{/* Selector labels; immutable on Deployments, so only stable identity. Args: ctx, component. */}}
{{- define "cinode.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cinode.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* Labels of every resource. Args: ctx, component (may be empty). */}}
{{- define "cinode.labels" -}}
helm.sh/chart: {{ include "cinode.chart" .ctx }}
{{ include "cinode.selectorLabels" . }}
app.kubernetes.io/part-of: cinode
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.name/namespace/labels/annotations. Args: ctx, component, name, annotations (optional dict). */}}
{{- define "cinode.metadata" -}}
name: {{ .name }}
namespace: {{ .ctx.Release.Namespace }}
labels:
  {{- include "cinode.labels" . | nindent 2 }}
{{- $annotations := merge (dict) (.annotations | default dict) .ctx.Values.commonAnnotations }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Image reference; a digest wins over the tag. Args: image (values dict), ctx. */}}
{{- define "cinode.image" -}}
{{- $repo := .image.repository -}}
{{- if .image.registry -}}{{- $repo = printf "%s/%s" .image.registry $repo -}}{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (.image.tag | default .ctx.Chart.AppVersion | toString) -}}
{{- end -}}
{{- end -}}

{{- define "cinode.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ kindIs "string" . | ternary . .name }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "cinode.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cinode.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cinode.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "cinode.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{/*
Migration Jobs are pre-install/pre-upgrade hooks, which run before any ordinary resource of the
release exists. With the bundled PostgreSQL (an ordinary StatefulSet) there is no server yet at
pre-install, so in that mode the services migrate at start-up instead (their migration path holds
an advisory lock). Returns "true" or "". Args: ctx, component.
*/}}
{{- define "cinode.migrationJobEnabled" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- if and $values.enabled $values.migration.enabled (not .ctx.Values.postgresql.bundled.enabled) -}}true{{- end -}}
{{- end -}}

{{/* "true" when any enabled service renders a migration Job (the hook copies of secrets follow). */}}
{{- define "cinode.anyMigrationJob" -}}
{{- $ctx := . -}}
{{- range (include "cinode.components" . | splitList "\n") -}}
{{- include "cinode.migrationJobEnabled" (dict "ctx" $ctx "component" .) -}}
{{- end -}}
{{- end -}}

{{/* Secret names. The `-migration` copies are hook resources, so they exist before the Jobs run. */}}
{{- define "cinode.databaseSecretName" -}}
{{- printf "%s-database" (include "cinode.fullname" .) -}}
{{- end -}}
{{- define "cinode.authSecretName" -}}
{{- printf "%s-auth" (include "cinode.fullname" .) -}}
{{- end -}}
{{- define "cinode.serviceCenterSecretName" -}}
{{- printf "%s-service-center" (include "cinode.fullname" .) -}}
{{- end -}}
{{- define "cinode.reportingSecretName" -}}
{{- printf "%s-reporting" (include "cinode.fullname" .) -}}
{{- end -}}
{{- define "cinode.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "cinode.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "cinode.nats.fullname" -}}
{{- printf "%s-nats" (include "cinode.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* True when the chart itself stores the external DB password (and so the per-service URLs). */}}
{{- define "cinode.databaseSecretManaged" -}}
{{- if and (not .Values.postgresql.bundled.enabled) (not .Values.postgresql.external.existingSecret) .Values.postgresql.external.password -}}true{{- end -}}
{{- end -}}

{{/* DATABASE_URL of a service with a placeholder for the password. Args: ctx, component, password. */}}
{{- define "cinode.databaseUrl" -}}
{{- $v := .ctx.Values -}}
{{- $values := index $v (include "cinode.valuesKey" .component) -}}
{{- if $v.postgresql.bundled.enabled -}}
{{- printf "postgresql://%s:%s@%s:5432/%s" ($v.postgresql.bundled.auth.username | urlquery) .password (include "cinode.postgresql.fullname" .ctx) $values.database.name -}}
{{- else -}}
{{- $e := $v.postgresql.external -}}
{{- printf "postgresql://%s:%s@%s:%d/%s" ($e.username | urlquery) .password $e.host (int $e.port) $values.database.name -}}
{{- with $e.sslMode }}?sslmode={{ . }}{{ end -}}
{{- end -}}
{{- end -}}

{{/*
The service center's in-cluster gRPC address (AUTH_JWKS_ADDRESS of every service: the JWKS of
participant tokens), or "" when it is disabled. Args: the root context.
*/}}
{{- define "cinode.jwksAddress" -}}
{{- if .Values.serviceCenter.enabled -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "service-center")) (int .Values.serviceCenter.grpcPort) -}}
{{- end -}}
{{- end -}}

{{/* The identifier service's in-cluster gRPC address (IDENTIFIER_ADDRESS). Args: the root context. */}}
{{- define "cinode.identifierAddress" -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "identifier")) (int .Values.identifier.grpcPort) -}}
{{- end -}}

{{/* Resource aggregation's in-cluster gRPC address (RESOURCE_AGGREGATION_ADDRESS). Args: the root context. */}}
{{- define "cinode.resourceAggregationAddress" -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "resource-aggregation")) (int .Values.resourceAggregation.grpcPort) -}}
{{- end -}}

{{/* The security service's in-cluster gRPC address (SECURITY_ADDRESS). Args: the root context. */}}
{{- define "cinode.securityAddress" -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "security")) (int .Values.security.grpcPort) -}}
{{- end -}}

{{/* Compute selection's in-cluster gRPC address (COMPUTE_SELECTION_ADDRESS). Args: the root context. */}}
{{- define "cinode.computeSelectionAddress" -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "compute-selection")) (int .Values.computeSelection.grpcPort) -}}
{{- end -}}

{{/* nationalNode.endpoint, else the in-cluster mock's Service when it is enabled, else "". */}}
{{- define "cinode.nationalNodeAddress" -}}
{{- if .Values.nationalNode.endpoint -}}
{{- .Values.nationalNode.endpoint -}}
{{- else if .Values.nationalNodeMock.enabled -}}
{{- printf "%s:%d" (include "cinode.componentName" (dict "ctx" . "component" "national-node-mock")) (int .Values.nationalNodeMock.grpcPort) -}}
{{- end -}}
{{- end -}}

{{/*
An env var read from a secret: the user's existing secret when named, else the chart-managed one
(`<managed>-migration` in the hook Job). Args: name, existingSecret, existingSecretKey, managed,
managedKey, migration (bool).
*/}}
{{- define "cinode.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- if .existingSecret }}
      name: {{ .existingSecret }}
      key: {{ .existingSecretKey }}
      {{- else }}
      name: {{ .managed }}{{ .migration | ternary "-migration" "" }}
      key: {{ .managedKey }}
      {{- end }}
{{- end -}}

{{/* A password percent-encoded for the userinfo part of a URL (urlquery writes spaces as '+'). */}}
{{- define "cinode.urlPassword" -}}
{{- . | urlquery | replace "+" "%20" -}}
{{- end -}}

{{/*
Environment of a service container, following the services' configuration contract.
Args: ctx, component, migration (bool: the hook Job, which reads the `-migration` secret copies).
*/}}
{{- define "cinode.env" -}}
{{- include "cinode.checkCalls" .ctx -}}
{{- $v := .ctx.Values -}}
{{- $values := index $v (include "cinode.valuesKey" .component) -}}
{{- $suffix := .migration | ternary "-migration" "" -}}
- name: NODE_ENV
  value: production
- name: GRPC_HOST
  value: "0.0.0.0"
- name: GRPC_PORT
  value: {{ $values.grpcPort | quote }}
- name: METRICS_PORT
  value: {{ $values.metricsPort | quote }}
- name: LOG_LEVEL
  value: {{ $values.logLevel | default $v.logLevel | quote }}
- name: GRPC_REFLECTION
  value: {{ $v.grpcReflection | quote }}
- name: GRPC_DENY_CIDRS
  value: {{ join "," $v.grpcControls.denyCidrs | quote }}
- name: GRPC_ALLOW_CIDRS
  value: {{ join "," $v.grpcControls.allowCidrs | quote }}
- name: GRPC_PARTICIPANT_RATE_LIMIT
  value: {{ $v.grpcControls.participantRateLimit | quote }}
- name: GRPC_PARTICIPANT_BURST
  value: {{ $v.grpcControls.participantBurst | quote }}
- name: GRPC_SHED_LAG_MS
  value: {{ $v.grpcControls.shedLagMs | quote }}
- name: GRPC_MAX_CONCURRENT_STREAMS
  value: {{ $v.grpcControls.maxConcurrentStreams | quote }}
- name: AUDIT_UNAUTHENTICATED_PER_MINUTE
  value: {{ $v.grpcControls.auditUnauthenticatedPerMinute | quote }}
- name: AUDIT_CALLER_REFUSALS_PER_MINUTE
  value: {{ $v.grpcControls.auditCallerRefusalsPerMinute | quote }}
- name: GRPC_QUARANTINE_UNREAD
  value: {{ $v.grpcControls.quarantineUnread | quote }}
{{- if lt (int $values.terminationGracePeriodSeconds) (add (int $v.shutdownDrainDelaySeconds) 15) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v) must be at least shutdownDrainDelaySeconds + 15 (%v): the drain delay, 10 s for calls in flight, and time to close" (include "cinode.valuesKey" .component) $values.terminationGracePeriodSeconds (add (int $v.shutdownDrainDelaySeconds) 15)) }}
{{- end }}
- name: SHUTDOWN_DRAIN_DELAY_MS
  value: {{ mul (int $v.shutdownDrainDelaySeconds) 1000 | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .component | quote }}
{{- with $v.observability.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- /* Database: a per-service URL secret wins; else compose the URL around the password. */}}
{{- if $values.database.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $values.database.existingSecret }}
      key: {{ $values.database.existingSecretKey }}
{{- else if include "cinode.databaseSecretManaged" .ctx }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "cinode.databaseSecretName" .ctx }}{{ $suffix }}
      key: {{ .component }}-url
{{- else }}
{{- $secretName := "" }}
{{- $secretKey := "password" }}
{{- if $v.postgresql.bundled.enabled }}
{{- $secretName = $v.postgresql.bundled.auth.existingSecret | default (include "cinode.postgresql.fullname" .ctx) }}
{{- else if $v.postgresql.external.existingSecret }}
{{- $secretName = $v.postgresql.external.existingSecret }}
{{- $secretKey = $v.postgresql.external.existingSecretPasswordKey }}
{{- else }}
{{- fail (printf "%s: set postgresql.external.password, postgresql.external.existingSecret or %s.database.existingSecret" .component (include "cinode.valuesKey" .component)) }}
{{- end }}
{{- /* Kubernetes expands $(DATABASE_PASSWORD) because it is defined first; the password must be URL-safe. */}}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $secretKey }}
- name: DATABASE_URL
  value: {{ include "cinode.databaseUrl" (dict "ctx" .ctx "component" .component "password" "$(DATABASE_PASSWORD)") | quote }}
{{- end }}
{{- if $v.nats.bundled.enabled }}
- name: NATS_URL
  value: {{ printf "nats://%s:4222" (include "cinode.nats.fullname" .ctx) | quote }}
{{- else if $v.nats.external.existingSecret }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.nats.external.existingSecret }}
      key: {{ $v.nats.external.existingSecretKey }}
{{- else }}
- name: NATS_URL
  value: {{ required "nats.external.url (or nats.external.existingSecret, or nats.bundled.enabled) is required" $v.nats.external.url | quote }}
{{- end }}
- name: EVENT_STREAM_REPLICAS
  value: {{ $v.nats.streamReplicas | quote }}
{{- with $v.auth.jwtIssuer }}
- name: AUTH_JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
- name: AUTH_JWT_MAX_TTL_SECONDS
  value: {{ $v.auth.maxTokenTtlSeconds | quote }}
- name: AUTH_JWT_CLOCK_TOLERANCE_SECONDS
  value: {{ $v.auth.clockToleranceSeconds | quote }}
- name: AUTH_JWKS_MAX_STALE_SECONDS
  value: {{ $v.auth.jwksMaxStaleSeconds | quote }}
{{- $a := $v.auth }}
{{- if or $a.existingSecret $a.jwtPublicKeys }}
{{ include "cinode.secretEnv" (dict "name" "AUTH_JWT_PUBLIC_KEYS" "existingSecret" $a.existingSecret "existingSecretKey" $a.existingSecretKey "managed" (include "cinode.authSecretName" .ctx) "managedKey" "jwt-public-keys" "migration" .migration) }}
{{- end }}
{{- if or $a.existingServiceKeySecret $a.serviceSigningKey }}
{{ include "cinode.secretEnv" (dict "name" "AUTH_SERVICE_SIGNING_KEY" "existingSecret" $a.existingServiceKeySecret "existingSecretKey" $a.existingServiceKeySecretKey "managed" (include "cinode.authSecretName" .ctx) "managedKey" "service-signing-key" "migration" .migration) }}
{{- end }}
{{- /* Empty when the service center is off: then only the static JWKS is trusted. */}}
- name: AUTH_JWKS_ADDRESS
  value: {{ include "cinode.jwksAddress" .ctx | quote }}
{{- /* The service's own settings (_service-settings.tpl). */}}
{{- with include (printf "cinode.env.%s" .component) . | trim }}
{{ . }}
{{- end }}
- name: DB_MIGRATE_ON_START
  value: {{ eq (include "cinode.migrationJobEnabled" .) "true" | ternary "false" "true" | quote }}
{{- if and $v.tls.enabled (not .migration) }}
- name: GRPC_TLS_CERT_FILE
  value: /etc/cinode/tls/tls.crt
- name: GRPC_TLS_KEY_FILE
  value: /etc/cinode/tls/tls.key
{{- if $v.tls.mtls }}
- name: GRPC_TLS_CA_FILE
  value: /etc/cinode/tls/ca.crt
{{- end }}
{{- /* Calls to the other services (the JWKS among them): TLS verified with the same CA, and with
mTLS the same certificate as the client's. */}}
- name: GRPC_CLIENT_TLS
  value: "true"
- name: GRPC_CLIENT_TLS_CA_FILE
  value: /etc/cinode/tls/ca.crt
{{- if $v.tls.mtls }}
- name: GRPC_CLIENT_TLS_CERT_FILE
  value: /etc/cinode/tls/tls.crt
- name: GRPC_CLIENT_TLS_KEY_FILE
  value: /etc/cinode/tls/tls.key
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Probes on the standard gRPC health service. The kubelet's native gRPC probe speaks plaintext only,
so with TLS on the chart falls back to TCP checks of the gRPC port. Args: ctx, component.
*/}}
{{- define "cinode.probes" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- range $kind := list "startup" "liveness" "readiness" }}
{{ $kind }}Probe:
  {{- if $.ctx.Values.tls.enabled }}
  tcpSocket:
    port: grpc
  {{- else }}
  grpc:
    port: {{ $values.grpcPort }}
    {{- with $values.healthService }}
    service: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- toYaml (index $values.probes $kind) | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes shared by service pods: a writable /tmp (the root filesystem is read-only) and TLS. */}}
{{- define "cinode.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .ctx.Values.tls.enabled (not .migration) }}
- name: tls
  secret:
    secretName: {{ required "tls.existingSecret is required when tls.enabled" .ctx.Values.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- include "cinode.serviceVolumes" . }}
{{- end -}}

{{- define "cinode.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .ctx.Values.tls.enabled (not .migration) }}
- name: tls
  mountPath: /etc/cinode/tls
  readOnly: true
{{- end }}
{{- include "cinode.serviceVolumeMounts" . }}
{{- end -}}

{{/* Command running one service from the shared image (see deploy/Dockerfile). */}}
{{- define "cinode.command" -}}
- node
- dist/services/{{ .component }}/src/main.js
{{- end -}}
