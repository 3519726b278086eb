{{/*
What one service needs beyond the shared shape: its own environment (`cinode.env.<service>`, appended
to cinode.env) and its own NetworkPolicy egress rules (`cinode.egress.<service>`, used when
networkPolicy.allowExternalEgress is false). Every service in cinode.components defines both, empty
when it has nothing of its own. Args: ctx, component, migration (bool: the hook Job's env).
*/}}

{{/*
Which service calls which other one inside the node, through which variable and what for, as lines
`<caller> <callee> <VARIABLE> <reason>` (component names). A caller cannot work without its callee
(the address is required in its config), so cinode.checkCalls refuses a release with an enabled
caller and a disabled callee, and cinode.service.networkpolicy admits each caller to its callee's
gRPC port. The JWKS (every service -> service-center, optional) and the identifier's national node
are handled on their own. Keep in step with the `dependencies` of each
services/<name>/service.json and with cinode.egress.<caller> below.
*/}}
{{- define "cinode.calls" -}}
service-center compute-selection COMPUTE_SELECTION_ADDRESS demands are answered there
service-center resource-aggregation RESOURCE_AGGREGATION_ADDRESS orders hold their capacity there
resource-aggregation identifier IDENTIFIER_ADDRESS pools get their identifiers there
compute-selection resource-aggregation RESOURCE_AGGREGATION_ADDRESS its offer index is built from the pools there
compute-selection identifier IDENTIFIER_ADDRESS dedicated lines get their identifiers there
reporting resource-aggregation RESOURCE_AGGREGATION_ADDRESS reports take their compute information from there
reporting security SECURITY_ADDRESS reports take their security information from there
security service-center SERVICE_CENTER_ADDRESS participants' certification states are read there
security resource-aggregation RESOURCE_AGGREGATION_ADDRESS pools' owners are read there
{{- end -}}

{{/*
Fails, naming every enabled service whose callee (cinode.calls) is disabled, with one message
whichever template renders first. Args: the root context.
*/}}
{{- define "cinode.checkCalls" -}}
{{- $ctx := . -}}
{{- $problems := list -}}
{{- $missing := list -}}
{{- range (include "cinode.calls" $ctx | splitList "\n") -}}
{{- $call := splitn " " 4 . -}}
{{- $caller := include "cinode.valuesKey" $call._0 -}}
{{- $callee := include "cinode.valuesKey" $call._1 -}}
{{- if and (index $ctx.Values $caller).enabled (not (index $ctx.Values $callee).enabled) -}}
{{- $problems = append $problems (printf "%s needs %s.enabled (%s: %s)" $caller $callee $call._2 $call._3) -}}
{{- $missing = append $missing (printf "%s.enabled=true" $callee) -}}
{{- end -}}
{{- end -}}
{{- with $problems -}}
{{- $missing = $missing | uniq -}}
{{- fail (printf "%s; set %s, or disable the services that need %s" (join "; " .) (join " and " $missing) (eq (len $missing) 1 | ternary "it" "them")) -}}
{{- end -}}
{{- end -}}

{{/*
Enabled components that call this one, one per line: its callers in cinode.calls and, for the
service center, every other service (the JWKS, AUTH_JWKS_ADDRESS). Args: ctx, component.
*/}}
{{- define "cinode.callersOf" -}}
{{- $ctx := .ctx -}}
{{- $component := .component -}}
{{- range (include "cinode.calls" $ctx | splitList "\n") -}}
{{- $call := splitn " " 4 . -}}
{{- if and (eq $call._1 $component) (index $ctx.Values (include "cinode.valuesKey" $call._0)).enabled }}
{{ $call._0 }}
{{- end -}}
{{- end -}}
{{- if eq $component "service-center" -}}
{{- range (include "cinode.components" $ctx | splitList "\n") -}}
{{- if and (ne . $component) (index $ctx.Values (include "cinode.valuesKey" .)).enabled }}
{{ . }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ---- service-center ------------------------------------------------------------------- */}}

