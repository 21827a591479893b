package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/greeter-go/greeter/greeter-server/internal/cli"
)

// TestTracingFromEnv checks how the OTEL_* variables reach the server: no
// tracing without them; with them, tracing for serve and a logger whose
// lines made in a sampled span carry its ids; and a setting it cannot honour
// is an error, not silence.
func TestTracingFromEnv(t *testing.T) {
	t.Parallel()
	o, out, err := parse(t, nil, map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"})
	if err != nil || o.Config.Tracing != nil || strings.Contains(out, "tracing on") {
		t.Errorf("with no exporter or endpoint set: tracing %v, err %v, log %q; want tracing off", o.Config.Tracing, err, out)
	}

	var logs bytes.Buffer
	cmd := cli.NewCmd(&logs, &logs, func(k string) (string, bool) {
		v, ok := map[string]string{"OTEL_TRACES_EXPORTER": "console"}[k]
		return v, ok
	}, func(_ *cobra.Command, got *cli.Options) error {
		o = got
		return nil
	})
	cmd.SetArgs([]string{"--admin-addr", "localhost:6060"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || o.Config.Tracing == nil || !strings.Contains(logs.String(), "tracing on") {
		t.Fatalf("with OTEL_TRACES_EXPORTER=console: tracing %v, err %v, log %q; want tracing on", o.Config.Tracing, err, logs.String())
	}
	if o.Config.AdminAddr != "localhost:6060" {
		t.Errorf("--admin-addr = %q", o.Config.AdminAddr)
	}
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "call")
	o.Config.Logger.InfoContext(ctx, "during a call")
	span.End()
	o.Config.Logger.Info("outside a call")
	var during, outside string
	for line := range strings.Lines(logs.String()) {
		switch {
		case strings.Contains(line, "during a call"):
			during = line
		case strings.Contains(line, "outside a call"):
			outside = line
		}
	}
	want := "trace_id=" + span.SpanContext().TraceID().String() + " span_id=" + span.SpanContext().SpanID().String()
	if !strings.Contains(during, want) {
		t.Errorf("log line in a span = %q, want it to contain %q", during, want)
	}
	if outside == "" || strings.Contains(outside, "trace_id") {
		t.Errorf("log line outside a span = %q, want one without trace_id", outside)
	}

	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "zipkin"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
	} {
		if _, _, err := parse(t, nil, env); err == nil || !strings.Contains(err.Error(), "tracing") {
			t.Errorf("with %v: err %v, want a tracing error", env, err)
		}
	}
}
