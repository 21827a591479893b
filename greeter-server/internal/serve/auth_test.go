package serve_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// testPolicy lets ann call everything, bob only SayHello, and no one whose
// token names mallory.
const testPolicy = `{
  "name": "greeter",
  "deny_rules": [{"name": "no-mallory", "request": {"headers": [{"key": "x-jwt-subject", "values": ["mallory"]}]}}],
  "allow_rules": [
    {"name": "ann", "request": {"headers": [{"key": "x-jwt-subject", "values": ["ann", "mallory"]}]}},
    {"name": "bob-hello", "request": {"paths": ["/greeter.v1.GreeterService/SayHello"], "headers": [{"key": "x-jwt-subject", "values": ["bob"]}]}},
    {"name": "client-cert-hello", "source": {"principals": ["CN=greeter-client"]}, "request": {"paths": ["/greeter.v1.GreeterService/SayHello"]}}
  ]
}`

func writePolicy(t *testing.T, doc string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// protocolCaller makes one call over one protocol and returns its status code.
type protocolCaller struct {
	name string
	call func(t *testing.T, method string, md metadata.MD) codes.Code
}

// callers returns a way to call each method over every protocol on every
// listener of s (native gRPC on each, and Connect and the web protocols
// where they are served). method is SayHello or SayHelloStream.
func callers(t *testing.T, s *server, tlsConfig *tls.Config) []protocolCaller {
	t.Helper()
	creds := grpc.WithTransportCredentials(insecureOr(tlsConfig))
	grpcCall := func(addr string) func(*testing.T, string, metadata.MD) codes.Code {
		conn, err := grpc.NewClient(addr, creds)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		client := greeterv1.NewGreeterServiceClient(conn)
		return func(t *testing.T, method string, md metadata.MD) codes.Code {
			ctx := metadata.NewOutgoingContext(callCtx(t), md)
			if method == "SayHello" {
				_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ann"})
				return status.Code(err)
			}
			stream, err := client.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 2})
			if err != nil {
				return status.Code(err)
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if status.Code(err) == codes.Unknown && err.Error() == "EOF" {
						return codes.OK
					}
					return status.Code(err)
				}
			}
		}
	}
	all := []protocolCaller{{"gRPC listener", grpcCall(s.addr)}}
	// trim:http begin
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	hc := httpClient(t, true, tlsConfig)
	connectCall := func(opts ...connect.ClientOption) func(*testing.T, string, metadata.MD) codes.Code {
		hello := connect.NewClient[greeterv1.SayHelloRequest, greeterv1.SayHelloResponse](hc, scheme+s.http+"/greeter.v1.GreeterService/SayHello", opts...)
		stream := connect.NewClient[greeterv1.SayHelloStreamRequest, greeterv1.SayHelloStreamResponse](hc, scheme+s.http+"/greeter.v1.GreeterService/SayHelloStream", opts...)
		return func(t *testing.T, method string, md metadata.MD) codes.Code {
			if method == "SayHello" {
				req := connect.NewRequest(&greeterv1.SayHelloRequest{Name: "Ann"})
				setHeaders(req.Header(), md)
				_, err := hello.CallUnary(callCtx(t), req)
				return connectCode(err)
			}
			req := connect.NewRequest(&greeterv1.SayHelloStreamRequest{Name: "Ann", Count: 2})
			setHeaders(req.Header(), md)
			ss, err := stream.CallServerStream(callCtx(t), req)
			if err != nil {
				return connectCode(err)
			}
			defer ss.Close()
			for ss.Receive() {
			}
			return connectCode(ss.Err())
		}
	}
	all = append(all,
		protocolCaller{"HTTP listener, gRPC", grpcCall(s.http)},
		protocolCaller{"HTTP listener, Connect JSON", connectCall(connect.WithProtoJSON())},
		protocolCaller{"HTTP listener, Connect proto", connectCall()},
		protocolCaller{"HTTP listener, gRPC-Web", connectCall(connect.WithGRPCWeb())},
	)
	// trim:http end
	return all
}

// trim:http begin

// connectCode is the gRPC code of a connect-go client's error.
func connectCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return codes.Code(connect.CodeOf(err))
}

// trim:http end

func insecureOr(tlsConfig *tls.Config) credentials.TransportCredentials {
	if tlsConfig == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(tlsConfig)
}

// trim:http begin