{{- define "cinode.env.service-center" -}}
{{- $s := .ctx.Values.serviceCenter.settings -}}
{{- if gt (int $s.tokenTtlSeconds) (int .ctx.Values.auth.maxTokenTtlSeconds) -}}
{{- fail (printf "serviceCenter.settings.tokenTtlSeconds (%v) must not exceed auth.maxTokenTtlSeconds (%v): every service would refuse the tokens" $s.tokenTtlSeconds .ctx.Values.auth.maxTokenTtlSeconds) -}}
{{- end -}}
- name: TOKEN_TTL_SECONDS
  value: {{ $s.tokenTtlSeconds | quote }}
{{- with $s.trustedProxies }}
- name: TOKEN_TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
{{ include "cinode.secretEnv" (dict "name" "SIGNING_KEY_ENCRYPTION_KEY" "existingSecret" $s.signingKeyEncryptionKey.existingSecret "existingSecretKey" $s.signingKeyEncryptionKey.existingSecretKey "managed" (include "cinode.serviceCenterSecretName" .ctx) "managedKey" "signing-key-encryption-key" "migration" .migration) }}
{{ include "cinode.secretEnv" (dict "name" "OPERATOR_BOOTSTRAP_KEY" "existingSecret" $s.operatorBootstrapKey.existingSecret "existingSecretKey" $s.operatorBootstrapKey.existingSecretKey "managed" (include "cinode.serviceCenterSecretName" .ctx) "managedKey" "operator-bootstrap-key" "migration" .migration) }}
{{- /* Demands and orders: answered by compute selection, held at resource aggregation (both
required: cinode.checkCalls). */}}
{{- if ge (int $s.orderRecoveryAfterSeconds) (int $s.orderHoldTtlSeconds) }}
{{- fail (printf "serviceCenter.settings.orderRecoveryAfterSeconds (%v) must be below serviceCenter.settings.orderHoldTtlSeconds (%v): a resumed order's hold would have expired before it is confirmed" $s.orderRecoveryAfterSeconds $s.orderHoldTtlSeconds) }}
{{- end }}
- name: COMPUTE_SELECTION_ADDRESS
  value: {{ include "cinode.computeSelectionAddress" .ctx | quote }}
- name: RESOURCE_AGGREGATION_ADDRESS
  value: {{ include "cinode.resourceAggregationAddress" .ctx | quote }}
- name: MARKET_PEER_TIMEOUT_MS
  value: {{ $s.marketPeerTimeoutMs | quote }}
- name: ORDER_CANDIDATE_MAX_AGE_SECONDS
  value: {{ $s.orderCandidateMaxAgeSeconds | quote }}
- name: ORDER_HOLD_TTL_SECONDS
  value: {{ $s.orderHoldTtlSeconds | quote }}
- name: ORDER_RECOVERY_AFTER_SECONDS
  value: {{ $s.orderRecoveryAfterSeconds | quote }}
{{- end -}}

