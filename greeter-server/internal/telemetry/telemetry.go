// Package telemetry sets up greeter-server's OpenTelemetry tracing from the
// standard OTEL_* environment variables, the way every OpenTelemetry SDK is
// configured, and gives package serve what it needs: a gRPC stats handler
// that makes one span per call (otelgrpc), a log handler that adds the
// call's trace_id and span_id to every log line made while a traced call
// runs, and a flush for shutdown.
//
// Tracing is on when the environment asks for it (see Enabled): with no
// OTEL_* variable set there is no tracer provider, no exporter and no
// connection, and the server runs exactly as without this package.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Enabled reports whether the environment turns tracing on. The rule:
//
//   - OTEL_SDK_DISABLED=true turns it off, whatever else is set;
//   - OTEL_TRACES_EXPORTER=none turns it off;
//   - OTEL_TRACES_EXPORTER set to anything else (otlp, console) turns it on;
//   - unset, OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
//     turns it on, exporting over OTLP there;
//   - otherwise it is off.
//
// The OpenTelemetry specification makes "otlp" the default exporter; the
// server does not export by default, because a process that dials
// localhost:4318 on every start whether or not a collector is there is a
// surprise, and tracing has a cost. Setting an endpoint is the opt-in.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	switch exporters := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exporters {
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	case "none":
		return false
	default:
		return true
	}
}

// Tracing is a running tracer provider and the propagator calls use.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// FromEnv returns the tracing the environment asks for, or nil when
// Enabled(getenv) is false. getenv decides only whether tracing is on; the
// SDK and its exporters read the rest of their OTEL_* variables (endpoint,
// headers, sampler, batch delays) from the process environment themselves.
// service and version name this process when OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES do not.
func FromEnv(ctx context.Context, getenv func(string) string, service, version string) (*Tracing, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	names := strings.Split(getenv("OTEL_TRACES_EXPORTER"), ",")
	if strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")) == "" {
		names = []string{"otlp"}
	}
	var opts []sdktrace.TracerProviderOption
	for _, name := range names {
		exp, err := newExporter(ctx, strings.TrimSpace(name), getenv)
		if err != nil {
			return nil, err
		}
		if exp != nil {
			opts = append(opts, sdktrace.WithBatcher(exp))
		}
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(
			attribute.String("service.name", service),
			attribute.String("service.version", version)),
		resource.WithTelemetrySDK(),
		// Last, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return New(append(opts, sdktrace.WithResource(res))...), nil
}

// New returns tracing with a tracer provider made from opts (exporters,
// resource, sampler), and the propagators OTEL_PROPAGATORS names (default:
// W3C tracecontext and baggage). Without sdktrace.WithSampler, the sampler
// is the one OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (default:
// parentbased_always_on). Tests and benchmarks call it with an exporter of
// their own.
func New(opts ...sdktrace.TracerProviderOption) *Tracing {
	return &Tracing{
		provider:   sdktrace.NewTracerProvider(opts...),
		propagator: autoprop.NewTextMapPropagator(),
	}
}

// newExporter returns the span exporter OTEL_TRACES_EXPORTER names: otlp,
// over the protocol OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL names (http/protobuf by default, as the
// specification says, or grpc), or console (spans as JSON on stderr, for
// debugging). "none" in a list adds nothing.
func newExporter(ctx context.Context, name string, getenv func(string) string) (sdktrace.SpanExporter, error) {
	switch name {
	case "otlp":
		protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if protocol == "" {
			protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		switch protocol {
		case "", "http/protobuf":
			return otlptracehttp.New(ctx)
		case "grpc":
			return otlptracegrpc.New(ctx)
		default:
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported: want grpc or http/protobuf", protocol)
		}
	case "console":
		return stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
	case "none", "":
		return nil, nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q is not supported: want otlp, console or none", name)
	}
}

// ServerOption returns the grpc.StatsHandler that traces every call but
// those of the health service: one span per call, unary and streaming, a
// child of the caller's span when the call carries trace context. Health
// checks (Kubernetes probes, client-side health watching) would otherwise
// fill the traces with noise.
func (t *Tracing) ServerOption() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.provider),
		otelgrpc.WithPropagators(t.propagator),
		// Metrics come from Prometheus (package observe), not from OTel.
		otelgrpc.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelgrpc.WithFilter(notHealth)))
}

// healthService is the prefix of the gRPC health service's methods.
const healthService = "/grpc.health.v1.Health/"

func notHealth(info *stats.RPCTagInfo) bool {
	return !strings.HasPrefix(info.FullMethodName, healthService)
}

// Shutdown exports the spans still buffered and stops the tracer provider.
// ctx bounds how long it may take. It does nothing on a nil Tracing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// LogHandler wraps h so that every record logged with a context that
// carries a sampled span of this process gets that span's trace_id and
// span_id attributes, which join the log line to its trace. Records logged
// without a context, in a call that is not sampled, or in one only the
// caller traced (health checks), are passed on unchanged: those ids lead to
// no span of this server.
func LogHandler(h slog.Handler) slog.Handler {
	return traceHandler{h}
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if span := trace.SpanFromContext(ctx); span.IsRecording() && span.SpanContext().IsSampled() {
		sc := span.SpanContext()
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
