package root

// tracingHelp is the paragraph of --help on tracing.
const tracingHelp = `OpenTelemetry tracing is configured by the standard OTEL_* variables and is
off unless OTEL_TRACES_EXPORTER (otlp or console) or
OTEL_EXPORTER_OTLP_ENDPOINT is set (OTEL_SDK_DISABLED=true keeps it off).
Each call is then a client span whose W3C trace context goes to the server;
spans are exported before greeter-client exits. bench traces as the sampler
says: set OTEL_TRACES_SAMPLER=parentbased_traceidratio and
OTEL_TRACES_SAMPLER_ARG=0.01 for load.`