{{- define "cinode.egress.service-center" -}}
{{- range $component, $key := dict "compute-selection" "computeSelection" "resource-aggregation" "resourceAggregation" }}
{{- $values := index $.ctx.Values $key }}
{{- if $values.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" $.ctx "component" $component) | nindent 10 }}
  ports:
    - port: {{ $values.grpcPort }}
      protocol: TCP
{{- end }}
{{- end }}
{{- end -}}

{{/*
Data of the chart-managed service-center secret (JSON: key -> plain text), for the keys that do not
come from an existingSecret: the value when given, else the live secret's (so a generated key is
kept across upgrades), else a new random one. The result is cached in the render (under .Values,
which every template shares) so the secret and its hook copy always agree. Args: the root context.
*/}}
{{- define "cinode.serviceCenter.secretData" -}}
{{- if not (hasKey .Values "__cinodeServiceCenterSecretData") -}}
{{- $s := .Values.serviceCenter.settings -}}
{{- $live := (lookup "v1" "Secret" .Release.Namespace (include "cinode.serviceCenterSecretName" .)).data | default dict -}}
{{- $data := dict -}}
{{- with $s.signingKeyEncryptionKey -}}
{{- if not .existingSecret -}}
{{- /* randBytes: base64 of 32 bytes from crypto/rand, exactly the AES-256 key the service expects. */ -}}
{{- $_ := set $data "signing-key-encryption-key" (.value | default ($live | dig "signing-key-encryption-key" "" | b64dec) | default (randBytes 32)) -}}
{{- end -}}
{{- end -}}
{{- with $s.operatorBootstrapKey -}}
{{- if not .existingSecret -}}
{{- $_ := set $data "operator-bootstrap-key" (.value | default ($live | dig "operator-bootstrap-key" "" | b64dec) | default (printf "cin_%s_%s" (randAlphaNum 8) (randAlphaNum 32))) -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "__cinodeServiceCenterSecretData" $data -}}
{{- end -}}
{{- index .Values "__cinodeServiceCenterSecretData" | toJson -}}
{{- end -}}

{{/* ---- identifier ------------------------------------------------------------------------ */}}

{{- define "cinode.env.identifier" -}}
{{- $ctx := .ctx -}}
{{- $n := $ctx.Values.node -}}
{{- if ne (empty $n.code) (empty $n.identifierPrefix) -}}
{{- fail "node.code and node.identifierPrefix: set both (a node registered already) or neither" -}}
{{- end -}}
{{- if and $n.code (not (hasSuffix (printf ".%s" $n.code) $n.identifierPrefix)) -}}
{{- fail (printf "node.identifierPrefix %q must end with \".%s\" (node.code)" $n.identifierPrefix $n.code) -}}
{{- end -}}
{{- /* --set makes a number of 310000; the schema allows that, the service wants the string. */ -}}
{{- $regionCode := $n.regionCode -}}
{{- if and $regionCode (not (kindIs "string" $regionCode)) -}}
{{- $regionCode = printf "%d" (int64 $regionCode) -}}
{{- end -}}
- name: NATIONAL_NODE_ADDRESS
  value: {{ include "cinode.nationalNodeAddress" $ctx | required "identifier: set nationalNode.endpoint (or nationalNodeMock.enabled for a test install)" | quote }}
- name: NODE_KEY
  value: {{ $n.key | default (printf "%s-%s" $ctx.Release.Namespace $ctx.Release.Name) | quote }}
- name: NODE_NAME
  value: {{ required "identifier: node.name is required" $n.name | quote }}
- name: NODE_TYPE
  value: {{ $n.type | quote }}
- name: NODE_REGION_CODE
  value: {{ required "identifier: node.regionCode is required (six digits, e.g. 310000)" $regionCode | quote }}
- name: NODE_OPERATOR_NAME
  value: {{ required "identifier: node.operatorName is required" $n.operatorName | quote }}
{{- with $ctx.Values.nationalNode.audience }}
- name: NATIONAL_NODE_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- if $n.code }}
- name: NODE_CODE
  value: {{ $n.code | quote }}
- name: IDENTIFIER_PREFIX
  value: {{ $n.identifierPrefix | quote }}
{{- end }}
{{- include "cinode.nationalNodeTlsEnv" . }}
{{- end -}}

