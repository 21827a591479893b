package telemetry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-client/internal/telemetry"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// TestEnabled checks the documented rule: tracing is on only when an
// exporter or an OTLP endpoint is named, and OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none keep it off.
func TestEnabled(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"OTEL_SERVICE_NAME=x", "OTEL_TRACES_SAMPLER=always_on", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}, false},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318"}, true},
		{[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:4318/v1/traces"}, true},
		{[]string{"OTEL_TRACES_EXPORTER=otlp"}, true},
		{[]string{"OTEL_TRACES_EXPORTER=console"}, true},
		{[]string{"OTEL_TRACES_EXPORTER=none", "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318"}, false},
		{[]string{"OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=otlp"}, false},
		{[]string{"OTEL_SDK_DISABLED=TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318"}, false},
		{[]string{"OTEL_SDK_DISABLED=false", "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318"}, true},
	} {
		if got := telemetry.Enabled(env(tt.env...)); got != tt.want {
			t.Errorf("Enabled(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestFromEnv checks that no tracing is made when it is off, and that
// settings it cannot honour are errors rather than silently ignored.
func TestFromEnv(t *testing.T) {
	getenv := env()
	if tr, err := telemetry.FromEnv(context.Background(), getenv); tr != nil || err != nil {
		t.Errorf("FromEnv with no variables = %v, %v, want nil, nil", tr, err)
	}
	for _, bad := range [][]string{
		{"OTEL_TRACES_EXPORTER=zipkin"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"},
	} {
		getenv := env(bad...)
		if tr, err := telemetry.FromEnv(context.Background(), getenv); err == nil {
			_ = tr.Shutdown()
			t.Errorf("FromEnv(%v) = nil error, want one", bad)
		}
	}
	getenv = env("OTEL_TRACES_EXPORTER=console")
	tr, err := telemetry.FromEnv(context.Background(), getenv)
	if tr == nil || err != nil {
		t.Fatalf("FromEnv(OTEL_TRACES_EXPORTER=console) = %v, %v, want tracing", tr, err)
	}
	if err := tr.Shutdown(); err != nil {
		t.Error(err)
	}
}
