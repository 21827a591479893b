package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/proto"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// A protocol call is one request of TestOnePooledConnection: it sends a
// SayHello for name over c to the HTTP listener at addr, in one protocol,
// and returns the greeting, or an error saying what was wrong with the
// answer. With gzip set it compresses the request and checks that the
// answer came back compressed in kind.
type protocolCall func(c *http.Client, addr, name string, gzip bool) (string, error)

// The protocols the HTTP listener speaks, as a pooling proxy forwards them.
var protocols = []struct {
	name string
	call protocolCall
}{
	{"gRPC", callGRPC},
	{"Connect JSON", callConnect("application/json")},
	{"Connect proto", callConnect("application/proto")},
	{"gRPC-Web", callGRPCWeb},
}

// TestOnePooledConnection sends every protocol the HTTP listener speaks over
// ONE HTTP/2 connection, in several orders, compressed and not, with the page
// and /healthz in between: what a proxy that pools its upstream connections
// (HAProxy's http-reuse, Envoy, Istio, a cloud load balancer) does. Every
// request must be answered, and the connection must be the only one made.
func TestOnePooledConnection(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	var dials atomic.Int32
	tr := &http.Transport{
		Protocols:       new(http.Protocols),
		MaxConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	type step struct {
		desc string
		run  func(i int) error
	}
	var steps []step
	for _, p := range protocols {
		for _, gz := range []bool{false, true} {
			desc := p.name
			if gz {
				desc += ", gzip"
			}
			steps = append(steps, step{desc, func(i int) error {
				name := fmt.Sprintf("call %d", i)
				got, err := p.call(c, srv.HTTPAddr, name, gz)
				if want := "Hello, " + name + "!"; err == nil && got != want {
					err = fmt.Errorf("greeting %q, want %q", got, want)
				}
				return err
			}})
		}
	}
	steps = append(steps,
		step{"GET /", func(int) error { return get(c, "http://"+srv.HTTPAddr+"/", "<form") }},
		step{"GET /healthz", func(int) error { return get(c, "http://"+srv.HTTPAddr+"/healthz", "SERVING") }},
	)
	n := len(steps)
	orders := map[string]func(k int) int{
		"in order":    func(k int) int { return k },
		"reversed":    func(k int) int { return n - 1 - k },
		"interleaved": func(k int) int { return (k * 3) % n }, // n is not a multiple of 3
	}
	if n%3 == 0 {
		t.Fatalf("%d steps: the interleaved order would repeat steps", n)
	}
	i := 0
	for order, at := range orders {
		for k := range n {
			s := steps[at(k)]
			i++
			if err := s.run(i); err != nil {
				t.Errorf("%s, step %d (%s): %v", order, k, s.desc, err)
			}
		}
	}
	// And all at once, as a proxy multiplexes its clients' calls.
	var wg sync.WaitGroup
	for k, s := range steps {
		wg.Go(func() {
			if err := s.run(1000 + k); err != nil {
				t.Errorf("concurrently, %s: %v", s.desc, err)
			}
		})
	}
	wg.Wait()
	if got := dials.Load(); got != 1 {
		t.Errorf("the client made %d connections, want every request on 1", got)
	}
	srv.checkServing(t)
}

// TestGRPCListenerCompression checks gzip on the gRPC listener: a compressed
// request is answered compressed in kind.
func TestGRPCListenerCompression(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	var seen responseCompression
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(&seen))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "gz"}, grpc.UseCompressor(grpcgzip.Name))
	if err != nil || resp.GetMessage() != "Hello, gz!" {
		t.Fatalf("SayHello(%q) with gzip = %q, %v, want %q", "gz", resp.GetMessage(), err, "Hello, gz!")
	}
	if got := seen.get(); got != grpcgzip.Name {
		t.Errorf("response compression = %q, want %q", got, grpcgzip.Name)
	}
}

// responseCompression is a client stats handler that keeps the compression
// of the last response headers.
type responseCompression struct {
	mu  sync.Mutex
	got string
}

func (r *responseCompression) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}

func (r *responseCompression) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (r *responseCompression) HandleConn(context.Context, stats.ConnStats) {}

func (r *responseCompression) HandleRPC(_ context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok {
		r.mu.Lock()
		r.got = h.Compression
		r.mu.Unlock()
	}
}

func (r *responseCompression) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// get fails unless GET url answers 200 with wantInBody in its body.
func get(c *http.Client, url, wantInBody string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(wantInBody)) {
		return fmt.Errorf("GET %s = %d %.100q, want 200 with %q", url, resp.StatusCode, body, wantInBody)
	}
	return nil
}

// answer is an HTTP response read to its end.
type answer struct {
	status          int
	proto           string
	major           int
	header, trailer http.Header
	body            []byte
}

