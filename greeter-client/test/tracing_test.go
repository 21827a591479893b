package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// receiver is an OTLP trace receiver: it keeps every span exported to it,
// with the service.name of the process that sent it.
type receiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []span
}

type span struct {
	service string
	*tracepb.Span
}

func (r *receiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, span{service, s})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (r *receiver) Spans() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// startGRPCReceiver serves r as an OTLP/gRPC collector and returns its
// endpoint.
func startGRPCReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, r)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return "http://" + lis.Addr().String()
}

// startHTTPReceiver serves r as an OTLP/HTTP collector (binary protobuf at
// /v1/traces) and returns its endpoint.
func startHTTPReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var export collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &export)
		}
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
			t.Errorf("OTLP/HTTP receiver: %s %s (%s): %v", req.Method, req.URL.Path, req.Header.Get("Content-Type"), err)
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		resp, _ := r.Export(req.Context(), &export)
		out, _ := proto.Marshal(resp)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// environ returns this process's environment without GREETER_* and OTEL_*
// variables, plus extra.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GREETER_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// tracedServer is a greeter-server process whose stderr is kept.
type tracedServer struct {
	addr string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

var serverListeningRE = regexp.MustCompile(`greeter-server listening.* addr=(\S+)`)

func startTracedServer(t *testing.T, env []string) *tracedServer {
	t.Helper()
	// The HTTP listener on any free port: its default, localhost:8080, // trim:http
	// would collide between parallel tests. // trim:http
	s := &tracedServer{cmd: exec.Command(serverBin, "--addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", // trim:http
		"--log-level", "debug"), done: make(chan struct{})}
	s.cmd.Env = env
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := serverListeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case s.addr = <-addr:
	case <-s.done:
		t.Fatalf("greeter-server exited before listening:\n%s", s.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("greeter-server did not listen within 30s:\n%s", s.Log())
	}
	return s
}

func (s *tracedServer) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and waits for the process to exit.
func (s *tracedServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-s.done
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("greeter-server after SIGTERM: %v\n%s", err, s.Log())
	}
}

