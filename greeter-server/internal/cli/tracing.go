package cli

// tracingHelp is the paragraph of --help on tracing.
const tracingHelp = `OpenTelemetry tracing is configured by the standard OTEL_* variables and is
off unless OTEL_TRACES_EXPORTER (otlp or console) or
OTEL_EXPORTER_OTLP_ENDPOINT is set; OTEL_SDK_DISABLED=true turns it off.
For example:

  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
  OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.01 \
  greeter-server

Each call (health checks aside) is then a span, a child of the caller's
span when the call carries W3C trace context; log lines made during a
sampled call carry its trace_id and span_id, and with --metrics-addr the
latency histograms carry its trace id as an OpenMetrics exemplar.`

// tracesExporter names the exporter tracing uses, for the log.
func tracesExporter(getenv func(string) string) string {
	if e := getenv("OTEL_TRACES_EXPORTER"); e != "" {
		return e
	}
	return "otlp"
}
