package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// The HTTP listener's limits at their edges, as limits_test.go tests the
// gRPC listener's. grpc.Server.ServeHTTP skips grpc-go's transport, so each
// limit there is the http.Server's or httpLimits' (web.go), and each is
// tested here over HTTP/1.1 and h2c.

const sayHelloPath = "/greeter.v1.GreeterService/SayHello"

// dialTCP connects to addr, for requests written by hand; reads and writes
// fail after 30 s, so a server that never answers fails the test.
func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return conn
}

// isTimeout reports whether err is a read or write that ran into its
// deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readToEnd reads r, a connection or its reader, until the server closes
// the connection, and returns what came. A read that runs into the
// connection's deadline fails the test: the server never closed it.
func readToEnd(t *testing.T, r io.Reader, what string) []byte {
	t.Helper()
	got, err := io.ReadAll(r)
	if isTimeout(err) {
		t.Fatalf("%s: the server kept the connection open until the test gave up; read %q", what, got)
	}
	if err != nil && !isReset(err) {
		t.Fatalf("%s: read = %v, want the connection closed", what, err)
	}
	return got
}

// getOn sends GET path over an HTTP/1.1 connection, whose reader is br,
// and returns the status.
func getOn(t *testing.T, conn net.Conn, br *bufio.Reader, path string) int {
	t.Helper()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// trickle calls send every 100 ms, as a client sending its request a byte
// at a time would, until send fails or stop is called; stop waits for it
// to end.
func trickle(t *testing.T, send func() error) (stop func()) {
	t.Helper()
	quit, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if send() != nil {
					return
				}
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-ended }) }
	t.Cleanup(stop)
	return stop
}

// h2Response is how the server ended one HTTP/2 stream.
type h2Response struct {
	status     string // :status, if it answered
	grpcStatus string // grpc-status, if it sent one
	body       []byte
	reset      bool // the server reset the stream (RST_STREAM)
	resetCode  http2.ErrCode
}

func (r h2Response) String() string {
	if r.reset && r.status == "" {
		return fmt.Sprintf("RST_STREAM %v", r.resetCode)
	}
	s := fmt.Sprintf(":status %s, grpc-status %q, body %.200q", r.status, r.grpcStatus, r.body)
	if r.reset {
		s += fmt.Sprintf(", then RST_STREAM %v", r.resetCode)
	}
	return s
}

