package serve_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// httpClient returns an HTTP client for the tests: HTTP/1.1 only, or HTTP/2
// with prior knowledge (h2c) when h2 is set; tlsConfig, if set, speaks TLS.
func httpClient(t *testing.T, h2 bool, tlsConfig *tls.Config) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: h2}
	tr.Protocols = new(http.Protocols)
	switch {
	case h2 && tlsConfig == nil:
		tr.Protocols.SetUnencryptedHTTP2(true)
	case h2:
		tr.Protocols.SetHTTP2(true)
	default:
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// post sends body to path with contentType and returns the status, the
// protocol the answer came over, and the body.
func post(t *testing.T, c *http.Client, url, contentType, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(callCtx(t), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Proto, got
}

// connectError is the Connect protocol's JSON error body.
type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func TestConnectJSON(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	base := "http://" + s.http
	tests := []struct {
		desc, path, contentType, body string
		wantStatus                    int
		wantBody                      string // in a 200's body
		wantCode                      string // of a Connect error
		wantInMessage                 string // of a Connect error
	}{
		{desc: "greeter.v1", path: "/greeter.v1.GreeterService/SayHello", contentType: "application/json",
			body: `{"name":"Ann"}`, wantStatus: 200, wantBody: `"message":"Hello, Ann!"`},
		// trim:helloworld begin
		{desc: "helloworld", path: "/helloworld.Greeter/SayHello", contentType: "application/json",
			body: `{"name":"Ann"}`, wantStatus: 200, wantBody: `"message":"Hello, Ann!"`},
		// trim:helloworld end
		{desc: "charset parameter", path: "/greeter.v1.GreeterService/SayHelloAgain", contentType: "application/json; charset=utf-8",
			body: `{"name":"Ann"}`, wantStatus: 200, wantBody: `Ann`},
		{desc: "broken rule", path: "/greeter.v1.GreeterService/SayHello", contentType: "application/json",
			body: `{"name":""}`, wantStatus: 400, wantCode: "invalid_argument", wantInMessage: "name"},
		{desc: "malformed JSON", path: "/greeter.v1.GreeterService/SayHello", contentType: "application/json",
			body: `{"name":`, wantStatus: 400, wantCode: "invalid_argument"},
		{desc: "unknown field", path: "/greeter.v1.GreeterService/SayHello", contentType: "application/json",
			body: `{"nom":"Ann"}`, wantStatus: 400, wantCode: "invalid_argument"},
		{desc: "wrong content type", path: "/greeter.v1.GreeterService/SayHello", contentType: "text/plain",
			body: `{"name":"Ann"}`, wantStatus: 415},
		{desc: "too large", path: "/greeter.v1.GreeterService/SayHello", contentType: "application/json",
			body: `{"name":"` + strings.Repeat("a", serve.MaxRecvMsgSize) + `"}`, wantStatus: 429, wantCode: "resource_exhausted"},
		{desc: "unknown method", path: "/greeter.v1.GreeterService/NoSuchMethod", contentType: "application/json",
			body: `{}`, wantStatus: 404},
	}
	for _, h2 := range []bool{false, true} {
		c := httpClient(t, h2, nil)
		wantProto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
		for _, tt := range tests {
			status, proto, body := post(t, c, base+tt.path, tt.contentType, tt.body)
			what := wantProto + " " + tt.desc + ": POST " + tt.path
			if status != tt.wantStatus || proto != wantProto {
				t.Errorf("%s = %d over %s, want %d over %s; body %.200s", what, status, proto, tt.wantStatus, wantProto, body)
				continue
			}
			if tt.wantBody != "" && !bytes.Contains(body, []byte(tt.wantBody)) {
				t.Errorf("%s body = %s, want it to contain %s", what, body, tt.wantBody)
			}
			if tt.wantCode != "" {
				var e connectError
				if err := json.Unmarshal(body, &e); err != nil || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantInMessage) {
					t.Errorf("%s error = %s (%v), want code %q with a message naming %q", what, body, err, tt.wantCode, tt.wantInMessage)
				}
			}
		}
	}
}

// TestConnectProto calls with binary protobuf (application/proto) over HTTP/1.1.
func TestConnectProto(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	req, err := proto.Marshal(&greeterv1.SayHelloRequest{Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := post(t, httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHello", "application/proto", string(req))
	var resp greeterv1.SayHelloResponse
	if status != 200 {
		t.Fatalf("POST application/proto = %d %s, want 200", status, body)
	}
	if err := proto.Unmarshal(body, &resp); err != nil || resp.GetMessage() != "Hello, Ann!" {
		t.Errorf("SayHello(%q) over application/proto = %q, %v, want %q", "Ann", resp.GetMessage(), err, "Hello, Ann!")
	}

	// A body that is not protobuf is the client's mistake: 400, as for
	// malformed JSON, not the 500 of a request grpc-go cannot decode.
	for _, bad := range []string{"\xff\xff\xff", `{"name":"Ann"}`, "\x0a\x05Ann"} {
		status, _, body := post(t, httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHello", "application/proto", bad)
		if status != 400 || !strings.Contains(string(body), `"code":"invalid_argument"`) || !strings.Contains(string(body), "greeter.v1.SayHelloRequest") {
			t.Errorf("POST application/proto %q = %d %s, want 400 invalid_argument naming the request message", bad, status, body)
		}
	}
	// A name that is not UTF-8 is valid protobuf for the server's codec and
	// reaches the name rule, as over native gRPC.
	status, _, body = post(t, httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHello", "application/proto", "\x0a\x02\xff\xfe")
	if status != 400 || !strings.Contains(string(body), "invalid name") {
		t.Errorf("POST application/proto with a name that is not UTF-8 = %d %s, want 400 invalid name", status, body)
	}
}

// TestConnectAndGRPCWebClients calls with connect-go's client, which speaks
// the Connect protocol and gRPC-Web: unary and server streaming, over HTTP/1.1
// and HTTP/2.
func TestConnectAndGRPCWebClients(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	protocols := []struct {
		desc string
		opts []connect.ClientOption
	}{
		{"connect+proto", nil},
		{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, h2 := range []bool{false, true} {
		hc := httpClient(t, h2, nil)
		for _, p := range protocols {
			what := p.desc
			if h2 {
				what += " over h2c"
			}
			unary := connect.NewClient[greeterv1.SayHelloRequest, greeterv1.SayHelloResponse](hc, "http://"+s.http+"/greeter.v1.GreeterService/SayHello", p.opts...)
			resp, err := unary.CallUnary(callCtx(t), connect.NewRequest(&greeterv1.SayHelloRequest{Name: "Ann"}))
			if err != nil || resp.Msg.GetMessage() != "Hello, Ann!" {
				t.Errorf("%s: SayHello(%q) = %v, %v, want %q", what, "Ann", resp, err, "Hello, Ann!")
			}
			_, err = unary.CallUnary(callCtx(t), connect.NewRequest(&greeterv1.SayHelloRequest{}))
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "name") {
				t.Errorf("%s: SayHello(%q) error = %v, want InvalidArgument naming the name", what, "", err)
			}

			stream := connect.NewClient[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](hc, "http://"+s.http+"/greeter.v1.GreeterService/SayHelloStream", p.opts...)
			ss, err := stream.CallServerStream(callCtx(t), connect.NewRequest(&greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 3}))
			if err != nil {
				t.Errorf("%s: SayHelloStream: %v", what, err)
				continue
			}
			var got []string
			for ss.Receive() {
				got = append(got, ss.Msg().GetMessage())
			}
			if err := ss.Err(); err != nil || len(got) != 3 {
				t.Errorf("%s: SayHelloStream(%q, 3) = %q, %v, want 3 greetings", what, "Ann", got, err)
			}
			ss.Close()
		}
	}
}

// TestHTTPAccessLog checks that calls over HTTP go through the server's gRPC
// interceptors: the access log names the method and the code.
func TestHTTPAccessLog(t *testing.T) {
	t.Parallel()
	var logs testlog.Buffer
	s := start(t, serve.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	status, _, body := post(t, httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHello", "application/json", `{"name":""}`)
	if status != 400 {
		t.Fatalf("POST SayHello with no name = %d %s, want 400", status, body)
	}
	if want := "/greeter.v1.GreeterService/SayHello"; !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "InvalidArgument") {
		t.Errorf("log after an HTTP call = %q, want an access line naming %s and InvalidArgument", logs.String(), want)
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	c := httpClient(t, false, nil)
	for path, want := range map[string]string{"/": "<form", "/greet.js": "/greeter.v1.GreeterService/SayHello"} {
		resp, err := c.Get("http://" + s.http + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(want)) || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s = %d, CSP %q, body %.100s; want 200 with a CSP and %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body, want)
		}
	}
}

// TestHTTPOverTLS calls over HTTP/1.1 and HTTP/2 with TLS on the port that
// serves gRPC with TLS, and checks that mutual TLS refuses an HTTP client
// without a certificate as it refuses a gRPC one (TestTLS).
func TestHTTPOverTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.certFile, Key: p.keyFile}})
	mtlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.certFile, Key: p.keyFile, ClientCA: p.caFile}})
	tests := []struct {
		desc       string
		addr       string
		client     *tls.Config
		h2, wantOK bool
	}{
		{desc: "TLS, HTTP/1.1", addr: tlsServer.http, client: &tls.Config{RootCAs: p.pool}, wantOK: true},
		{desc: "TLS, HTTP/2", addr: tlsServer.http, client: &tls.Config{RootCAs: p.pool}, h2: true, wantOK: true},
		{desc: "mTLS with a client certificate", addr: mtlsServer.http, client: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.clientCert}}, h2: true, wantOK: true},
		{desc: "mTLS without a client certificate", addr: mtlsServer.http, client: &tls.Config{RootCAs: p.pool}},
		{desc: "mTLS with an untrusted client certificate", addr: mtlsServer.http, client: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.otherCert}}},
	}
	for _, tt := range tests {
		c := httpClient(t, tt.h2, tt.client)
		req, _ := http.NewRequestWithContext(callCtx(t), http.MethodPost, "https://"+tt.addr+"/greeter.v1.GreeterService/SayHello", strings.NewReader(`{"name":"Ann"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if !tt.wantOK {
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s: POST = %d, want the handshake refused", tt.desc, resp.StatusCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: POST: %v", tt.desc, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Hello, Ann!")) || (resp.ProtoMajor == 2) != tt.h2 {
			t.Errorf("%s: POST = %d %s over %s, want 200 with the greeting", tt.desc, resp.StatusCode, body, resp.Proto)
		}
	}
}

// TestSilentConnectionDoesNotBlock checks that connections that say nothing,
// on either listener, hold up neither gRPC nor HTTP clients: each server
// handshakes every connection in a goroutine of its own.
func TestSilentConnectionDoesNotBlock(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	for _, addr := range []string{s.addr, s.addr, s.http, s.http} {
		silent, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { silent.Close() })
	}
	conn := dialPlain(t, s.addr)
	if _, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "Ann"}); err != nil {
		t.Errorf("gRPC SayHello with silent connections open: %v", err)
	}
	if status, _, body := post(t, httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHello", "application/json", `{"name":"Ann"}`); status != 200 {
		t.Errorf("HTTP SayHello with silent connections open = %d %s, want 200", status, body)
	}
}

// TestShutdownLetsHTTPCallsFinish checks that a Connect stream open when
// shutdown starts gets its stream grace, then ends with Unavailable, as a
// gRPC stream does.
func TestShutdownLetsHTTPCallsFinish(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{ShutdownTimeout: 5 * time.Second, StreamGrace: 200 * time.Millisecond})
	c := connect.NewClient[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](httpClient(t, false, nil), "http://"+s.http+"/greeter.v1.GreeterService/SayHelloStream")
	ss, err := c.CallServerStream(callCtx(t), connect.NewRequest(&greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 100, Interval: durationpb.New(time.Second)}))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	if !ss.Receive() {
		t.Fatalf("first greeting: %v", ss.Err())
	}
	s.cancel() // the cleanup checks that Run then returns nil
	for ss.Receive() {
	}
	if connect.CodeOf(ss.Err()) != connect.CodeUnavailable {
		t.Errorf("stream open at shutdown ended with %v, want Unavailable", ss.Err())
	}
}

// answer is what send got back.
type answer struct {
	status int
	proto  string
	header http.Header
	body   string
}

// send makes a request with method and headers (a body only for POST and
// PUT) and returns the answer.
func send(t *testing.T, c *http.Client, method, url string, header http.Header) answer {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPut {
		body = strings.NewReader(`{"name":"Ann"}`)
	}
	req, err := http.NewRequestWithContext(callCtx(t), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, proto: resp.Proto, header: resp.Header, body: string(got)}
}

// TestMethodNotAllowed checks that a request to one of the API's methods
// with another HTTP method than POST (a GET typed into a browser) is
// answered 405 with Allow: POST, on every service, before authentication,
// while calls, CORS preflights, and GETs of paths that are no method are
// answered as before.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example.com"
	iss := authtest.NewIssuer(t)
	open := start(t, serve.Config{CORSOrigins: []string{origin}})
	guarded := start(t, serve.Config{Auth: serve.AuthConfig{OIDCIssuer: iss.URL, OIDCAudience: "greeter"}})
	jsonCall := http.Header{"Content-Type": {"application/json"}}
	preflight := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}
	tests := []struct {
		desc, method, path string
		header             http.Header
		guarded            bool // on the server with authentication
		wantStatus         int
		wantAllow          string
	}{
		{desc: "GET", method: http.MethodGet, path: "/greeter.v1.GreeterService/SayHello", wantStatus: 405, wantAllow: "POST"},
		{desc: "GET with a content type", method: http.MethodGet, path: "/greeter.v1.GreeterService/SayHello", header: jsonCall, wantStatus: 405, wantAllow: "POST"},
		{desc: "Connect GET of a method with side effects", method: http.MethodGet,
			path: "/greeter.v1.GreeterService/SayHello?connect=v1&encoding=json&message=%7B%22name%22%3A%22Ann%22%7D", wantStatus: 405, wantAllow: "POST"},
		{desc: "HEAD", method: http.MethodHead, path: "/greeter.v1.GreeterService/SayHello", wantStatus: 405, wantAllow: "POST"},
		{desc: "PUT", method: http.MethodPut, path: "/greeter.v1.GreeterService/SayHelloAgain", header: jsonCall, wantStatus: 405, wantAllow: "POST"},
		{desc: "DELETE of a stream", method: http.MethodDelete, path: "/greeter.v1.GreeterService/SayHelloStream", wantStatus: 405, wantAllow: "POST"},
		{desc: "GET of health", method: http.MethodGet, path: "/grpc.health.v1.Health/Check", wantStatus: 405, wantAllow: "POST"},
		{desc: "OPTIONS that is no preflight", method: http.MethodOptions, path: "/greeter.v1.GreeterService/SayHello", wantStatus: 405, wantAllow: "POST"},
		{desc: "GET without a token, with authentication on", method: http.MethodGet, path: "/greeter.v1.GreeterService/SayHello", guarded: true, wantStatus: 405, wantAllow: "POST"},
		{desc: "POST without a token, with authentication on", method: http.MethodPost, path: "/greeter.v1.GreeterService/SayHello", header: jsonCall, guarded: true, wantStatus: 401},
		{desc: "POST", method: http.MethodPost, path: "/greeter.v1.GreeterService/SayHello", header: jsonCall, wantStatus: 200},
		{desc: "CORS preflight", method: http.MethodOptions, path: "/greeter.v1.GreeterService/SayHello", header: preflight, wantStatus: 204},
		{desc: "GET of an unknown method", method: http.MethodGet, path: "/greeter.v1.GreeterService/NoSuchMethod", wantStatus: 404},
		{desc: "GET of an unknown path", method: http.MethodGet, path: "/nothing/here", wantStatus: 404},
		{desc: "GET of the page", method: http.MethodGet, path: "/", wantStatus: 200},
	}
	for _, h2 := range []bool{false, true} {
		c := httpClient(t, h2, nil)
		for _, tt := range tests {
			s := open
			if tt.guarded {
				s = guarded
			}
			got := send(t, c, tt.method, "http://"+s.http+tt.path, tt.header)
			what := fmt.Sprintf("%s: %s %s over %s", tt.desc, tt.method, tt.path, got.proto)
			if got.status != tt.wantStatus || got.header.Get("Allow") != tt.wantAllow {
				t.Errorf("%s = %d, Allow %q; want %d, Allow %q; body %.200s", what, got.status, got.header.Get("Allow"), tt.wantStatus, tt.wantAllow, got.body)
				continue
			}
			if tt.wantStatus == 405 && tt.method != http.MethodHead && !strings.Contains(got.body, "called with POST") {
				t.Errorf("%s: body %q does not say the method is called with POST", what, got.body)
			}
			if tt.header.Get("Origin") != "" && got.header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", what, got.header.Get("Access-Control-Allow-Origin"), origin)
			}
		}
	}
}

// TestUnsupportedContentType checks the 415 answer to a call with a content
// type the API does not speak: Accept-Post lists each content type the API
// speaks once, and so does the message, with nothing else.
func TestUnsupportedContentType(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	got := send(t, httpClient(t, false, nil), http.MethodPost, "http://"+s.http+"/greeter.v1.GreeterService/SayHello",
		http.Header{"Content-Type": {"text/plain; charset=utf-8"}})
	if got.status != http.StatusUnsupportedMediaType || !strings.Contains(got.body, `unsupported content type "text/plain"`) {
		t.Fatalf("POST text/plain = %d %q, want 415 naming text/plain", got.status, got.body)
	}
	accepted := strings.Split(got.header.Get("Accept-Post"), ", ")
	for _, want := range []string{"application/json", "application/proto", "application/connect+json", "application/grpc-web", "application/grpc"} {
		if !slices.Contains(accepted, want) {
			t.Errorf("Accept-Post = %q, want it to list %s", accepted, want)
		}
	}
	// Every application/... in the message, counted as a whole word.
	named := map[string]int{}
	for _, m := range regexp.MustCompile(`application/[a-z+-]+`).FindAllString(got.body, -1) {
		named[m]++
	}
	for _, ct := range accepted {
		if named[ct] != 1 {
			t.Errorf("the 415 message names %s %d times, want once: %q", ct, named[ct], got.body)
		}
		if i := slices.Index(accepted, ct); slices.Contains(accepted[i+1:], ct) {
			t.Errorf("Accept-Post = %q lists %s more than once", accepted, ct)
		}
		delete(named, ct)
	}
	if len(named) > 0 {
		t.Errorf("the 415 message names %v, which Accept-Post does not list: %q", named, got.body)
	}
}
