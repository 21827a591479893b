// Package telemetry sets up greeter-client's OpenTelemetry tracing from the
// standard OTEL_* environment variables, the way every OpenTelemetry SDK is
// configured: a gRPC stats handler (otelgrpc) for every connection, which
// makes one client span per call and sends the call's W3C trace context to
// the server, and a flush for when the command ends.
//
// Tracing is on when the environment asks for it (see Enabled): with no
// OTEL_* variable set there is no tracer provider, no exporter and no
// connection, and the client runs exactly as without this package.
// greeter-server has a package of its own like this one; the two modules
// are versioned apart and cannot share it.
package telemetry

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

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
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// FlushTimeout bounds how long the client waits, when its command ends, for
// the spans it still holds to be exported.
const FlushTimeout = 5 * time.Second

// Enabled reports whether the environment turns tracing on. The rule, the
// same as greeter-server's:
//
//   - OTEL_SDK_DISABLED=true turns it off, whatever else is set;
//   - OTEL_TRACES_EXPORTER=none turns it off;
//   - OTEL_TRACES_EXPORTER set to anything else (otlp, console) turns it on;
//   - unset, OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
//     turns it on, exporting over OTLP there;
//   - otherwise it is off.
//
// The OpenTelemetry specification makes "otlp" the default exporter; the
// client does not export by default, so that a command run on a laptop
// never dials localhost:4318 unasked. Setting an endpoint is the opt-in.
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
// The service is named greeter-client unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise.
func FromEnv(ctx context.Context, getenv func(string) string) (*Tracing, error) {
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
	version := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(
			attribute.String("service.name", "greeter-client"),
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
// parentbased_always_on, which samples every call).
func New(opts ...sdktrace.TracerProviderOption) *Tracing {
	return &Tracing{
		provider:   sdktrace.NewTracerProvider(opts...),
		propagator: autoprop.NewTextMapPropagator(),
	}
}

// newExporter returns the span exporter OTEL_TRACES_EXPORTER names: otlp,
// over the protocol OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL names (http/protobuf by default, as the
// specification says, or grpc), or console (spans as JSON on stderr, so
// that stdout keeps only results). "none" in a list adds nothing.
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

// DialOption returns the grpc.WithStatsHandler that traces every call on a
// connection but health checks: one client span per call, unary and
// streaming, whose trace context goes to the server in the call's metadata
// (traceparent, and baggage). Health checks (the connection's own health
// watching) would otherwise add a span per connection that says nothing.
func (t *Tracing) DialOption() grpc.DialOption {
	return grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(t.provider),
		otelgrpc.WithPropagators(t.propagator),
		otelgrpc.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelgrpc.WithFilter(notHealth)))
}

// healthService is the prefix of the gRPC health service's methods.
const healthService = "/grpc.health.v1.Health/"

func notHealth(info *stats.RPCTagInfo) bool {
	return !strings.HasPrefix(info.FullMethodName, healthService)
}

// Shutdown exports the spans still buffered and stops the tracer provider,
// waiting at most FlushTimeout. It does nothing on a nil Tracing.
func (t *Tracing) Shutdown() error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
	defer cancel()
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}
