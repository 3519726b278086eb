{{/*
Per-service resources. Each `templates/<service>/<service>-<kind>.yaml` is one include of these,
with `(dict "ctx" $ "component" "<service>")`; everything that differs between services lives in
the service's values block. A helper renders nothing when its service (or feature) is disabled.
*/}}

{{- define "cinode.service.deployment" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- if $values.enabled }}
{{- $ctx := .ctx }}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" .component "name" (include "cinode.componentName" .)) | nindent 2 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
  selector:
    matchLabels:
      {{- include "cinode.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "cinode.labels" . | nindent 8 }}
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- /* Roll the pods when a chart-managed secret they read changes. */}}
        checksum/secrets: {{ include (print $ctx.Template.BasePath "/secrets.yaml") $ctx | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "cinode.serviceAccountName" $ctx }}
      automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountServiceAccountToken }}
      enableServiceLinks: false
      {{- with include "cinode.imagePullSecrets" $ctx }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- include "cinode.podSecurityContext" $ctx | nindent 8 }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- if $values.topologySpreadConstraints }}
        {{- range $values.topologySpreadConstraints }}
        {{- $c := deepCopy . }}
        {{- if not $c.labelSelector }}
        {{- $_ := set $c "labelSelector" (dict "matchLabels" (include "cinode.selectorLabels" (dict "ctx" $ctx "component" $.component) | fromYaml)) }}
        {{- end }}
        - {{- toYaml $c | nindent 10 }}
        {{- end }}
        {{- else }}
        {{- /* Spread replicas over nodes when the scheduler can; never block scheduling for it. */}}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" . | nindent 14 }}
        {{- end }}
      {{- if and $ctx.Values.postgresql.bundled.enabled (not $values.database.existingSecret) }}
      {{- $pg := $ctx.Values.postgresql.bundled }}
      initContainers:
        {{- /* Bundled PostgreSQL only: wait for the server and create this service's database, so a
               service added in a later upgrade gets its database too. */}}
        - name: create-database
          image: {{ include "cinode.image" (dict "image" $pg.image "ctx" $ctx) }}
          imagePullPolicy: {{ $pg.image.pullPolicy }}
          command:
            - sh
            - -ec
            - |
              until pg_isready -q; do echo "waiting for $PGHOST"; sleep 2; done
              exists() { psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; }
              exists || psql -c "CREATE DATABASE \"$DB_NAME\"" || exists
          env:
            - name: PGHOST
              value: {{ include "cinode.postgresql.fullname" $ctx }}
            - name: PGUSER
              value: {{ $pg.auth.username | quote }}
            - name: PGDATABASE
              value: postgres
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ $pg.auth.existingSecret | default (include "cinode.postgresql.fullname" $ctx) }}
                  key: password
            - name: DB_NAME
              value: {{ $values.database.name | quote }}
            - name: HOME
              value: /tmp
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              memory: 64Mi
          securityContext:
            {{- include "cinode.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "cinode.image" (dict "image" $ctx.Values.image "ctx" $ctx) }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command:
            {{- include "cinode.command" . | nindent 12 }}
          ports:
            - name: grpc
              containerPort: {{ $values.grpcPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ $values.metricsPort }}
              protocol: TCP
          env:
            {{- include "cinode.env" (dict "ctx" $ctx "component" .component "migration" false) | nindent 12 }}
          {{- with $ctx.Values.extraEnvFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- include "cinode.probes" . | trim | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "cinode.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            {{- include "cinode.volumeMounts" (dict "ctx" $ctx "component" .component "migration" false) | nindent 12 }}
      volumes:
        {{- include "cinode.volumes" (dict "ctx" $ctx "component" .component "migration" false) | nindent 8 }}
{{- end }}
{{- end -}}

{{- define "cinode.service.service" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- if $values.enabled }}
apiVersion: v1
kind: Service
metadata:
  {{- include "cinode.metadata" (dict "ctx" .ctx "component" .component "name" (include "cinode.componentName" .) "annotations" $values.service.annotations) | nindent 2 }}
spec:
  type: {{ $values.service.type }}
  selector:
    {{- include "cinode.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $values.grpcPort }}
      targetPort: grpc
      protocol: TCP
      {{- /* Lets meshes and gateways pick HTTP/2 without sniffing. */}}
      appProtocol: {{ .ctx.Values.tls.enabled | ternary "grpc" "kubernetes.io/h2c" }}
    - name: metrics
      port: {{ $values.metricsPort }}
      targetPort: metrics
      protocol: TCP
      appProtocol: http
{{- end }}
{{- end -}}

{{- define "cinode.service.pdb" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- if and $values.enabled $values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "cinode.metadata" (dict "ctx" .ctx "component" .component "name" (include "cinode.componentName" .)) | nindent 2 }}
spec:
  maxUnavailable: {{ $values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "cinode.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "cinode.service.hpa" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- $hpa := $values.autoscaling -}}
{{- if and $values.enabled $hpa.enabled }}
{{- if not (or $hpa.targetCPUUtilizationPercentage $hpa.targetMemoryUtilizationPercentage) }}
{{- fail (printf "%s.autoscaling: set a CPU or memory target" (include "cinode.valuesKey" .component)) }}
{{- end }}
{{- if gt (int $hpa.minReplicas) (int $hpa.maxReplicas) }}
{{- fail (printf "%s.autoscaling: minReplicas > maxReplicas" (include "cinode.valuesKey" .component)) }}
{{- end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "cinode.metadata" (dict "ctx" .ctx "component" .component "name" (include "cinode.componentName" .)) | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "cinode.componentName" . }}
  minReplicas: {{ $hpa.minReplicas }}
  maxReplicas: {{ $hpa.maxReplicas }}
  metrics:
    {{- range $resource, $target := dict "cpu" $hpa.targetCPUUtilizationPercentage "memory" $hpa.targetMemoryUtilizationPercentage }}
    {{- if $target }}
    - type: Resource
      resource:
        name: {{ $resource }}
        target:
          type: Utilization
          averageUtilization: {{ $target }}
    {{- end }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "cinode.service.servicemonitor" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- $sm := .ctx.Values.serviceMonitor -}}
{{- if and $values.enabled $sm.enabled $values.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  {{- $meta := include "cinode.metadata" (dict "ctx" .ctx "component" .component "name" (include "cinode.componentName" .)) | fromYaml }}
  {{- $_ := set $meta "labels" (merge (dict) $meta.labels $sm.labels) }}
  {{- toYaml $meta | nindent 2 }}
spec:
  selector:
    matchLabels:
      {{- include "cinode.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .ctx.Release.Namespace }}
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ $sm.interval }}
      scrapeTimeout: {{ $sm.scrapeTimeout }}
{{- end }}
{{- end -}}

{{/*
Migration hook Job: `main.js migrate` applies the service's migrations and exits. Runs before
install and upgrade, so new pods never meet an old schema; failed Jobs are kept for their logs.
*/}}
{{- define "cinode.service.migrationJob" -}}
{{- if include "cinode.migrationJobEnabled" . }}
{{- $ctx := .ctx }}
{{- $m := $ctx.Values.migrations }}
{{- $migration := dict "ctx" $ctx "component" (printf "%s-migration" .component) }}
apiVersion: batch/v1
kind: Job
metadata:
  {{- include "cinode.metadata" (dict "ctx" $ctx "component" $migration.component "name" (include "cinode.componentName" $migration) "annotations" (dict "helm.sh/hook" "pre-install,pre-upgrade" "helm.sh/hook-weight" "0" "helm.sh/hook-delete-policy" "before-hook-creation,hook-succeeded")) | nindent 2 }}
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  template:
    metadata:
      {{- /* Its own component label: the service's Service/PDB selectors must not match this pod. */}}
      labels:
        {{- include "cinode.labels" $migration | nindent 8 }}
    spec:
      restartPolicy: Never
      {{- with $m.serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with include "cinode.imagePullSecrets" $ctx }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- include "cinode.podSecurityContext" $ctx | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "cinode.image" (dict "image" $ctx.Values.image "ctx" $ctx) }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command:
            {{- include "cinode.command" . | nindent 12 }}
          args:
            - migrate
          env:
            {{- include "cinode.env" (dict "ctx" $ctx "component" .component "migration" true) | nindent 12 }}
          {{- with $ctx.Values.extraEnvFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- include "cinode.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            {{- include "cinode.volumeMounts" (dict "ctx" $ctx "component" .component "migration" true) | nindent 12 }}
      volumes:
        {{- include "cinode.volumes" (dict "ctx" $ctx "component" .component "migration" true) | nindent 8 }}
{{- end }}
{{- end -}}

{{/*
NetworkPolicy of a service: gRPC from anywhere (allowExternal) or only from this release's pods
(and, stated on their own, from the services that call it: cinode.calls), metrics from the selected
namespaces; egress open unless allowExternalEgress is false, and then DNS, this release's pods (the
service center's gRPC port stated explicitly), the service's own rules (`cinode.egress.<service>`,
e.g. the identifier's to the national node, compute selection's to resource aggregation) and
extraEgress. PostgreSQL and NATS: the bundled ones admit the release's pods
(networkpolicy-backing.yaml); external ones need networkPolicy.extraEgress.
*/}}
{{- define "cinode.service.networkpolicy" -}}
{{- $values := index .ctx.Values (include "cinode.valuesKey" .component) -}}
{{- $np := .ctx.Values.networkPolicy -}}
{{- if and $values.enabled $np.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "cinode.metadata" (dict "ctx" .ctx "component" .component "name" (include "cinode.componentName" .)) | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "cinode.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    {{- if not $np.allowExternalEgress }}
    - Egress
    {{- end }}
  ingress:
    - ports:
        - port: grpc
          protocol: TCP
      {{- if not $np.allowExternal }}
      from:
        - podSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "") | nindent 14 }}
      {{- end }}
    {{- /* The services calling this one, stated on their own so they outlive a narrower release-wide rule. */}}
    {{- $callers := include "cinode.callersOf" . | trim | splitList "\n" | compact | uniq }}
    {{- if and $callers (not $np.allowExternal) }}
    - ports:
        - port: grpc
          protocol: TCP
      from:
        {{- range $callers }}
        - podSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" (dict "ctx" $.ctx "component" .) | nindent 14 }}
        {{- end }}
    {{- end }}
    - ports:
        - port: metrics
          protocol: TCP
      from:
        - namespaceSelector:
            {{- toYaml $np.metricsNamespaceSelector | nindent 12 }}
    {{- /* Runtime monitoring reads every service's API counters and availability here. */}}
    {{- if .ctx.Values.runtimeMonitoring.enabled }}
    - ports:
        - port: metrics
          protocol: TCP
      from:
        - podSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "runtime-monitoring") | nindent 14 }}
    {{- end }}
    {{- with $np.extraIngress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if not $np.allowExternalEgress }}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    - to:
        - podSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "") | nindent 14 }}
    {{- /* Stated on its own so it outlives a narrower release-wide rule: the JWKS (AUTH_JWKS_ADDRESS). */}}
    {{- if and .ctx.Values.serviceCenter.enabled (ne .component "service-center") }}
    - to:
        - podSelector:
            matchLabels:
              {{- include "cinode.selectorLabels" (dict "ctx" .ctx "component" "service-center") | nindent 14 }}
      ports:
        - port: {{ .ctx.Values.serviceCenter.grpcPort }}
          protocol: TCP
    {{- end }}
    {{- with include (printf "cinode.egress.%s" .component) . | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end -}}