// response reads the connection until stream id has ended, with END_STREAM
// or RST_STREAM, and returns how; a connection that ends first, or runs
// into its deadline, fails the test.
func (c *h2) response(t *testing.T, id uint32) h2Response {
	t.Helper()
	var r h2Response
	_, err := c.until(func(f http2.Frame) bool {
		if f.Header().StreamID != id {
			return false
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			for _, hf := range f.Fields {
				switch hf.Name {
				case ":status":
					r.status = hf.Value
				case "grpc-status":
					r.grpcStatus = hf.Value
				}
			}
			return f.StreamEnded()
		case *http2.DataFrame:
			r.body = append(r.body, f.Data()...)
			return f.StreamEnded()
		case *http2.RSTStreamFrame:
			r.reset, r.resetCode = true, f.ErrCode
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("reading the answer on stream %d: %v (so far: %v)", id, err, r)
	}
	return r
}

// grpcFrame is a gRPC length-prefixed message.
func grpcFrame(msg []byte) []byte {
	return append([]byte{0, byte(len(msg) >> 24), byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// annRequest is SayHelloRequest{Name: "Ann"} in protobuf.
var annRequest = []byte{0x0a, 3, 'A', 'n', 'n'}

// TestHTTPRequestBodyDeadline sends the request of a unary call a byte every
// 100 ms, declaring 16 KiB: the server must stop waiting for it once
// MaxUnaryDuration has passed. Over HTTP/1.1 the call fails and the
// connection is closed, which frees it; over h2c the call fails and the
// connection serves the next call.
func TestHTTPRequestBodyDeadline(t *testing.T) {
	t.Parallel()
	const limit = time.Second
	s := start(t, serve.Config{Limits: serve.Limits{MaxUnaryDuration: limit}})
	const declared = 16 << 10

	t.Run("HTTP/1.1 Connect", func(t *testing.T) {
		conn := dialTCP(t, s.http)
		if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", sayHelloPath, declared); err != nil {
			t.Fatal(err)
		}
		stop := trickle(t, func() error { _, err := conn.Write([]byte(" ")); return err })
		// The server answers, or not, and closes the connection.
		got := readToEnd(t, conn, "a request body trickling in over HTTP/1.1")
		stop()
		if bytes.HasPrefix(got, []byte("HTTP/1.1 200")) {
			t.Errorf("a request body trickling in over HTTP/1.1 was answered %q, want the call to fail", got)
		}
	})

	for _, tt := range []struct {
		desc    string
		headers []string // of both calls
		first   []byte   // the start of the trickled request
		body    []byte   // the whole request of the next call
	}{
		{desc: "Connect", headers: []string{"content-type", "application/json"}, first: []byte("{"), body: []byte(`{"name":"Ann"}`)},
		// The gRPC message prefix declares 16 KiB.
		{desc: "gRPC", headers: []string{"content-type", "application/grpc", "te", "trailers"}, first: []byte{0, 0, 0, declared >> 8, 0}, body: grpcFrame(annRequest)},
	} {
		t.Run("h2c "+tt.desc, func(t *testing.T) {
			raw := dialH2(t, s.http, true)
			raw.request(t, 1, sayHelloPath, append(tt.headers, "content-length", fmt.Sprint(declared))...)
			if err := raw.fr.WriteData(1, false, tt.first); err != nil {
				t.Fatal(err)
			}
			// A framer of its own: raw.fr is the reader's, and each frame
			// is one Write on the connection.
			data := http2.NewFramer(raw.conn, nil)
			stop := trickle(t, func() error { return data.WriteData(1, false, []byte{' '}) })
			r := raw.response(t, 1)
			stop()
			if r.status == "200" && (r.grpcStatus == "" || r.grpcStatus == "0") && !r.reset {
				t.Errorf("a request body trickling in over h2c (%s) was answered %v, want the call to fail", tt.desc, r)
			}
			raw.request(t, 3, sayHelloPath, tt.headers...)
			if err := raw.fr.WriteData(3, true, tt.body); err != nil {
				t.Fatal(err)
			}
			r = raw.response(t, 3)
			if r.status != "200" || r.reset || (r.grpcStatus != "" && r.grpcStatus != "0") || !bytes.Contains(r.body, []byte("Hello, Ann!")) {
				t.Errorf("%s: SayHello(%q) on the same connection after = %v, want 200 with %q", tt.desc, "Ann", r, "Hello, Ann!")
			}
		})
	}
}

// TestHTTPRequestDeadlineLifted checks that the deadline for reading the
// request is lifted once it is in: a Connect server stream that lasts three
// times MaxUnaryDuration receives every greeting, over HTTP/1.1 and h2c.
func TestHTTPRequestDeadlineLifted(t *testing.T) {
	t.Parallel()
	const limit = time.Second
	s := start(t, serve.Config{Limits: serve.Limits{MaxUnaryDuration: limit}})
	const count = 4
	for _, h2 := range []bool{false, true} {
		what := map[bool]string{false: "HTTP/1.1", true: "h2c"}[h2]
		client := connect.NewClient[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](httpClient(t, h2, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHelloStream")
		ss, err := client.CallServerStream(callCtx(t), connect.NewRequest(&greeterv1.SayHelloStreamRequest{Name: "Ann", Count: count, Interval: durationpb.New(limit)}))
		if err != nil {
			t.Fatalf("%s: SayHelloStream: %v", what, err)
		}
		var got []string
		for ss.Receive() {
			got = append(got, ss.Msg().GetMessage())
		}
		if err := ss.Err(); err != nil || len(got) != count {
			t.Errorf("%s: SayHelloStream(%q, %d every %v) = %q, %v, want %d greetings", what, "Ann", count, limit, got, err, count)
		}
		ss.Close()
	}
}

// streamCall opens a server-streaming call and reads it to its end: it
// returns how many messages came, and the error that ended it.
type streamCall struct {
	desc string
	run  func(ctx context.Context) (int, error)
}

// connectStream is a streamCall of connect-go's client, which speaks
// Connect by default, gRPC or gRPC-Web with opts.
func connectStream[Req, Res any](hc *http.Client, url string, req *Req, opts ...connect.ClientOption) func(context.Context) (int, error) {
	client := connect.NewClient[Req, Res](hc, url, opts...)
	return func(ctx context.Context) (int, error) {
		ss, err := client.CallServerStream(ctx, connect.NewRequest(req))
		if err != nil {
			return 0, err
		}
		defer ss.Close()
		n := 0
		for ss.Receive() {
			n++
		}
		return n, ss.Err()
	}
}

// grpcStream is a streamCall of grpc-go's client: open opens the call.
func grpcStream[Res any](open func(context.Context) (grpc.ServerStreamingClient[Res], error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		st, err := open(ctx)
		if err != nil {
			return 0, err
		}
		for n := 0; ; n++ {
			if _, err := st.Recv(); err != nil {
				return n, err
			}
		}
	}
}

// callEnd is how one streamCall ended.
type callEnd struct {
	msgs int
	err  error
}

// code and message are those of the status that ended the call, in either
// library's terms (Connect's codes are gRPC's).
func (e callEnd) code() connect.Code {
	if _, ok := status.FromError(e.err); ok {
		return connect.Code(status.Code(e.err))
	}
	return connect.CodeOf(e.err)
}

func (e callEnd) message() string {
	if st, ok := status.FromError(e.err); ok {
		return st.Message()
	}
	var ce *connect.Error
	if errors.As(e.err, &ce) {
		return ce.Message()
	}
	return fmt.Sprint(e.err)
}

// runStreams makes each call copies times, starting one every 25 ms, so
// that the server ends them (when they reach their limit) one at a time, as
// it would in a real life, and a race in ending them shows. It returns how
// each ended, by description.
func runStreams(ctx context.Context, calls []streamCall, copies int) map[string][]callEnd {
	var mu sync.Mutex
	ends := map[string][]callEnd{}
	var wg sync.WaitGroup
	next := time.NewTicker(25 * time.Millisecond)
	defer next.Stop()
	for range copies {
		for _, c := range calls {
			wg.Go(func() {
				n, err := c.run(ctx)
				mu.Lock()
				defer mu.Unlock()
				ends[c.desc] = append(ends[c.desc], callEnd{n, err})
			})
			<-next.C
		}
	}
	wg.Wait()
	return ends
}

// TestHTTPHealthWatchLifetime opens health Watch streams on the HTTP
// listener, with each protocol it speaks, where no connection age ends
// them: each must end UNAVAILABLE, which tells its client to watch again,
// after MaxConnectionAge plus its grace, the longest it could live on the
// gRPC listener, and the connection must serve on.
func TestHTTPHealthWatchLifetime(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{Limits: serve.Limits{MaxConnectionAge: time.Second, MaxConnectionAgeGrace: time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn := dialPlain(t, s.http)
	greeter := greeterv1.NewGreeterServiceClient(conn)
	if resp, err := greeter.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"}); err != nil || resp.GetMessage() != "Hello, Ann!" {
		t.Fatalf("SayHello(%q) = %q, %v, want %q", "Ann", resp.GetMessage(), err, "Hello, Ann!")
	}
	health := healthpb.NewHealthClient(conn)
	url := "http://" + s.http + "/grpc.health.v1.Health/Watch"
	req := &healthpb.HealthCheckRequest{}
	h1, h2c := httpClient(t, false, nil), httpClient(t, true, nil)
	calls := []streamCall{
		{"gRPC over h2c (grpc-go)", grpcStream(func(ctx context.Context) (grpc.ServerStreamingClient[healthpb.HealthCheckResponse], error) {
			return health.Watch(ctx, req)
		})},
		{"gRPC over h2c (connect-go)", connectStream[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](h2c, url, req, connect.WithGRPC())},
		{"Connect over HTTP/1.1", connectStream[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](h1, url, req)},
		{"gRPC-Web over HTTP/1.1", connectStream[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](h1, url, req, connect.WithGRPCWeb())},
	}
	for desc, ends := range runStreams(ctx, calls, 5) {
		for _, e := range ends {
			if e.code() != connect.CodeUnavailable || !strings.Contains(e.message(), "health watch") || e.msgs != 1 {
				t.Errorf("%s: health Watch ended with %v after %d statuses, want Unavailable saying to watch again, after SERVING", desc, e.err, e.msgs)
			}
		}
	}
	if resp, err := greeter.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"}); err != nil || resp.GetMessage() != "Hello, Ann!" {
		t.Errorf("SayHello(%q) on the connection after its watches ended = %q, %v, want %q", "Ann", resp.GetMessage(), err, "Hello, Ann!")
	}
}

// TestHTTPCallLifetime shortens the longest life of a stream: a
// SayHelloStream that would outlast MaxStreamDuration ends with
// DEADLINE_EXCEEDED, saying why, with each protocol the HTTP listener
// speaks.
func TestHTTPCallLifetime(t *testing.T) {
	t.Parallel()
	const limit = time.Second
	s := start(t, serve.Config{Limits: serve.Limits{MaxStreamDuration: limit}})
	req := &greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 10, Interval: durationpb.New(limit / 2)}
	greeter := greeterv1.NewGreeterServiceClient(dialPlain(t, s.http))
	url := "http://" + s.http + "/greeter.v1.GreeterService/SayHelloStream"
	h1, h2c := httpClient(t, false, nil), httpClient(t, true, nil)
	calls := []streamCall{
		{"gRPC over h2c", grpcStream(func(ctx context.Context) (grpc.ServerStreamingClient[greeterv1.SayHelloStreamResponse], error) {
			return greeter.SayHelloStream(ctx, req)
		})},
		{"Connect over HTTP/1.1", connectStream[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](h1, url, req)},
		{"Connect over h2c", connectStream[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](h2c, url, req)},
		{"gRPC-Web over HTTP/1.1", connectStream[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](h1, url, req, connect.WithGRPCWeb())},
	}
	for desc, ends := range runStreams(callCtx(t), calls, 5) {
		for _, e := range ends {
			if e.code() != connect.CodeDeadlineExceeded || !strings.Contains(e.message(), "longer than the server allows") {
				t.Errorf("%s: SayHelloStream(%q, %d every %v) ended with %v after %d greetings, want DeadlineExceeded saying the server's limit was reached", desc, req.GetName(), req.GetCount(), req.GetInterval().AsDuration(), e.err, e.msgs)
			}
		}
	}
}

// TestHTTPMaxHeaderListSize sends requests with headers just within and
// well over MaxHeaderListSize. Over HTTP/1.1 the one over is answered 431.
// Over h2c, net/http advertises the limit, so grpc-go refuses to send it;
// a raw client that sends it anyway is answered 431 if it came as several
// headers, and its connection serves on, but has its connection closed
// (GOAWAY) if it came as one header longer than the limit.
func TestHTTPMaxHeaderListSize(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	within, over := strings.Repeat("x", 28<<10), strings.Repeat("x", 40<<10)
	var overInFour []string
	for _, name := range []string{"x-a", "x-b", "x-c", "x-d"} {
		overInFour = append(overInFour, name, strings.Repeat("x", 10<<10))
	}

	c := httpClient(t, false, nil)
	for _, tt := range []struct {
		header string
		want   int
	}{
		{within, http.StatusOK},
		{over, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, err := http.NewRequestWithContext(callCtx(t), http.MethodPost, "http://"+s.http+sayHelloPath, strings.NewReader(`{"name":"Ann"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Big", tt.header)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("HTTP/1.1 SayHello with %d bytes of headers: %v", len(tt.header), err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("HTTP/1.1 SayHello(%q) with %d bytes of headers = %d %.100s, want %d", "Ann", len(tt.header), resp.StatusCode, body, tt.want)
		}
	}

	client := greeterv1.NewGreeterServiceClient(dialPlain(t, s.http))
	for _, tt := range []struct {
		header string
		wantOK bool
	}{
		{within, true},
		{over, false},
	} {
		ctx := metadata.AppendToOutgoingContext(callCtx(t), "x-big", tt.header)
		_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ann"})
		if tt.wantOK && err != nil {
			t.Errorf("gRPC over h2c: SayHello(%q) with %d bytes of metadata = %v, want OK", "Ann", len(tt.header), err)
		}
		if st := status.Convert(err); !tt.wantOK && (st.Code() != codes.Internal || !strings.Contains(st.Message(), "header list size")) {
			t.Errorf("gRPC over h2c: SayHello(%q) with %d bytes of metadata = %v, want Internal naming the header list size", "Ann", len(tt.header), err)
		}
	}

	for _, tt := range []struct {
		desc       string
		headers    []string
		wantStatus string // "" for the connection closed with GOAWAY
	}{
		{desc: "one header of 28 KiB", headers: []string{"x-big", within}, wantStatus: "200"},
		{desc: "four headers of 10 KiB", headers: overInFour, wantStatus: "431"},
		{desc: "one header of 40 KiB", headers: []string{"x-big", over}},
	} {
		raw := dialH2(t, s.http, true)
		raw.headers(t, 1, sayHelloPath, tt.headers...)
		if tt.wantStatus == "" {
			if _, err := raw.until(isGoAway); err != nil {
				t.Errorf("h2c with %s: %v, want GOAWAY", tt.desc, err)
			}
			if _, err := raw.until(func(http2.Frame) bool { return false }); isTimeout(err) || (!errors.Is(err, io.EOF) && !isReset(err)) {
				t.Errorf("h2c with %s: after GOAWAY, read = %v, want the connection closed", tt.desc, err)
			}
			continue
		}
		if err := raw.fr.WriteData(1, true, grpcFrame(annRequest)); err != nil {
			t.Fatal(err)
		}
		if r := raw.response(t, 1); r.status != tt.wantStatus || (tt.wantStatus == "200" && r.grpcStatus != "0") {
			t.Errorf("h2c SayHello(%q) with %s = %v, want :status %s", "Ann", tt.desc, r, tt.wantStatus)
		}
		raw.headers(t, 3, sayHelloPath)
		if err := raw.fr.WriteData(3, true, grpcFrame(annRequest)); err != nil {
			t.Fatal(err)
		}
		if r := raw.response(t, 3); r.grpcStatus != "0" {
			t.Errorf("h2c SayHello(%q) after one with %s, on the same connection = %v, want grpc-status 0", "Ann", tt.desc, r)
		}
	}
}

// TestHTTPMaxConnections fills the server's connection cap with HTTP
// connections: the next connections, on either listener (the cap counts both
// together), are closed at once and the server says so, once; when one
// closes, a new one is served, and the server says that too.
func TestHTTPMaxConnections(t *testing.T) {
	t.Parallel()
	const limit = 3
	var log testlog.Buffer
	s := start(t, serve.Config{Limits: serve.Limits{MaxConnections: limit}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	var held []net.Conn
	for i := range limit {
		conn := dialTCP(t, s.http)
		if code := getOn(t, conn, bufio.NewReader(conn), "/healthz"); code != http.StatusOK {
			t.Fatalf("GET /healthz on HTTP connection #%d of a cap of %d = %d, want 200", i+1, limit, code)
		}
		held = append(held, conn)
	}
	// The cap is the server's, over both listeners: a connection over it is
	// closed on either.
	for i, addr := range []string{s.http, s.addr} {
		over := dialTCP(t, addr)
		// The write may fail, if the server has closed it already.
		_, _ = fmt.Fprint(over, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if got := readToEnd(t, over, "a connection over the cap"); len(got) != 0 {
			t.Errorf("connection #%d (to %s) over a cap of %d was answered %q, want it closed at once", limit+1+i, addr, limit, got)
		}
	}
	if n := strings.Count(log.String(), "connection limit reached"); n != 1 {
		t.Errorf("the server logged the cap %d times for 2 refused connections, want once; log:\n%s", n, log.String())
	}
	held[0].Close()
	logsEventually(t, &log, "accepting connections again", "refused=2")
	resp, err := greeterv1.NewGreeterServiceClient(dialPlain(t, s.addr)).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"})
	if err != nil || resp.GetMessage() != "Hello, Ann!" {
		t.Errorf("SayHello(%q) on the gRPC listener after an HTTP connection closed = %q, %v, want %q", "Ann", resp.GetMessage(), err, "Hello, Ann!")
	}
}

// TestHTTPIdleConnections shortens MaxConnectionIdle: an HTTP/1.1
// keep-alive connection and an h2c connection, each idle after a call, are
// closed by the server.
func TestHTTPIdleConnections(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{Limits: serve.Limits{MaxConnectionIdle: 300 * time.Millisecond}})

	t.Run("HTTP/1.1", func(t *testing.T) {
		conn := dialTCP(t, s.http)
		br := bufio.NewReader(conn)
		if code := getOn(t, conn, br, "/healthz"); code != http.StatusOK {
			t.Fatalf("GET /healthz = %d, want 200", code)
		}
		if got := readToEnd(t, br, "an idle HTTP/1.1 keep-alive connection"); len(got) != 0 {
			t.Errorf("an idle HTTP/1.1 connection was sent %q, want it closed", got)
		}
	})
	t.Run("h2c", func(t *testing.T) {
		raw := dialH2(t, s.http, true)
		raw.headers(t, 1, sayHelloPath)
		if err := raw.fr.WriteData(1, true, grpcFrame(annRequest)); err != nil {
			t.Fatal(err)
		}
		if r := raw.response(t, 1); r.grpcStatus != "0" {
			t.Fatalf("SayHello(%q) over h2c = %v, want grpc-status 0", "Ann", r)
		}
		_, err := raw.until(func(http2.Frame) bool { return false })
		if isTimeout(err) || (!errors.Is(err, io.EOF) && !isReset(err)) {
			t.Errorf("an idle h2c connection: read = %v, want it closed", err)
		}
	})
}
