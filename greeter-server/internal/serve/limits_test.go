package serve_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// h2 is a raw HTTP/2 client connection, for what a gRPC library would not do.
type h2 struct {
	conn net.Conn
	fr   *http2.Framer
}

// dialH2 connects to addr and, if preface is set, sends the client preface
// and an empty SETTINGS frame.
func dialH2(t *testing.T, addr string, preface bool) *h2 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &h2{conn: conn, fr: http2.NewFramer(conn, conn)}
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if preface {
		if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
			t.Fatal(err)
		}
		if err := c.fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// headers opens stream id with a gRPC request's headers for method, plus
// extra header pairs; the request body is left unsent.
func (c *h2) headers(t *testing.T, id uint32, method string, extra ...string) {
	t.Helper()
	c.request(t, id, method, append([]string{"content-type", "application/grpc", "te", "trailers"}, extra...)...)
}

// request opens stream id with an HTTP/2 request: the pseudo-headers of a
// POST to path, then the header pairs in fields. The body is left unsent.
func (c *h2) request(t *testing.T, id uint32, path string, fields ...string) {
	t.Helper()
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields = append([]string{":method", "POST", ":scheme", "http", ":path", path, ":authority", "localhost"}, fields...)
	for i := 0; i < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	// Frames may carry at most 16 KiB (HTTP/2's default); the rest of a
	// larger block follows in CONTINUATION frames.
	block := buf.Bytes()
	first := block[:min(len(block), 16<<10)]
	block = block[len(first):]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndHeaders: len(block) == 0}); err != nil {
		t.Fatal(err)
	}
	for len(block) > 0 {
		next := block[:min(len(block), 16<<10)]
		block = block[len(next):]
		if err := c.fr.WriteContinuation(id, len(block) == 0, next); err != nil {
			t.Fatal(err)
		}
	}
}

// until reads frames, answering SETTINGS and PINGs, until stop returns true
// for one, and returns it; or returns the error that ended the connection.
func (c *h2) until(stop func(http2.Frame) bool) (http2.Frame, error) {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = c.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = c.fr.WritePing(true, f.Data)
			}
		}
		if stop(f) {
			return f, nil
		}
	}
}

func isGoAway(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }

// streamStatus returns the grpc-status and grpc-message that end stream id.
// ("0" is OK.)
func (c *h2) streamStatus(t *testing.T, id uint32) (code, msg string) {
	t.Helper()
	f, err := c.until(func(f http2.Frame) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		return ok && h.StreamID == id && h.StreamEnded()
	})
	if err != nil {
		t.Fatalf("reading the end of stream %d: %v", id, err)
	}
	h := f.(*http2.MetaHeadersFrame)
	for _, hf := range h.RegularFields() {
		switch hf.Name {
		case "grpc-status":
			code = hf.Value
		case "grpc-message":
			msg = hf.Value
		}
	}
	return code, msg
}

// TestMaxConcurrentStreams fills a connection with open calls: the next one
// waits for a free stream (a grpc-go client never sends it over the limit)
// and proceeds once one ends; a raw client that opens it anyway has it
// refused while the others go on.
func TestMaxConcurrentStreams(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	client := greeterv1.NewGreeterServiceClient(dialPlain(t, s.addr))
	var open []context.CancelFunc
	for range serve.MaxConcurrentStreams {
		ctx, cancel := context.WithCancel(callCtx(t))
		if _, err := client.SayHelloGroup(ctx); err != nil {
			t.Fatal(err)
		}
		open = append(open, cancel)
	}
	ctx, cancel := context.WithTimeout(callCtx(t), 300*time.Millisecond)
	defer cancel()
	if _, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "one too many"}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("call #%d on one connection = %v, want it to wait (DeadlineExceeded)", serve.MaxConcurrentStreams+1, err)
	}
	open[0]()
	if _, err := client.SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "next"}); err != nil {
		t.Errorf("call after one of %d ended = %v, want OK", serve.MaxConcurrentStreams, err)
	}
	for _, c := range open[1:] {
		c()
	}

	raw := dialH2(t, s.addr, true)
	for i := range uint32(serve.MaxConcurrentStreams + 1) {
		raw.headers(t, 2*i+1, "/greeter.v1.GreeterService/SayHelloGroup")
	}
	last := uint32(2*serve.MaxConcurrentStreams + 1)
	f, err := raw.until(func(f http2.Frame) bool { r, ok := f.(*http2.RSTStreamFrame); return ok && r.StreamID == last })
	if err != nil {
		t.Fatalf("stream #%d on a raw connection: %v, want it reset", serve.MaxConcurrentStreams+1, err)
	}
	if code := f.(*http2.RSTStreamFrame).ErrCode; code != http2.ErrCodeRefusedStream {
		t.Errorf("stream #%d reset with %v, want REFUSED_STREAM", serve.MaxConcurrentStreams+1, code)
	}
}