{{/*
How the identifier and reporting call a national node outside the cluster (NATIONAL_NODE_TLS*): TLS
per nationalNode.tls.enabled, with a CA and client certificate of its own (mounted by
cinode.serviceVolumes; not in the migration Job, which calls nothing). The in-cluster mock is called
like the node's own services, with GRPC_CLIENT_TLS_* (no NATIONAL_NODE_TLS_* at all). Args: ctx,
migration.
*/}}
{{- define "cinode.nationalNodeTlsEnv" -}}
{{- $ctx := .ctx -}}
{{- with $ctx.Values.nationalNode.endpoint }}
{{- $t := $ctx.Values.nationalNode.tls }}
- name: NATIONAL_NODE_TLS
  value: {{ $t.enabled | quote }}
{{- if and (include "cinode.nationalNodeTlsSecret" $ctx) (not $.migration) }}
- name: NATIONAL_NODE_TLS_CA_FILE
  value: /etc/cinode/national-node-tls/ca.crt
{{- if $t.mtls }}
- name: NATIONAL_NODE_TLS_CERT_FILE
  value: /etc/cinode/national-node-tls/tls.crt
- name: NATIONAL_NODE_TLS_KEY_FILE
  value: /etc/cinode/national-node-tls/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The secret with the national node's CA (and this node's client certificate for it), when the
identifier calls a national node outside the cluster over TLS with one; else "". Args: the root
context.
*/}}
{{- define "cinode.nationalNodeTlsSecret" -}}
{{- $n := .Values.nationalNode -}}
{{- if and $n.tls.mtls (not $n.tls.existingSecret) -}}
{{- fail "nationalNode.tls.mtls needs nationalNode.tls.existingSecret (with tls.crt and tls.key)" -}}
{{- end -}}
{{- if and $n.tls.existingSecret (not $n.tls.enabled) -}}
{{- fail "nationalNode.tls.existingSecret is set but nationalNode.tls.enabled is false: unset one" -}}
{{- end -}}
{{- if and $n.endpoint $n.tls.enabled $n.tls.existingSecret -}}
{{- $n.tls.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The national node outside the cluster: its port to networkPolicy.nationalNodePeers (any destination
when empty). The in-cluster mock is a release pod, reachable already.
*/}}
{{- define "cinode.egress.identifier" -}}
{{- $v := .ctx.Values -}}
{{- with $v.nationalNode.endpoint }}
{{- $port := regexFind ":[0-9]+$" . | trimPrefix ":" }}
- ports:
    {{- if $port }}
    - port: {{ int $port }}
      protocol: TCP
    {{- else }}
    {{- fail (printf "nationalNode.endpoint %q: expected host:port" .) }}
    {{- end }}
  {{- with $v.networkPolicy.nationalNodePeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
Volumes (and their mounts) a service needs beyond the shared ones of cinode.volumes: the national
node TLS secret of the services calling the national node (the identifier, reporting). Not in the
migration Job, which calls nothing. Args: ctx, component, migration.
*/}}
{{- define "cinode.callsNationalNode" -}}
{{- if has .component (list "identifier" "reporting") }}true{{ end -}}
{{- end -}}

{{- define "cinode.serviceVolumes" -}}
{{- if and (include "cinode.callsNationalNode" .) (not .migration) }}
{{- with include "cinode.nationalNodeTlsSecret" .ctx }}
- name: national-node-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end -}}

{{- define "cinode.serviceVolumeMounts" -}}
{{- if and (include "cinode.callsNationalNode" .) (not .migration) (include "cinode.nationalNodeTlsSecret" .ctx) }}
- name: national-node-tls
  mountPath: /etc/cinode/national-node-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* ---- national-node-mock ---------------------------------------------------------------- */}}

{{- define "cinode.env.national-node-mock" -}}
{{- /* The mock is the national node: it expects the audience the identifier sends it. */}}
{{- with .ctx.Values.nationalNode.audience }}
- name: AUTH_JWT_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "cinode.egress.national-node-mock" -}}
{{- end -}}

{{/* ---- resource-aggregation -------------------------------------------------------------- */}}