// post sends body with headers (name, value pairs) and returns the answer.
func post(c *http.Client, url string, body []byte, headers ...string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	// The trailers are complete once the body has been read.
	return answer{resp.StatusCode, resp.Proto, resp.ProtoMajor, resp.Header, resp.Trailer, got}, err
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func gunzipped(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// envelope frames msg as gRPC and gRPC-Web do: a flags byte (1:
// compressed), the length, the message.
func envelope(flags byte, msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

// unenvelope splits b into its frames.
func unenvelope(b []byte) (flags []byte, msgs [][]byte, err error) {
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, nil, fmt.Errorf("truncated frame header %q", b)
		}
		n := binary.BigEndian.Uint32(b[1:5])
		if uint32(len(b)-5) < n {
			return nil, nil, fmt.Errorf("frame of %d bytes with %d left", n, len(b)-5)
		}
		flags, msgs = append(flags, b[0]), append(msgs, b[5:5+n])
		b = b[5+n:]
	}
	return flags, msgs, nil
}

// requestFrame is a SayHello request framed for gRPC or gRPC-Web, gzipped if
// gz is set.
func requestFrame(name string, gz bool) []byte {
	msg, _ := proto.Marshal(&greeterv1.SayHelloRequest{Name: name})
	if gz {
		return envelope(1, gzipped(msg))
	}
	return envelope(0, msg)
}

// greetingFrom decodes a SayHello response message from a frame with flags.
func greetingFrom(flags byte, msg []byte, gz bool) (string, error) {
	if compressed := flags&1 == 1; compressed != gz {
		return "", fmt.Errorf("response message compressed = %v, want %v", compressed, gz)
	}
	if gz {
		var err error
		if msg, err = gunzipped(msg); err != nil {
			return "", err
		}
	}
	var resp greeterv1.SayHelloResponse
	if err := proto.Unmarshal(msg, &resp); err != nil {
		return "", err
	}
	return resp.GetMessage(), nil
}

func callGRPC(c *http.Client, addr, name string, gz bool) (string, error) {
	headers := []string{"Content-Type", "application/grpc", "TE", "trailers", "Grpc-Accept-Encoding", "gzip"}
	if gz {
		headers = append(headers, "Grpc-Encoding", "gzip")
	}
	resp, err := post(c, "http://"+addr+sayHello, requestFrame(name, gz), headers...)
	if err != nil {
		return "", err
	}
	body := resp.body
	if st := resp.trailer.Get("Grpc-Status"); resp.status != 200 || st != "0" {
		return "", fmt.Errorf("HTTP %d, grpc-status %q, grpc-message %q", resp.status, st, resp.trailer.Get("Grpc-Message"))
	}
	if enc := resp.header.Get("Grpc-Encoding"); gz && enc != "gzip" {
		return "", fmt.Errorf("response grpc-encoding %q, want gzip", enc)
	}
	flags, msgs, err := unenvelope(body)
	if err != nil || len(msgs) != 1 {
		return "", fmt.Errorf("response body %q: %d messages, %w", body, len(msgs), err)
	}
	return greetingFrom(flags[0], msgs[0], gz)
}

func callGRPCWeb(c *http.Client, addr, name string, gz bool) (string, error) {
	headers := []string{"Content-Type", "application/grpc-web+proto", "X-Grpc-Web", "1", "Grpc-Accept-Encoding", "gzip"}
	if gz {
		headers = append(headers, "Grpc-Encoding", "gzip")
	}
	resp, err := post(c, "http://"+addr+sayHello, requestFrame(name, gz), headers...)
	if err != nil {
		return "", err
	}
	body := resp.body
	if resp.status != 200 {
		return "", fmt.Errorf("HTTP %d: %q", resp.status, body)
	}
	if enc := resp.header.Get("Grpc-Encoding"); gz && enc != "gzip" {
		return "", fmt.Errorf("response grpc-encoding %q, want gzip", enc)
	}
	flags, msgs, err := unenvelope(body)
	if err != nil || len(msgs) != 2 || flags[1]&0x80 == 0 {
		return "", fmt.Errorf("response body %q: want a message and a trailers frame (%w)", body, err)
	}
	trailers := msgs[1]
	if flags[1]&1 == 1 {
		if trailers, err = gunzipped(trailers); err != nil {
			return "", err
		}
	}
	if !strings.Contains(strings.ToLower(string(trailers)), "grpc-status: 0") && !strings.Contains(strings.ToLower(string(trailers)), "grpc-status:0") {
		return "", fmt.Errorf("trailers %q, want grpc-status 0", trailers)
	}
	return greetingFrom(flags[0], msgs[0], gz)
}

// callConnect returns a protocolCall for a unary Connect call with a body
// of contentType: application/json or application/proto.
func callConnect(contentType string) protocolCall {
	return func(c *http.Client, addr, name string, gz bool) (string, error) {
		var body []byte
		if contentType == "application/json" {
			body, _ = json.Marshal(map[string]string{"name": name})
		} else {
			body, _ = proto.Marshal(&greeterv1.SayHelloRequest{Name: name})
		}
		headers := []string{"Content-Type", contentType, "Accept-Encoding", "gzip"}
		if gz {
			body = gzipped(body)
			headers = append(headers, "Content-Encoding", "gzip")
		}
		resp, err := post(c, "http://"+addr+sayHello, body, headers...)
		if err != nil {
			return "", err
		}
		got := resp.body
		if resp.status != 200 {
			return "", fmt.Errorf("HTTP %d: %q", resp.status, got)
		}
		if enc := resp.header.Get("Content-Encoding"); gz != (enc == "gzip") {
			return "", fmt.Errorf("response Content-Encoding %q for a request compressed: %v", enc, gz)
		}
		if gz {
			if got, err = gunzipped(got); err != nil {
				return "", err
			}
		}
		var out greeterv1.SayHelloResponse
		if contentType == "application/json" {
			var m struct{ Message string }
			if err := json.Unmarshal(got, &m); err != nil {
				return "", fmt.Errorf("response %q: %w", got, err)
			}
			return m.Message, nil
		}
		if err := proto.Unmarshal(got, &out); err != nil {
			return "", fmt.Errorf("response %q: %w", got, err)
		}
		return out.GetMessage(), nil
	}
}