// TestMaxHeaderListSize sends a request whose headers are over the limit:
// grpc-go refuses to send it, naming the limit the server set; a raw client
// that sends it has its stream reset, and the connection serves on.
func TestMaxHeaderListSize(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	client := greeterv1.NewGreeterServiceClient(dialPlain(t, s.addr))
	big := strings.Repeat("x", serve.MaxHeaderListSize)
	ctx := metadata.AppendToOutgoingContext(callCtx(t), "x-big", big)
	_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "big"})
	if st := status.Convert(err); st.Code() != codes.Internal || !strings.Contains(st.Message(), "header list size") {
		t.Errorf("SayHello with %d bytes of metadata = %v, want Internal naming the header list size", len(big), err)
	}
	// Within the limit: 16 KiB of headers, such as W3C trace context and baggage.
	ctx = metadata.AppendToOutgoingContext(callCtx(t), "baggage", strings.Repeat("y", 16<<10))
	if _, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "baggage"}); err != nil {
		t.Errorf("SayHello with 16 KiB of metadata = %v, want OK", err)
	}

	raw := dialH2(t, s.addr, true)
	raw.headers(t, 1, "/greeter.v1.GreeterService/SayHello", "x-big", big)
	f, err := raw.until(func(f http2.Frame) bool {
		r, ok := f.(*http2.RSTStreamFrame)
		h, isH := f.(*http2.MetaHeadersFrame)
		return (ok && r.StreamID == 1) || (isH && h.StreamID == 1)
	})
	if err != nil {
		t.Fatalf("stream with %d bytes of headers: %v, want it reset", len(big), err)
	}
	if _, ok := f.(*http2.RSTStreamFrame); !ok {
		t.Errorf("stream with %d bytes of headers answered %v, want it reset", len(big), f)
	}
	raw.headers(t, 3, "/greeter.v1.GreeterService/SayHello")
	if err := raw.fr.WriteData(3, true, []byte{0, 0, 0, 0, 5, 0x0a, 3, 'A', 'n', 'n'}); err != nil {
		t.Fatal(err)
	}
	if code, msg := raw.streamStatus(t, 3); code != "0" {
		t.Errorf("SayHello after the reset on the same connection ended with grpc-status %s %q, want 0", code, msg)
	}
}