{{- /* It issues every pool's identifier at the identifier service (required: cinode.checkCalls). */}}
{{- define "cinode.env.resource-aggregation" -}}
{{- $ctx := .ctx -}}
{{- $s := $ctx.Values.resourceAggregation.settings -}}
{{- if le (int $s.poolOfflineAfterSeconds) (int $s.poolStaleAfterSeconds) -}}
{{- fail (printf "resourceAggregation.settings.poolOfflineAfterSeconds (%v) must be above resourceAggregation.settings.poolStaleAfterSeconds (%v): a silent pool turns STALE first, then OFFLINE" $s.poolOfflineAfterSeconds $s.poolStaleAfterSeconds) -}}
{{- end }}
- name: IDENTIFIER_ADDRESS
  value: {{ include "cinode.identifierAddress" $ctx | quote }}
- name: POOL_STALE_AFTER_SECONDS
  value: {{ $s.poolStaleAfterSeconds | quote }}
- name: POOL_OFFLINE_AFTER_SECONDS
  value: {{ $s.poolOfflineAfterSeconds | quote }}
- name: SWEEP_INTERVAL_MS
  value: {{ $s.sweepIntervalMs | quote }}
- name: HISTORY_RETENTION_DAYS
  value: {{ $s.historyRetentionDays | quote }}
- name: HOLD_DEFAULT_TTL_SECONDS
  value: {{ $s.holdDefaultTtlSeconds | quote }}
- name: ALLOCATION_START_TIMEOUT_SECONDS
  value: {{ $s.allocationStartTimeoutSeconds | quote }}
- name: ALLOCATION_STOP_GRACE_SECONDS
  value: {{ $s.allocationStopGraceSeconds | quote }}
{{- end -}}

{{- define "cinode.egress.resource-aggregation" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "identifier") | nindent 10 }}
  ports:
    - port: {{ .ctx.Values.identifier.grpcPort }}
      protocol: TCP
{{- end -}}

{{/* ---- compute-selection ----------------------------------------------------------------- */}}

{{- /* It builds its index from resource aggregation's pools, and issues line identifiers at the
identifier service (both required: cinode.checkCalls). */}}
{{- define "cinode.env.compute-selection" -}}
{{- $ctx := .ctx -}}
{{- $s := $ctx.Values.computeSelection.settings }}
- name: RESOURCE_AGGREGATION_ADDRESS
  value: {{ include "cinode.resourceAggregationAddress" $ctx | quote }}
- name: IDENTIFIER_ADDRESS
  value: {{ include "cinode.identifierAddress" $ctx | quote }}
- name: LATENCY_SAME_REGION_MS
  value: {{ $s.latencySameRegionMs | quote }}
- name: LATENCY_SAME_PROVINCE_MS
  value: {{ $s.latencySameProvinceMs | quote }}
- name: LATENCY_DEFAULT_MS
  value: {{ $s.latencyDefaultMs | quote }}
- name: HEAP_GROWING_PERCENT
  value: {{ $s.heapGrowingPercent | quote }}
- name: SELECT_ANSWER_CACHE_SIZE
  value: {{ $s.selectAnswerCacheSize | quote }}
- name: MAX_LINES_PER_PROVIDER
  value: {{ $s.maxLinesPerProvider | quote }}
- name: LINE_HOLD_SWEEP_INTERVAL_MS
  value: {{ $s.lineHoldSweepIntervalMs | quote }}
{{- with $s.latencyProvinceMatrix }}
- name: LATENCY_PROVINCE_MATRIX
  value: {{ toJson . | quote }}
{{- end }}
{{- end -}}

{{- define "cinode.egress.compute-selection" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "resource-aggregation") | nindent 10 }}
  ports:
    - port: {{ .ctx.Values.resourceAggregation.grpcPort }}
      protocol: TCP
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "identifier") | nindent 10 }}
  ports:
    - port: {{ .ctx.Values.identifier.grpcPort }}
      protocol: TCP
{{- end -}}

{{/* ---- reporting ------------------------------------------------------------------------- */}}

