{{- define "pushgw.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "pushgw.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "pushgw.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/* The port the daemon listens on, from config.listen, so the probes and the Service follow the config. */}}
{{- define "pushgw.port" -}}
{{- required "config.listen must end in :PORT" (regexFind "[0-9]+$" (toString .Values.config.listen)) -}}
{{- end -}}