// TestConnectionTimeout connects and says nothing: the server closes the
// connection once the handshake timeout has passed.
func TestConnectionTimeout(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{Limits: serve.Limits{ConnectionTimeout: 300 * time.Millisecond}})
	conn := dialH2(t, s.addr, false)
	start := time.Now()
	_, err := io.Copy(io.Discard, conn.conn) // the server's SETTINGS, then the end
	if err != nil && !isReset(err) {
		t.Fatalf("a connection that never sent its preface: read = %v, want it closed", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("closed after %v, want about the 300ms handshake timeout", d)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset by peer") }

// TestIdleAndAge shortens the idle and age limits: an idle connection is
// sent GOAWAY; a busy one is sent GOAWAY at its age, its open call may
// finish within the grace, and it is closed after the grace.
func TestIdleAndAge(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{Limits: serve.Limits{MaxConnectionIdle: 300 * time.Millisecond}})
	idle := dialH2(t, s.addr, true)
	if _, err := idle.until(isGoAway); err != nil {
		t.Errorf("an idle connection: %v, want GOAWAY after the idle limit", err)
	}

	s = start(t, serve.Config{Limits: serve.Limits{MaxConnectionAge: 300 * time.Millisecond, MaxConnectionAgeGrace: 2 * time.Second, MaxConnectionIdle: time.Hour}})
	busy := dialH2(t, s.addr, true)
	busy.headers(t, 1, "/greeter.v1.GreeterService/SayHelloGroup")
	if _, err := busy.until(isGoAway); err != nil {
		t.Fatalf("an old connection: %v, want GOAWAY at the age limit", err)
	}
	// The call opened before GOAWAY may still finish.
	if err := busy.fr.WriteData(1, true, []byte{0, 0, 0, 0, 5, 0x0a, 3, 'A', 'n', 'n'}); err != nil {
		t.Fatal(err)
	}
	if code, msg := busy.streamStatus(t, 1); code != "0" {
		t.Errorf("the call open at GOAWAY ended with grpc-status %s %q, want 0 (OK) within the grace", code, msg)
	}
	busy.headers(t, 3, "/greeter.v1.GreeterService/SayHelloGroup")
	start := time.Now()
	_, err := busy.until(func(http2.Frame) bool { return false })
	if err == nil || time.Since(start) > 10*time.Second {
		t.Errorf("a connection past its age and grace: %v after %v, want it closed after the 2s grace", err, time.Since(start))
	}
}

// TestCallLifetime shortens the longest life of a call: a group call and a
// chat that the client never ends are ended by the server with
// DEADLINE_EXCEEDED, saying why, while a health Watch, which clients hold
// for as long as the connection lives, is not; a unary call whose request
// never arrives ends too.
func TestCallLifetime(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	s := start(t, serve.Config{Limits: serve.Limits{MaxStreamDuration: limit, MaxUnaryDuration: limit}})
	conn := dialPlain(t, s.addr)
	ctx := context.Background() // no deadline: the server's limit is all there is
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch, err := healthpb.NewHealthClient(conn).Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	watchErr := make(chan error, 1)
	go func() { _, err := watch.Recv(); watchErr <- err }()

	group, err := greeterv1.NewGreeterServiceClient(conn).SayHelloGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := group.Send(&greeterv1.SayHelloGroupRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	var groupResp greeterv1.SayHelloGroupResponse
	err = group.RecvMsg(&groupResp)
	if st := status.Convert(err); st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "longer than the server allows") {
		t.Errorf("SayHelloGroup left open = %v, want DeadlineExceeded saying the server's limit was reached", err)
	}
	// trim:helloworld begin
	chat, err := helloworld.NewGreeterClient(conn).SayHelloBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = chat.Recv()
	if st := status.Convert(err); st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "longer than the server allows") {
		t.Errorf("SayHelloBidiStream left open = %v, want DeadlineExceeded saying the server's limit was reached", err)
	}
	// trim:helloworld end
	select {
	case err := <-watchErr:
		t.Errorf("health Watch ended with %v, want it left open", err)
	default:
	}

	raw := dialH2(t, s.addr, true)
	raw.headers(t, 1, "/greeter.v1.GreeterService/SayHello")
	if code, msg := raw.streamStatus(t, 1); code != "4" {
		t.Errorf("a unary call whose request never came ended with grpc-status %s %q, want 4 (DEADLINE_EXCEEDED)", code, msg)
	}
}