{{- /* It registers the node (node.*, as the identifier does) and its report-signing key with the
national node and sends it the daily report, built from resource aggregation's compute map and the
security service's attack events (both required: cinode.checkCalls). */}}
{{- define "cinode.env.reporting" -}}
{{- $ctx := .ctx -}}
{{- $n := $ctx.Values.node -}}
{{- $s := $ctx.Values.reporting.settings -}}
{{- $regionCode := $n.regionCode -}}
{{- if and $regionCode (not (kindIs "string" $regionCode)) -}}
{{- $regionCode = printf "%d" (int64 $regionCode) -}}
{{- end -}}
- name: NATIONAL_NODE_ADDRESS
  value: {{ include "cinode.nationalNodeAddress" $ctx | required "reporting: set nationalNode.endpoint (or nationalNodeMock.enabled for a test install)" | quote }}
- name: RESOURCE_AGGREGATION_ADDRESS
  value: {{ include "cinode.resourceAggregationAddress" $ctx | quote }}
- name: SECURITY_ADDRESS
  value: {{ include "cinode.securityAddress" $ctx | quote }}
- name: NODE_KEY
  value: {{ $n.key | default (printf "%s-%s" $ctx.Release.Namespace $ctx.Release.Name) | quote }}
- name: NODE_NAME
  value: {{ required "reporting: node.name is required" $n.name | quote }}
- name: NODE_TYPE
  value: {{ $n.type | quote }}
- name: NODE_REGION_CODE
  value: {{ required "reporting: node.regionCode is required (six digits, e.g. 310000)" $regionCode | quote }}
- name: NODE_OPERATOR_NAME
  value: {{ required "reporting: node.operatorName is required" $n.operatorName | quote }}
{{- with $ctx.Values.nationalNode.audience }}
- name: NATIONAL_NODE_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- include "cinode.nationalNodeTlsEnv" . }}
- name: REPORT_WINDOW
  value: {{ $s.window | quote }}
- name: REPORT_CATCH_UP_WINDOWS
  value: {{ $s.catchUpWindows | quote }}
- name: REPORT_BASE_INFO_JSON
  value: {{ required "reporting: set reporting.settings.baseInformation, the base information of the node's reports (organization_name, city, ...; see the chart's README.md), or reporting.enabled=false" (empty $s.baseInformation | ternary "" (toJson $s.baseInformation)) | quote }}
{{ include "cinode.secretEnv" (dict "name" "REPORT_KEY_ENCRYPTION_KEY" "existingSecret" $s.keyEncryptionKey.existingSecret "existingSecretKey" $s.keyEncryptionKey.existingSecretKey "managed" (include "cinode.reportingSecretName" $ctx) "managedKey" "report-key-encryption-key" "migration" .migration) }}
{{- end -}}

{{/*
Data of the chart-managed reporting secret, as cinode.serviceCenter.secretData: the key encrypting
the report-signing key at rest, from its value, else the live secret's, else new (base64 of 32
random bytes); nothing when it comes from an existingSecret. Args: the root context.
*/}}
{{- define "cinode.reporting.secretData" -}}
{{- if not (hasKey .Values "__cinodeReportingSecretData") -}}
{{- $live := (lookup "v1" "Secret" .Release.Namespace (include "cinode.reportingSecretName" .)).data | default dict -}}
{{- $data := dict -}}
{{- with .Values.reporting.settings.keyEncryptionKey -}}
{{- if not .existingSecret -}}
{{- $_ := set $data "report-key-encryption-key" (.value | default ($live | dig "report-key-encryption-key" "" | b64dec) | default (randBytes 32)) -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "__cinodeReportingSecretData" $data -}}
{{- end -}}
{{- index .Values "__cinodeReportingSecretData" | toJson -}}
{{- end -}}

