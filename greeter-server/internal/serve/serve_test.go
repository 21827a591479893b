package serve_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// server is a Run in progress.
type server struct {
	addr    string // the gRPC listener's
	http    string // the HTTP listener's // trim:http
	metrics string // the metrics listener's, if on

	cancel context.CancelFunc
	done   chan error
}

// start runs serve.Run with cfg on loopback ports (every listener, unless
// cfg sets them) and stops it when the test ends, if the test has not
// stopped it already.
func start(t *testing.T, cfg serve.Config) *server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	// trim:http begin
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	// trim:http end
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan serve.Addrs, 1)
	s := &server{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- serve.Run(ctx, cfg, ready) }()
	select {
	case addrs := <-ready:
		s.addr = addrs.GRPC.String()
		s.http = addrs.HTTP.String() // trim:http
		if addrs.Metrics != nil {
			s.metrics = addrs.Metrics.String()
		}
	case err := <-s.done:
		cancel()
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(t); err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	})
	return s
}

// stop ends the Run and returns its error; later calls return nil.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s of its context ending")
		return nil
	}
}

func dialPlain(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunServesUntilCanceled(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	conn := dialPlain(t, s.addr)
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "you"})
	if err != nil || resp.GetMessage() != "Hello, you!" {
		t.Fatalf("SayHello(%q) = %q, %v, want %q, nil", "you", resp.GetMessage(), err, "Hello, you!")
	}
	if err := s.stop(t); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  serve.Config
		want string
	}{
		{cfg: serve.Config{Addr: "256.0.0.1:1"}, want: "listen on 256.0.0.1:1"},
		{cfg: serve.Config{Addr: "127.0.0.1:0", ShutdownTimeout: time.Second, StreamGrace: 2 * time.Second}, want: "--stream-grace (2s) must not be longer than --shutdown-timeout (1s)"},
		{cfg: serve.Config{Addr: "127.0.0.1:0", MetricsAddr: "256.0.0.1:1"}, want: "listen for metrics"},
		{cfg: serve.Config{Addr: "127.0.0.1:0", TLS: serve.TLSFiles{Cert: "c.pem"}}, want: "must be set together"},
		{cfg: serve.Config{Addr: "127.0.0.1:0", TLS: serve.TLSFiles{ClientCA: "ca.pem"}}, want: "needs --tls-cert"},
		{cfg: serve.Config{Addr: "127.0.0.1:0", TLS: serve.TLSFiles{Cert: "missing.pem", Key: "missing.pem"}}, want: "load TLS key pair"},
	}
	for _, tt := range tests {
		err := serve.Run(context.Background(), tt.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%+v) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
}

// trim:http begin

// startLine returns the key=value fields of the start line ("greeter-server
// listening") in logs, failing the test if there is none.
func startLine(t *testing.T, logs string) map[string]string {
	t.Helper()
	for line := range strings.Lines(logs) {
		if _, rest, ok := strings.Cut(line, `msg="greeter-server listening" `); ok {
			fields := map[string]string{}
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				fields[k] = v
			}
			return fields
		}
	}
	t.Fatalf("no start line in the log:\n%s", logs)
	return nil
}

// TestStartLine checks that the start line names the gRPC listener's
// address and, when the HTTP listener is on, its address and the URL of the
// page, https with TLS, which serves the page; scripts/lib-server.sh reads
// them from it.
func TestStartLine(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tests := []struct {
		desc, httpAddr string
		tls            bool
		wantPage       string // with PORT for the HTTP listener's port
	}{
		{desc: "plaintext", httpAddr: "127.0.0.1:0", wantPage: "http://127.0.0.1:PORT/"},
		{desc: "TLS", httpAddr: "127.0.0.1:0", tls: true, wantPage: "https://127.0.0.1:PORT/"},
		{desc: "a host name", httpAddr: "localhost:0", tls: true, wantPage: "https://localhost:PORT/"},
	}
	for _, tt := range tests {
		var logs testlog.Buffer
		cfg := serve.Config{HTTPAddr: tt.httpAddr, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		var client *tls.Config
		if tt.tls {
			cfg.TLS = serve.TLSFiles{Cert: p.certFile, Key: p.keyFile}
			client = &tls.Config{RootCAs: p.pool}
		}
		s := start(t, cfg)
		got := startLine(t, logs.String())
		_, port, _ := net.SplitHostPort(s.http)
		wantPage := strings.Replace(tt.wantPage, "PORT", port, 1)
		if got["addr"] != s.addr || got["http_addr"] != s.http || got["page"] != wantPage {
			t.Errorf("%s: start line has addr=%s http_addr=%s page=%s, want addr=%s http_addr=%s page=%s", tt.desc, got["addr"], got["http_addr"], got["page"], s.addr, s.http, wantPage)
			continue
		}
		page := send(t, httpClient(t, false, client), http.MethodGet, got["page"], nil)
		if page.status != http.StatusOK || !strings.Contains(page.body, "<form") {
			t.Errorf("%s: GET %s (page= of the start line) = %d %.100q, want 200 with the page", tt.desc, got["page"], page.status, page.body)
		}
	}

	// With the HTTP listener off, the start line says so and names no page.
	var logs testlog.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan serve.Addrs, 1), make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, serve.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, ready)
	}()
	var addrs serve.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run with the HTTP listener off = %v before it was ready", err)
	}
	got := startLine(t, logs.String())
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if _, hasPage := got["page"]; got["addr"] != addrs.GRPC.String() || got["http_addr"] != "off" || hasPage {
		t.Errorf("HTTP listener off: start line %v, want addr=%s http_addr=off and no page", got, addrs.GRPC)
	}
}

