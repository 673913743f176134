{{/*
Pod building blocks shared by Deployments and hook Jobs.
Each takes (dict "root" $ "svc" <catalog entry> "values" <service values>).
*/}}

{{/* Environment every process of every service reads. */}}
{{- define "tangible.env.common" -}}
{{- $v := .root.Values -}}
{{- $k := $v.kafka }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $k.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ $k.topicPrefix | quote }}
# topics (and dead-letter topics) are provisioned by the topics Job, Strimzi or the platform
- name: KAFKA_CREATE_TOPICS
  value: "false"
- name: KAFKA_REPLICATION_FACTOR
  value: {{ $k.replicationFactor | quote }}
- name: KAFKA_STARTUP_WAIT_SECONDS
  value: {{ $k.startupWaitSeconds | int | quote }}
{{- if $k.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
{{- if $k.sasl.usernameKey }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.usernameKey }}
{{- else }}
- name: KAFKA_SASL_USERNAME
  value: {{ $k.sasl.username | quote }}
{{- end }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.passwordKey }}
{{- end }}
{{- if or $k.tls.caSecret $k.tls.caConfigMap }}
- name: KAFKA_SSL_CAFILE
  value: /etc/tangible/kafka/ca.crt
{{- end }}
- name: LOG_LEVEL
  value: {{ $v.telemetry.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ $v.telemetry.logFormat | quote }}
- name: OTEL_TRACES_EXPORTER
  value: {{ $v.telemetry.traces.exporter | quote }}
{{- with $v.telemetry.traces.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Environment of one service's processes (database, port, auth, service-specific). */}}
{{- define "tangible.env.service" -}}
{{- $v := .root.Values -}}
{{- $p := .svc.envPrefix -}}
{{- include "tangible.env.common" . }}
- name: {{ $p }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "services.%s.database.existingSecret is required" .key) .values.database.existingSecret }}
      key: {{ .values.database.key }}
- name: {{ $p }}_HOST
  value: "0.0.0.0"
- name: {{ $p }}_PORT
  value: {{ .values.port | int | quote }}
- name: TANGIBLE_AUTH_PUBLIC_KEY
  value: /etc/tangible/auth/public.pem
- name: TANGIBLE_AUTH_ISSUER
  value: {{ $v.auth.issuer | quote }}
{{- with $v.cors.allowedOrigins }}
- name: TANGIBLE_CORS_ALLOWED_ORIGINS
  value: {{ join "," . | quote }}
{{- end }}
{{- if eq .svc.name "notifications" }}
- name: NOTIFICATIONS_SECRETS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "services.notifications.secretsKey.existingSecret is required" .values.secretsKey.existingSecret }}
      key: {{ .values.secretsKey.key }}
{{- with .values.smtp }}
{{- if .host }}
- name: NOTIFICATIONS_SMTP_HOST
  value: {{ .host | quote }}
- name: NOTIFICATIONS_SMTP_PORT
  value: {{ .port | int | quote }}
- name: NOTIFICATIONS_SMTP_STARTTLS
  value: {{ .startTLS | quote }}
{{- with .username }}
- name: NOTIFICATIONS_SMTP_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if .existingSecret }}
- name: NOTIFICATIONS_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $name, $value := .values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Volumes: a writable /tmp, the Kafka CA (if any), the token public key (services only). */}}
{{- define "tangible.volumes" -}}
{{- $v := .root.Values }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $v.pod.tmpSizeLimit }}
{{- if $v.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.tls.caSecret }}
    items:
      - key: {{ $v.kafka.tls.caKey }}
        path: ca.crt
{{- else if $v.kafka.tls.caConfigMap }}
- name: kafka-ca
  configMap:
    name: {{ $v.kafka.tls.caConfigMap }}
    items:
      - key: {{ $v.kafka.tls.caKey }}
        path: ca.crt
{{- end }}
{{- if .svc }}
- name: auth
  secret:
    secretName: {{ required "auth.publicKey.existingSecret is required" $v.auth.publicKey.existingSecret }}
    items:
      - key: {{ $v.auth.publicKey.key }}
        path: public.pem
{{- end }}
{{- end -}}

{{- define "tangible.volumeMounts" -}}
{{- $v := .root.Values }}
- name: tmp
  mountPath: /tmp
{{- if or $v.kafka.tls.caSecret $v.kafka.tls.caConfigMap }}
- name: kafka-ca
  mountPath: /etc/tangible/kafka
  readOnly: true
{{- end }}
{{- if .svc }}
- name: auth
  mountPath: /etc/tangible/auth
  readOnly: true
{{- end }}
{{- end -}}

{{/* Hardening that is not configurable: non-root, read-only root filesystem, no capabilities. */}}
{{- define "tangible.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.pod.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.pod.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- with .Values.pod.fsGroup }}
fsGroup: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tangible.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Fields common to every pod spec: account, pull secrets, security. */}}
{{- define "tangible.podCommon" -}}
serviceAccountName: {{ .serviceAccountName }}
automountServiceAccountToken: {{ .root.Values.serviceAccount.automountToken }}
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  {{- include "tangible.podSecurityContext" .root | nindent 2 }}
{{- end -}}

{{- define "tangible.scrapeAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | int | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* NetworkPolicy helpers: a list of TCP ports; an egress rule {to, ports} (empty `to`: any destination). */}}
{{- define "tangible.np.ports" -}}
{{- range . }}
- port: {{ . }}
  protocol: TCP
{{- end }}
{{- end -}}
{{- define "tangible.np.egressRule" -}}
{{- if .to }}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    {{- include "tangible.np.ports" .ports | trim | nindent 4 }}
{{- else }}
- ports:
    {{- include "tangible.np.ports" .ports | trim | nindent 4 }}
{{- end }}
{{- end -}}