{{/* Resource aggregation and security in the release; the national node outside it as the identifier
reaches it. */}}
{{- define "cinode.egress.reporting" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "resource-aggregation") | nindent 10 }}
  ports:
    - port: {{ int .ctx.Values.resourceAggregation.grpcPort }}
      protocol: TCP
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "security") | nindent 10 }}
  ports:
    - port: {{ int .ctx.Values.security.grpcPort }}
      protocol: TCP
{{ include "cinode.egress.identifier" . }}
{{- end -}}

{{/* ---- runtime-monitoring -------------------------------------------------------------------- */}}

{{- /* It reads every enabled service's metrics endpoint (in-cluster, through the release-wide
egress rule; each service admits it on its metrics port in cinode.service.networkpolicy). */}}
{{- define "cinode.env.runtime-monitoring" -}}
{{- $ctx := .ctx -}}
{{- $s := $ctx.Values.runtimeMonitoring.settings -}}
{{- $targets := list -}}
{{- range $component := include "cinode.components" $ctx | trim | splitList "\n" -}}
{{- $values := index $ctx.Values (include "cinode.valuesKey" $component) -}}
{{- if $values.enabled -}}
{{- $targets = append $targets (printf "%s=http://%s:%d/metrics" $component (include "cinode.componentName" (dict "ctx" $ctx "component" $component)) (int $values.metricsPort)) -}}
{{- end -}}
{{- end }}
- name: SCRAPE_TARGETS
  value: {{ join "," $targets | quote }}
- name: SCRAPE_INTERVAL_MS
  value: {{ $s.scrapeIntervalMs | quote }}
- name: SAMPLE_INTERVAL_MS
  value: {{ $s.sampleIntervalMs | quote }}
- name: ROLLUP_INTERVAL_MS
  value: {{ $s.rollupIntervalMs | quote }}
- name: ALERT_EVAL_INTERVAL_MS
  value: {{ $s.alertEvalIntervalMs | quote }}
- name: MINUTE_RETENTION_DAYS
  value: {{ $s.retention.minuteDays | quote }}
- name: HOUR_RETENTION_DAYS
  value: {{ $s.retention.hourDays | quote }}
- name: DAY_RETENTION_DAYS
  value: {{ $s.retention.dayDays | quote }}
- name: FEED_RETENTION_DAYS
  value: {{ $s.retention.feedDays | quote }}
- name: ALERT_RULES_JSON
  value: {{ toJson (default (list) $s.alertRules) | quote }}
{{- end -}}

{{- define "cinode.egress.runtime-monitoring" -}}
{{- end -}}

{{/* ---- security ------------------------------------------------------------------------------ */}}

{{- /* It fills its projections of participants and pools from the service center and resource
aggregation (both required: cinode.checkCalls). Risk and quarantines leave it by events and the
quarantine bucket on NATS, so no other service is given its address but reporting. */}}
{{- define "cinode.env.security" -}}
{{- $ctx := .ctx -}}
- name: SERVICE_CENTER_ADDRESS
  value: {{ include "cinode.jwksAddress" $ctx | required "security: serviceCenter.enabled is required" | quote }}
- name: RESOURCE_AGGREGATION_ADDRESS
  value: {{ include "cinode.resourceAggregationAddress" $ctx | quote }}
{{- end -}}

{{/* The service center and resource aggregation (the projections' backfill); posture checks reach
participants' endpoints outside the cluster, on any port. */}}
{{- define "cinode.egress.security" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "service-center") | nindent 10 }}
  ports:
    - port: {{ int .ctx.Values.serviceCenter.grpcPort }}
      protocol: TCP
- to:
    - podSelector:
        matchLabels:
          {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "resource-aggregation") | nindent 10 }}
  ports:
    - port: {{ int .ctx.Values.resourceAggregation.grpcPort }}
      protocol: TCP
- to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
          - 10.0.0.0/8
          - 172.16.0.0/12
          - 192.168.0.0/16
          - 169.254.0.0/16
          - 100.64.0.0/10
{{- end -}}