// trim:http end

func TestLimits(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	client := greeterv1.NewGreeterServiceClient(dialPlain(t, s.addr))
	_, err := client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: strings.Repeat("x", serve.MaxRecvMsgSize)})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("SayHello with a %d-byte name: error = %v, want ResourceExhausted", serve.MaxRecvMsgSize, err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	client := healthpb.NewHealthClient(dialPlain(t, s.addr))
	for _, svc := range append([]string{""}, serve.Services()...) {
		resp, err := client.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v, want SERVING", svc, resp.GetStatus(), err)
		}
	}
	_, err := client.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: "no.Such"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(%q) error = %v, want NotFound", "no.Such", err)
	}
}

func TestReflectionListsBothServices(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	conn := dialPlain(t, s.addr)
	want := append(serve.Services(), "grpc.health.v1.Health")

	v1, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx(t))
	if err != nil {
		t.Fatalf("v1 ServerReflectionInfo: %v", err)
	}
	if err := v1.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatalf("v1 Send: %v", err)
	}
	resp, err := v1.Recv()
	if err != nil {
		t.Fatalf("v1 Recv: %v", err)
	}
	var got []string
	for _, svc := range resp.GetListServicesResponse().GetService() {
		got = append(got, svc.GetName())
	}
	checkContains(t, "v1 ListServices", got, want)

	alpha, err := reflectionv1alpha.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx(t))
	if err != nil {
		t.Fatalf("v1alpha ServerReflectionInfo: %v", err)
	}
	if err := alpha.Send(&reflectionv1alpha.ServerReflectionRequest{MessageRequest: &reflectionv1alpha.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatalf("v1alpha Send: %v", err)
	}
	aresp, err := alpha.Recv()
	if err != nil {
		t.Fatalf("v1alpha Recv: %v", err)
	}
	got = got[:0]
	for _, svc := range aresp.GetListServicesResponse().GetService() {
		got = append(got, svc.GetName())
	}
	checkContains(t, "v1alpha ListServices", got, want)
	_ = v1.CloseSend()
	_ = alpha.CloseSend()
}

// TestReflectionOff checks that DisableReflection (--reflection=false) leaves
// both reflection services out while the Greeter services still answer.
func TestReflectionOff(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{DisableReflection: true})
	conn := dialPlain(t, s.addr)

	v1, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx(t))
	if err == nil {
		// Send returns io.EOF once the server has ended the stream; Recv
		// then returns the status it ended with.
		err = v1.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}})
		if err == nil || errors.Is(err, io.EOF) {
			_, err = v1.Recv()
		}
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("v1 ServerReflectionInfo with reflection off: %v, want Unimplemented", err)
	}
	alpha, err := reflectionv1alpha.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx(t))
	if err == nil {
		err = alpha.Send(&reflectionv1alpha.ServerReflectionRequest{MessageRequest: &reflectionv1alpha.ServerReflectionRequest_ListServices{}})
		if err == nil || errors.Is(err, io.EOF) {
			_, err = alpha.Recv()
		}
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("v1alpha ServerReflectionInfo with reflection off: %v, want Unimplemented", err)
	}
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"})
	if err != nil || resp.GetMessage() != "Hello, Ann!" {
		t.Errorf("SayHello with reflection off = %q, %v, want %q", resp.GetMessage(), err, "Hello, Ann!")
	}
}