func setHeaders(h http.Header, md metadata.MD) {
	for k, vs := range md {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}

// trim:http end

func bearer(token string, kv ...string) metadata.MD {
	return metadata.Pairs(append([]string{"authorization", "Bearer " + token}, kv...)...)
}

// TestAuthEveryProtocol: with an issuer and a policy, every protocol on
// both listeners lets the same callers through and refuses the same ones,
// with the same codes; a forged x-jwt-subject counts for nothing; health
// needs no token. The very first call is on the gRPC listener, before the
// server has the issuer's keys, so it is the one the tap handle passes on
// to be decided once the keys are fetched.
func TestAuthEveryProtocol(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	var logs testlog.Buffer
	s := start(t, serve.Config{
		Auth:   serve.AuthConfig{OIDCIssuer: iss.URL, OIDCAudience: "greeter", PolicyFile: writePolicy(t, testPolicy)},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	token := func(sub string) string {
		return iss.Token(t, iss.RSA, authtest.Claims{Subject: sub, Audience: []string{"greeter"}})
	}
	ann, bob, mallory := token("ann"), token("bob"), token("mallory")
	stranger := iss.Token(t, iss.EC, authtest.Claims{Subject: "ann", Audience: []string{"another-service"}})
	cases := []struct {
		desc   string
		method string
		md     metadata.MD
		want   codes.Code
	}{
		{"ann says hello", "SayHello", bearer(ann), codes.OK},
		{"ann streams", "SayHelloStream", bearer(ann), codes.OK},
		{"bob says hello", "SayHello", bearer(bob), codes.OK},
		{"bob may not stream", "SayHelloStream", bearer(bob), codes.PermissionDenied},
		{"bob names himself ann", "SayHelloStream", bearer(bob, "x-jwt-subject", "ann"), codes.PermissionDenied},
		{"no token", "SayHello", metadata.MD{}, codes.Unauthenticated},
		{"no token, x-jwt-subject ann", "SayHello", metadata.Pairs("x-jwt-subject", "ann"), codes.Unauthenticated},
		{"mallory is denied", "SayHello", bearer(mallory), codes.PermissionDenied},
		{"a token for another audience", "SayHello", bearer(stranger), codes.Unauthenticated},
		{"garbage", "SayHelloStream", bearer("garbage"), codes.Unauthenticated},
		{"basic auth", "SayHello", metadata.Pairs("authorization", "Basic YW5uOnB3"), codes.Unauthenticated},
	}
	for _, c := range callers(t, s, nil) {
		for _, tc := range cases {
			if got := c.call(t, tc.method, tc.md); got != tc.want {
				t.Errorf("%s: %s: %v, want %v", c.name, tc.desc, got, tc.want)
			}
		}
	}
	for _, addr := range []string{
		s.addr,
		s.http, // trim:http
	} {
		resp, err := healthpb.NewHealthClient(dialPlain(t, addr)).Check(callCtx(t), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health on %s without a token: %v, %v", addr, resp, err)
		}
	}
	// Refusals are logged from a goroutine of their own: wait for them.
	wants := []string{"subject=ann", `reason=no_credentials`, `reason=policy_denied`, `reason=wrong_audience`, "subject=bob"}
	deadline := time.Now().Add(10 * time.Second)
	for !containsAll(logs.String(), wants) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	log := logs.String()
	for _, want := range wants {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q:\n%s", want, log)
		}
	}
	// The very first call, decided once the keys were fetched, names its
	// subject in the access log like every other.
	if first := regexp.MustCompile(`msg=rpc [^\n]*`).FindString(log); !strings.Contains(first, "subject=ann") {
		t.Errorf("the first access log line %q does not name subject=ann", first)
	}
	for _, tok := range []string{ann, bob, mallory, stranger} {
		if strings.Contains(log, tok[len(tok)-16:]) {
			t.Errorf("the log contains a token")
		}
	}
}

// trim:http begin

// TestAuthConnectHTTPStatus: over plain HTTP, Connect answers a call with no
// token 401 with WWW-Authenticate: Bearer, and one the policy refuses 403,
// each with Connect's JSON error body.
func TestAuthConnectHTTPStatus(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	s := start(t, serve.Config{Auth: serve.AuthConfig{OIDCIssuer: iss.URL, OIDCAudience: "greeter", PolicyFile: writePolicy(t, testPolicy)}})
	mallory := iss.Token(t, iss.EC, authtest.Claims{Subject: "mallory", Audience: []string{"greeter"}})
	for _, tc := range []struct {
		desc, auth string
		status     int
		code       string
		challenge  string
	}{
		{"no token", "", 401, "unauthenticated", `Bearer realm="greeter"`},
		{"an expired token", "Bearer " + iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{"greeter"}, Expiry: timeAgo()}), 401, "unauthenticated", `error="invalid_token"`},
		{"refused by the policy", "Bearer " + mallory, 403, "permission_denied", ""},
	} {
		req, err := http.NewRequestWithContext(callCtx(t), http.MethodPost, "http://"+s.http+"/greeter.v1.GreeterService/SayHello", strings.NewReader(`{"name":"Ann"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := httpClient(t, false, nil).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Code, Message string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d %s", tc.desc, resp.StatusCode, body, tc.status, tc.code)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) || (tc.challenge == "") != (got == "") {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.desc, got, tc.challenge)
		}
	}
}

// trim:http end

// TestAuthClientCertificate: with mutual TLS and a policy, the client
// certificate is the principal on both listeners: it may call what the
// policy gives its principal and nothing else, and reflection follows the
// policy too.
func TestAuthClientCertificate(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s := start(t, serve.Config{
		TLS:  serve.TLSFiles{Cert: p.certFile, Key: p.keyFile, ClientCA: p.caFile},
		Auth: serve.AuthConfig{PolicyFile: writePolicy(t, testPolicy)},
	})
	tlsConfig := &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.clientCert}, ServerName: "127.0.0.1"}
	for _, c := range callers(t, s, tlsConfig) {
		if got := c.call(t, "SayHello", metadata.MD{}); got != codes.OK {
			t.Errorf("%s: the certificate's SayHello: %v, want OK", c.name, got)
		}
		if got := c.call(t, "SayHelloStream", metadata.MD{}); got != codes.PermissionDenied {
			t.Errorf("%s: the certificate's SayHelloStream: %v, want PermissionDenied", c.name, got)
		}
	}
	// Reflection follows the policy as every other service does, which
	// gives this certificate SayHello alone; health is open to all.
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := reflectionCode(t, conn); got != codes.PermissionDenied {
		t.Errorf("the certificate's reflection call: %v, want PermissionDenied", got)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(callCtx(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("the certificate's health check: %v, want SERVING", err)
	}
}

// reflectionCode lists the services through server reflection on conn and
// returns the call's status code.
func reflectionCode(t *testing.T, conn *grpc.ClientConn) codes.Code {
	t.Helper()
	stream, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx(t))
	if err != nil {
		return status.Code(err)
	}
	if err := stream.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil && !errors.Is(err, io.EOF) {
		return status.Code(err)
	}
	_, err = stream.Recv()
	return status.Code(err)
}

// TestNoAuthFlagsChangeNothing: without any flag, tokens are not looked
// at: garbage in authorization and a forged x-jwt-subject are ignored.
func TestNoAuthFlagsChangeNothing(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	for _, c := range callers(t, s, nil) {
		if got := c.call(t, "SayHelloStream", bearer("garbage", "x-jwt-subject", "ann")); got != codes.OK {
			t.Errorf("%s: %v, want OK", c.name, got)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// trim:http begin

// TestAuthGRPCWebText: a refused gRPC-Web call in its text form (base64)
// is answered in that protocol, status in the headers, as connect-go's error
// writer cannot.
func TestAuthGRPCWebText(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	s := start(t, serve.Config{Auth: serve.AuthConfig{OIDCIssuer: iss.URL, OIDCAudience: "greeter"}})
	req, err := http.NewRequestWithContext(callCtx(t), http.MethodPost, "http://"+s.http+"/greeter.v1.GreeterService/SayHello", strings.NewReader("AAAAAAA="))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc-web-text")
	resp, err := httpClient(t, false, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "16" || resp.Header.Get("Content-Type") != "application/grpc-web-text" {
		t.Errorf("gRPC-Web text without a token: %d, grpc-status %q, content type %q; want 200, 16, application/grpc-web-text", resp.StatusCode, resp.Header.Get("Grpc-Status"), resp.Header.Get("Content-Type"))
	}
}

// trim:http end

func timeAgo() time.Time { return time.Now().Add(-time.Hour) } // trim:http