// TestMaxConnections fills the server to its connection cap: the next
// connection is closed at once and the server says so, once; when one
// closes, a new one is served, and the server says that too.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	const limit = 3
	var log testlog.Buffer
	s := start(t, serve.Config{Limits: serve.Limits{MaxConnections: limit}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	var held []*grpc.ClientConn
	for range limit {
		conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "in"}); err != nil {
			t.Fatalf("connection under the cap: %v", err)
		}
		held = append(held, conn)
	}
	for i := range 2 {
		over, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = over.SetDeadline(time.Now().Add(10 * time.Second))
		// A served connection would get the server's SETTINGS frame.
		if n, err := io.Copy(io.Discard, over); n != 0 || (err != nil && !isReset(err)) {
			t.Fatalf("connection #%d over a cap of %d: read %d bytes, %v; want it closed at once", limit+1+i, limit, n, err)
		}
		over.Close()
	}
	if n := strings.Count(log.String(), "connection limit reached"); n != 1 {
		t.Errorf("the server logged the cap %d times for 2 refused connections, want once; log:\n%s", n, log.String())
	}
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "accepting connections again") {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery logged after a connection closed; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "refused=2") {
		t.Errorf("the recovery line does not count the 2 refused connections; log:\n%s", log.String())
	}
	conn := dialPlain(t, s.addr)
	if _, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "again"}); err != nil {
		t.Errorf("a connection after one closed: %v, want OK", err)
	}
}

// TestDrainEveryStreamingMethod opens a call of every streaming method of
// both APIs that can stay open, each waiting on the client (a group or chat for its next name,
// a stream between two greetings), and shuts the server down: each must end
// with the draining UNAVAILABLE once the stream grace is over, without its
// handler doing anything for it, and the shutdown must not be forced.
func TestDrainEveryStreamingMethod(t *testing.T) {
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
	conn := dialPlain(t, lis.Addr().String())
	v1 := greeterv1.NewGreeterServiceClient(conn)
	hw := helloworld.NewGreeterClient(conn) // trim:helloworld
	ctx := callCtx(t)
	slow := durationpb.New(10 * time.Second)

	calls := map[string]func() error{}
	st, err := v1.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 2, Interval: slow})
	if err != nil {
		t.Fatal(err)
	}
	calls["greeter.v1 SayHelloStream"] = func() error { _, err := st.Recv(); return err }
	group, err := v1.SayHelloGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls["greeter.v1 SayHelloGroup"] = func() error { var r greeterv1.SayHelloGroupResponse; return group.RecvMsg(&r) }
	chat, err := v1.SayHelloChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls["greeter.v1 SayHelloChat"] = func() error { _, err := chat.Recv(); return err }
	// trim:helloworld begin
	// helloworld's SayHelloStreamReply sends its three greetings at once
	// and ends, so no call of it can still be open at shutdown.
	bidi, err := hw.SayHelloBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls["helloworld SayHelloBidiStream"] = func() error { _, err := bidi.Recv(); return err }
	// trim:helloworld end
	// Each call is open on the server once its first greeting, or its
	// headers, has come back.
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := group.Send(&greeterv1.SayHelloGroupRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatal(err)
	}
	// trim:helloworld begin
	if err := bidi.Send(&helloworld.HelloRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bidi.Recv(); err != nil {
		t.Fatal(err)
	}
	// trim:helloworld end

	results := map[string]chan error{}
	for name, recv := range calls {
		res := make(chan error, 1)
		results[name] = res
		go func() { res <- recv() }()
	}
	time.Sleep(100 * time.Millisecond)
	const grace = 300 * time.Millisecond
	if forced := srv.Shutdown(20*time.Second, grace); forced {
		t.Error("Shutdown was forced, want every stream to end at the stream grace")
	}
	for name, res := range results {
		err := <-res
		if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "shutting down") {
			t.Errorf("%s open at shutdown ended with %v, want Unavailable, server is shutting down", name, err)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown = %v", err)
	}
}
