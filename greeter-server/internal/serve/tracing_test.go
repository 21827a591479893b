package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/telemetry"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// TestTracing runs a server with tracing, metrics and the access log on,
// and calls it from a client that traces too, as greeter-client does: each
// call is one client span and one server span, its child, in the same trace,
// with the RPC attributes and status; the access log line of a sampled call
// carries its trace_id and span_id, and the latency histogram its trace id
// as an OpenMetrics exemplar. A call the client does not sample leaves no
// span, no trace_id in the log and no exemplar. Health checks are not
// traced.
func TestTracing(t *testing.T) {
	t.Parallel()
	serverSpans := tracetest.NewInMemoryExporter()
	tracing := telemetry.New(sdktrace.WithSyncer(serverSpans),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	var logs testlog.Buffer
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv, err := serve.New(serve.Config{Tracing: tracing, Logger: logger, MetricsAddr: "unused:0"})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Shutdown(0, 0)

	clientSpans := tracetest.NewInMemoryExporter()
	dial := func(sampler sdktrace.Sampler) *grpc.ClientConn {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(clientSpans), sdktrace.WithSampler(sampler))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		conn, err := grpc.NewClient(lis.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(otelgrpc.NewClientHandler(
				otelgrpc.WithTracerProvider(tp),
				otelgrpc.WithPropagators(propagation.TraceContext{}))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	client := greeterv1.NewGreeterServiceClient(dial(sdktrace.AlwaysSample()))
	if _, err := client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: ""}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("SayHello with no name: %v, want InvalidArgument", err)
	}
	stream, err := client.SayHelloStream(callCtx(t), &greeterv1.SayHelloStreamRequest{Name: "Bob", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := healthpb.NewHealthClient(dial(sdktrace.AlwaysSample())).Check(callCtx(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	// Not sampled by the client, so not by the server (parent-based).
	unsampled := greeterv1.NewGreeterServiceClient(dial(sdktrace.NeverSample()))
	if _, err := unsampled.SayHelloAgain(callCtx(t), &greeterv1.SayHelloAgainRequest{Name: "Cy"}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(0, 0) // every server span has ended
	// (The in-memory exporter forgets its spans when it is shut down.)
	defer func() { _ = tracing.Shutdown(context.Background()) }()

	type want struct {
		method, code string
		clientError  bool
	}
	wants := []want{
		{"greeter.v1.GreeterService/SayHello", "OK", false},
		{"greeter.v1.GreeterService/SayHello", "INVALID_ARGUMENT", true},
		{"greeter.v1.GreeterService/SayHelloStream", "OK", false},
	}
	cs, ss := clientSpans.GetSpans(), serverSpans.GetSpans()
	// The test's own client traces health checks; greeter-client does not.
	cs = slices.DeleteFunc(cs, func(s tracetest.SpanStub) bool { return strings.HasPrefix(s.Name, "grpc.health.v1.Health/") })
	if len(cs) != len(wants) || len(ss) != len(wants) {
		t.Fatalf("got %d client spans %v and %d server spans %v, want %d of each (health and unsampled calls have none)", len(cs), names(cs), len(ss), names(ss), len(wants))
	}
	for i, w := range wants {
		// The client ends its spans in the order of the calls; the server
		// may end one after its client has had the answer.
		c := cs[i]
		j := slices.IndexFunc(ss, func(s tracetest.SpanStub) bool { return s.Parent.SpanID() == c.SpanContext.SpanID() })
		if j < 0 {
			t.Errorf("call %d: no server span is a child of the client span %v", i, c.SpanContext)
			continue
		}
		s := ss[j]
		if c.Name != w.method || s.Name != w.method {
			t.Errorf("call %d: spans %q (client) and %q (server), want %q", i, c.Name, s.Name, w.method)
		}
		if c.SpanKind != trace.SpanKindClient || s.SpanKind != trace.SpanKindServer {
			t.Errorf("call %d: span kinds %v and %v, want client and server", i, c.SpanKind, s.SpanKind)
		}
		if s.SpanContext.TraceID() != c.SpanContext.TraceID() || !s.Parent.IsRemote() {
			t.Errorf("call %d: server span %v has parent %v, want a child of the client span %v in its trace", i, s.SpanContext, s.Parent, c.SpanContext)
		}
		for _, span := range []tracetest.SpanStub{c, s} {
			attrs := map[string]string{}
			for _, kv := range span.Attributes {
				attrs[string(kv.Key)] = kv.Value.String()
			}
			if attrs["rpc.system.name"] != "grpc" || attrs["rpc.method"] != w.method || attrs["rpc.response.status_code"] != w.code {
				t.Errorf("call %d, %v span: attributes %v, want rpc.system.name grpc, rpc.method %s, rpc.response.status_code %s", i, span.SpanKind, attrs, w.method, w.code)
			}
		}
		// Semantic conventions: every failed call is an error to its
		// client; INVALID_ARGUMENT is the caller's fault, not the server's.
		if got := c.Status.Code == otelcodes.Error; got != w.clientError {
			t.Errorf("call %d: client span status %v, want error %v", i, c.Status, w.clientError)
		}
		if s.Status.Code == otelcodes.Error {
			t.Errorf("call %d: server span status %v, want unset", i, s.Status)
		}
	}

	// The access log: one line per call; the traced ones carry their
	// server span's ids.
	var traced, untraced int
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] != "rpc" {
			continue
		}
		method, _ := rec["method"].(string)
		if method == "/grpc.health.v1.Health/Check" || method == "/greeter.v1.GreeterService/SayHelloAgain" {
			if _, ok := rec["trace_id"]; ok {
				t.Errorf("access log line of an untraced call has a trace_id: %s", line)
			}
			untraced++
			continue
		}
		found := false
		for _, s := range ss {
			if rec["trace_id"] == s.SpanContext.TraceID().String() && rec["span_id"] == s.SpanContext.SpanID().String() {
				found = true
			}
		}
		if !found {
			t.Errorf("access log line %s: trace_id and span_id match no server span", line)
		}
		traced++
	}
	if traced != len(wants) || untraced != 2 {
		t.Errorf("access log has %d traced and %d untraced call lines, want %d and 2:\n%s", traced, untraced, len(wants), logs.String())
	}

	// The exemplars, served only in OpenMetrics.
	scrape := func(accept string) string {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		srv.MetricsHandler().ServeHTTP(rec, req)
		return rec.Body.String()
	}
	om := scrape("application/openmetrics-text; version=1.0.0")
	// A bucket keeps the exemplar of the last call that fell in it; the
	// sampled calls left theirs, the unsampled and untraced calls none.
	sampled := map[string]bool{}
	for _, s := range ss {
		sampled[s.SpanContext.TraceID().String()] = true
	}
	exemplarRE := regexp.MustCompile(`# \{trace_id="([0-9a-f]{32})"\}`)
	byMethod := map[string]int{}
	for line := range strings.Lines(grep(om, "grpc_server_handling_seconds_bucket{")) {
		m := exemplarRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		method := regexp.MustCompile(`grpc_method="(\w+)"`).FindStringSubmatch(line)[1]
		byMethod[method]++
		if !sampled[m[1]] || (method != "SayHello" && method != "SayHelloStream") {
			t.Errorf("exemplar of no sampled call: %s", line)
		}
	}
	if byMethod["SayHello"] == 0 || byMethod["SayHelloStream"] == 0 {
		t.Errorf("exemplars by method %v, want some on SayHello and SayHelloStream:\n%s", byMethod, grep(om, "grpc_server_handling_seconds_bucket{"))
	}
	if text := scrape("text/plain"); strings.Contains(text, "trace_id") {
		t.Errorf("the Prometheus text format has exemplars; want them only in OpenMetrics")
	}
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

// grep returns the lines of text that contain sub.
func grep(text, sub string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			b.WriteString(line)
		}
	}
	return b.String()
}
