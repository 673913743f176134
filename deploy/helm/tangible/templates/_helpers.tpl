{{/*
Names, labels and the fixed facts about the image (which package and roles each service has).
*/}}

{{- define "tangible.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tangible.fullname" -}}
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

{{- define "tangible.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tangible.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tangible.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tangible.labels" -}}
helm.sh/chart: {{ include "tangible.chart" . }}
{{ include "tangible.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tangible
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The services the image contains. Fixed facts, not configuration: changing them means a new image.
*/}}
{{- define "tangible.catalog" -}}
usageIngest:
  name: usage-ingest
  package: tangible_ingest
  envPrefix: USAGE_INGEST
  roles: [api, scheduler]
entitlements:
  name: entitlements
  package: tangible_entitlements
  envPrefix: ENTITLEMENTS
  roles: [api, consumer, relay, scheduler]
rewards:
  name: rewards
  package: tangible_rewards
  envPrefix: REWARDS
  roles: [api, consumer, relay, scheduler]
notifications:
  name: notifications
  package: tangible_notifications
  envPrefix: NOTIFICATIONS
  roles: [api, consumer, relay, scheduler, delivery]
{{- end -}}

{{/*
Every enabled (service, role) pair as a list of contexts:
{key, svc (catalog entry), values (service values), role, roleValues, name (resource name)}.
Usage: {{- range (include "tangible.workloads" . | fromYamlArray) }}
*/}}
{{- define "tangible.workloads" -}}
{{- $catalog := include "tangible.catalog" . | fromYaml -}}
{{- $out := list -}}
{{- range $key := list "usageIngest" "entitlements" "rewards" "notifications" -}}
{{- $svc := get $catalog $key -}}
{{- $values := get $.Values.services $key -}}
{{- if $values.enabled -}}
{{- range $role := $svc.roles -}}
{{- $roleValues := get $values.roles $role -}}
{{- if $roleValues.enabled -}}
{{- $name := printf "%s-%s-%s" (include "tangible.fullname" $) $svc.name $role | trunc 63 | trimSuffix "-" -}}
{{- $out = append $out (dict "key" $key "svc" $svc "values" $values "role" $role "roleValues" $roleValues "name" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Enabled services: list of {key, svc, values}.
*/}}
{{- define "tangible.enabledServices" -}}
{{- $catalog := include "tangible.catalog" . | fromYaml -}}
{{- $out := list -}}
{{- range $key := list "usageIngest" "entitlements" "rewards" "notifications" -}}
{{- $values := get $.Values.services $key -}}
{{- if $values.enabled -}}
{{- $out = append $out (dict "key" $key "svc" (get $catalog $key) "values" $values) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Labels of one workload; call with (dict "root" $ "w" $workload). */}}
{{- define "tangible.workloadSelectorLabels" -}}
{{ include "tangible.selectorLabels" .root }}
app.kubernetes.io/component: {{ printf "%s-%s" .w.svc.name .w.role }}
tangible/service: {{ .w.svc.name }}
tangible/role: {{ .w.role }}
{{- end -}}

{{- define "tangible.workloadLabels" -}}
{{ include "tangible.labels" .root }}
app.kubernetes.io/component: {{ printf "%s-%s" .w.svc.name .w.role }}
tangible/service: {{ .w.svc.name }}
tangible/role: {{ .w.role }}
{{- end -}}

{{- define "tangible.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "tangible.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tangible.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount of hook Jobs: it must exist before the release's own resources do. */}}
{{- define "tangible.hookServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- printf "%s-hooks" (include "tangible.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Physical topic / group name: the prefix the services apply (KAFKA_TOPIC_PREFIX). */}}
{{- define "tangible.topic" -}}
{{- printf "%s%s" .root.Values.kafka.topicPrefix .name -}}
{{- end -}}

{{/* Partition count of a logical topic; fails on a topic missing from kafka.topics. */}}
{{- define "tangible.partitions" -}}
{{- $found := "" -}}
{{- range .root.Values.kafka.topics -}}
{{- if eq .name $.name -}}{{- $found = .partitions | toString -}}{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail (printf "topic %q is consumed by a consumer group but missing from kafka.topics" .name) -}}
{{- end -}}
{{- $found -}}
{{- end -}}

{{/*
Every topic to provision: kafka.topics plus one dead-letter topic per consumer group.
List of {name (logical), partitions, config}.
*/}}
{{- define "tangible.allTopics" -}}
{{- $out := list -}}
{{- range .Values.kafka.topics -}}
{{- $out = append $out (dict "name" .name "partitions" .partitions "config" (default dict .config)) -}}
{{- end -}}
{{- range $s := (include "tangible.enabledServices" . | fromYamlArray) -}}
{{- range $s.values.consumerGroups -}}
{{- $out = append $out (dict "name" (printf "tangible.dlq.%s" .name) "partitions" $.Values.kafka.deadLetterPartitions "config" $.Values.kafka.deadLetterConfig) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Fail early on settings that render fine but cannot work. */}}
{{- define "tangible.validate" -}}
{{- $k := .Values.kafka -}}
{{- if and (hasPrefix "SASL_" $k.securityProtocol) (not $k.sasl.mechanism) -}}
{{- fail "kafka.sasl.mechanism is required when kafka.securityProtocol is SASL_PLAINTEXT or SASL_SSL" -}}
{{- end -}}
{{- if and $k.sasl.mechanism (not $k.sasl.existingSecret) -}}
{{- fail "kafka.sasl.existingSecret (a Secret holding the SASL password) is required when kafka.sasl.mechanism is set" -}}
{{- end -}}
{{- if and $k.sasl.mechanism (not (or $k.sasl.username $k.sasl.usernameKey)) -}}
{{- fail "kafka.sasl.username or kafka.sasl.usernameKey is required when kafka.sasl.mechanism is set" -}}
{{- end -}}
{{- if and $k.tls.caSecret $k.tls.caConfigMap -}}
{{- fail "set at most one of kafka.tls.caSecret and kafka.tls.caConfigMap" -}}
{{- end -}}
{{- /* a restored database replays Kafka from its backup's position (docs/runbook.md) */ -}}
{{- $keep := mul (add $k.restore.backupIntervalHours $k.restore.restoreWindowHours) 3600000 -}}
{{- range $k.topics -}}
{{- $config := default dict .config -}}
{{- if ne (toString (index $config "cleanup.policy" | default "delete")) "compact" -}}
{{- $retention := index $config "retention.ms" -}}
{{- if or (not $retention) (and (ne (int64 $retention) -1) (lt (int64 $retention) (int64 $keep))) -}}
{{- fail (printf "kafka.topics %s: retention.ms must be at least kafka.restore.backupIntervalHours + restoreWindowHours (%d ms), or -1" .name (int64 $keep)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) -}}
{{- fail "ingress.tls.secretName is required when ingress.tls.enabled is true" -}}
{{- end -}}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) -}}
{{- fail "httpRoute.parentRefs is required when httpRoute.enabled is true" -}}
{{- end -}}
{{- end -}}