func checkContains(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago, for a listener Run opens itself.
// fetch GETs url and returns its body, failing the test unless it is 200.
func fetch(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(callCtx(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v, want 200", url, resp.StatusCode, err)
	}
	return string(body)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{MetricsAddr: "127.0.0.1:0"})
	client := greeterv1.NewGreeterServiceClient(dialPlain(t, s.addr))
	_, _ = client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "you"})
	_, _ = client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: ""})

	body := fetch(t, "http://"+s.metrics+"/metrics")
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="SayHello",grpc_service="greeter.v1.GreeterService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="SayHello",grpc_service="greeter.v1.GreeterService",grpc_type="unary"} 1`,
		`grpc_server_started_total{grpc_method="SayHelloChat",grpc_service="greeter.v1.GreeterService",grpc_type="bidi_stream"} 0`,
		`grpc_server_handling_seconds_bucket{grpc_method="SayHello",grpc_service="greeter.v1.GreeterService",grpc_type="unary",le="+Inf"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics does not contain %q", want)
		}
	}
}

// TestShutdownDrains shuts the server down while calls are open: health turns
// NOT_SERVING, a stream that ends within the stream grace period completes,
// a chat left open is told to finish with Unavailable, unary calls are never
// cut, and Run returns nil.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{StreamGrace: 500 * time.Millisecond})
	conn := dialPlain(t, s.addr)
	client := greeterv1.NewGreeterServiceClient(conn)
	ctx := callCtx(t)

	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health Watch first = %v, %v, want SERVING", resp.GetStatus(), err)
	}
	short, err := client.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "you", Count: 3, Interval: durationpb.New(100 * time.Millisecond)})
	if err != nil {
		t.Fatalf("SayHelloStream: %v", err)
	}
	if _, err := short.Recv(); err != nil {
		t.Fatalf("SayHelloStream first Recv: %v", err)
	}
	chat, err := client.SayHelloChat(ctx)
	if err != nil {
		t.Fatalf("SayHelloChat: %v", err)
	}
	if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Ann"}); err != nil {
		t.Fatalf("SayHelloChat Send: %v", err)
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatalf("SayHelloChat Recv: %v", err)
	}

	// Unary calls race the shutdown: each must either succeed or be refused
	// as Unavailable before it started, never cut off midway.
	var wg sync.WaitGroup
	unaryErrs := make(chan error, 200)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "you"})
				if err != nil && status.Code(err) != codes.Unavailable {
					unaryErrs <- err
				}
			}
		})
	}

	stopped := make(chan error, 1)
	go func() { stopped <- s.stop(t) }()

	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health Watch during shutdown = %v, %v, want NOT_SERVING", resp.GetStatus(), err)
	}
	for i := 2; ; i++ {
		_, err := short.Recv()
		if errors.Is(err, io.EOF) {
			if i != 4 {
				t.Errorf("SayHelloStream during shutdown ended after %d greetings, want 3", i-1)
			}
			break
		}
		if err != nil {
			t.Errorf("SayHelloStream during shutdown Recv #%d: %v, want all 3 greetings", i, err)
			break
		}
	}
	_, err = chat.Recv()
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "shutting down") {
		t.Errorf("open SayHelloChat during shutdown ended with %v, want Unavailable, server is shutting down", err)
	}
	wg.Wait()
	close(unaryErrs)
	for err := range unaryErrs {
		t.Errorf("SayHello during shutdown = %v, want OK or Unavailable", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Run after shutdown = %v, want nil", err)
	}
}

// TestShutdownForcesAfterTimeout checks that Shutdown cuts calls still open
// at its timeout and says so: here a chat stream whose grace period is longer
// than the timeout.
func TestShutdownForcesAfterTimeout(t *testing.T) {
	t.Parallel()
	srv, err := serve.New(serve.Config{})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	chat, err := greeterv1.NewGreeterServiceClient(dialPlain(t, lis.Addr().String())).SayHelloChat(callCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatalf("SayHelloChat Recv: %v", err)
	}

	start := time.Now()
	if forced := srv.Shutdown(200*time.Millisecond, time.Hour); !forced {
		t.Error("Shutdown with an open stream and a 200ms timeout = not forced, want forced")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v, want about its 200ms timeout", d)
	}
	if _, err := chat.Recv(); err == nil {
		t.Error("SayHelloChat Recv after a forced shutdown = nil error, want the call cut")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
}