// runTracedClient runs greeter-client against addr and returns its exit code and
// stderr.
func runTracedClient(t *testing.T, env []string, addr string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(clientBin, append([]string{"--addr", addr}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestTracingAcrossProcesses runs the real greeter-client and greeter-server
// with tracing on, exporting to a real OTLP receiver over each protocol, and
// a batch delay (a minute) longer than the test: every span arrives only
// because each process flushes when it ends, the server on SIGTERM, the
// client on exit (an error exit too). Each call is a client span and a
// server span, its child, in one trace; the failed call carries its code;
// the server's access log line names the call's trace and span.
func TestTracingAcrossProcesses(t *testing.T) {
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			t.Parallel()
			r := &receiver{}
			endpoint := startHTTPReceiver(t, r)
			if protocol == "grpc" {
				endpoint = startGRPCReceiver(t, r)
			}
			otel := []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoint,
				"OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol,
				"OTEL_BSP_SCHEDULE_DELAY=60000",
				"OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=test",
			}
			server := startTracedServer(t, environ(otel...))
			calls := []struct {
				args     []string
				exit     int
				method   string
				code     string
				clientOK bool
			}{
				{[]string{"hello", "-n", "Ann"}, 0, "greeter.v1.GreeterService/SayHello", "OK", true},
				{[]string{"hello", "-n", " "}, 67, "greeter.v1.GreeterService/SayHello", "INVALID_ARGUMENT", false},
				{[]string{"hello-stream", "-n", "Bob", "-c", "2"}, 0, "greeter.v1.GreeterService/SayHelloStream", "OK", true},
			}
			for _, c := range calls {
				if code, stderr := runTracedClient(t, environ(otel...), server.addr, c.args...); code != c.exit {
					t.Fatalf("greeter-client %v exited %d, want %d:\n%s", c.args, code, c.exit, stderr)
				}
			}
			// The client has exited after each call, so its spans are in.
			clientSpans := slices.DeleteFunc(r.Spans(), func(s span) bool { return s.service != "greeter-client" })
			if len(clientSpans) != len(calls) {
				t.Fatalf("received %d greeter-client spans, want %d (one per call, flushed on exit): %v", len(clientSpans), len(calls), summary(r.Spans()))
			}
			server.stop(t)
			spans := r.Spans()
			serverSpans := slices.DeleteFunc(slices.Clone(spans), func(s span) bool { return s.service != "greeter-server" })
			if len(serverSpans) != len(calls) {
				t.Fatalf("received %d greeter-server spans after SIGTERM, want %d: %v", len(serverSpans), len(calls), summary(spans))
			}
			log := server.Log()
			for i, c := range calls {
				cs := clientSpans[i]
				j := slices.IndexFunc(serverSpans, func(s span) bool { return bytes.Equal(s.GetParentSpanId(), cs.GetSpanId()) })
				if j < 0 {
					t.Errorf("%v: no server span is a child of the client span %x", c.args, cs.GetSpanId())
					continue
				}
				ss := serverSpans[j]
				if !bytes.Equal(ss.GetTraceId(), cs.GetTraceId()) {
					t.Errorf("%v: server span in trace %x, client span in %x", c.args, ss.GetTraceId(), cs.GetTraceId())
				}
				for _, s := range []span{cs, ss} {
					attrs := map[string]string{}
					for _, kv := range s.GetAttributes() {
						attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
					}
					if s.GetName() != c.method || attrs["rpc.system.name"] != "grpc" || attrs["rpc.method"] != c.method || attrs["rpc.response.status_code"] != c.code {
						t.Errorf("%v: %s span %q with attributes %v, want %s, rpc.system.name grpc, rpc.response.status_code %s", c.args, s.service, s.GetName(), attrs, c.method, c.code)
					}
				}
				if cs.GetKind() != tracepb.Span_SPAN_KIND_CLIENT || ss.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
					t.Errorf("%v: span kinds %v and %v", c.args, cs.GetKind(), ss.GetKind())
				}
				if got := cs.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR; got == c.clientOK {
					t.Errorf("%v: client span status %v", c.args, cs.GetStatus())
				}
				want := "trace_id=" + hex.EncodeToString(ss.GetTraceId()) + " span_id=" + hex.EncodeToString(ss.GetSpanId())
				if !strings.Contains(log, "/"+c.method) || !containsLine(log, "msg=rpc", want) {
					t.Errorf("%v: no access log line with %s:\n%s", c.args, want, log)
				}
			}
		})
	}
}

// summary names each span with its service and kind.
func summary(spans []span) []string {
	var s []string
	for _, sp := range spans {
		s = append(s, sp.service+" "+sp.GetKind().String()+" "+sp.GetName())
	}
	return s
}

func containsLine(text, sub1, sub2 string) bool {
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub1) && strings.Contains(line, sub2) {
			return true
		}
	}
	return false
}

// TestNoTracingByDefault runs both programs with no OTEL_* variable set and
// listeners on the default OTLP endpoints (localhost:4317 and 4318): nothing
// may connect to them, and the server must not say tracing is on.
func TestNoTracingByDefault(t *testing.T) {
	var connected sync.WaitGroup
	var mu sync.Mutex
	var accepted []string
	for _, addr := range []string{"127.0.0.1:4317", "127.0.0.1:4318"} {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on the default OTLP endpoint %s: %v", addr, err)
		}
		t.Cleanup(func() { lis.Close() })
		connected.Go(func() {
			for {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				accepted = append(accepted, addr)
				mu.Unlock()
				c.Close()
			}
		})
	}
	server := startTracedServer(t, environ())
	if code, stderr := runTracedClient(t, environ(), server.addr, "hello", "-n", "Ann"); code != 0 {
		t.Fatalf("greeter-client hello exited %d:\n%s", code, stderr)
	}
	if code, _ := runTracedClient(t, environ(), server.addr, "hello", "-n", " "); code != 67 {
		t.Fatalf("greeter-client hello with a blank name exited %d, want 67", code)
	}
	server.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if len(accepted) > 0 {
		t.Errorf("with no OTEL_* variable set, something connected to the default OTLP endpoints: %v", accepted)
	}
	if log := server.Log(); strings.Contains(log, "tracing on") || strings.Contains(log, "trace_id=") {
		t.Errorf("with no OTEL_* variable set, the server traced:\n%s", log)
	}
}
