package serve

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
)

// methodStream is the least grpc.ServerTransportStream that makes
// grpc.Method(ctx) answer, as grpc-go's does for a call's interceptors.
type methodStream struct{ method string }

func (m methodStream) Method() string                  { return m.method }
func (m methodStream) SetHeader(metadata.MD) error     { return nil }
func (m methodStream) SendHeader(metadata.MD) error    { return nil }
func (m methodStream) SetTrailer(md metadata.MD) error { return nil }

func newAuthServer(t *testing.T, iss *authtest.Issuer) *Server {
	t.Helper()
	s, err := New(Config{Auth: AuthConfig{OIDCIssuer: iss.URL, OIDCAudience: "greeter"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// tapCall runs s's tap handle for a call to method with md, as grpc-go
// would, and then, if the tap passed the call on undecided, the decision
// the interceptors make (authPending). It returns the context the handler
// would get.
func tapCall(t *testing.T, s *Server, method string, md metadata.MD) (context.Context, error) {
	t.Helper()
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}})
	ctx = metadata.NewIncomingContext(ctx, md)
	ctx, err := s.callContext(ctx, &tap.Info{FullMethodName: method, Header: md})
	if err != nil {
		return nil, err
	}
	return s.authPending(grpc.NewContextWithServerTransportStream(ctx, methodStream{method}))
}

// TestForgedSubjectNeverReachesTheService: a client's own x-jwt-subject is
// removed from the headers the service sees, on the gRPC listener (decided
// in the tap handle, and decided late, while the keys are fetched), and on
// every other listener; the verified subject is in the context.
func TestForgedSubjectNeverReachesTheService(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	s := newAuthServer(t, iss)
	token := iss.Token(t, iss.RSA, authtest.Claims{Subject: "bob", Audience: []string{"greeter"}})
	for _, when := range []string{"decided late (no keys yet)", "decided in the tap handle"} {
		md := metadata.Pairs("authorization", "Bearer "+token, auth.SubjectHeader, "ann")
		ctx, err := tapCall(t, s, "/greeter.v1.GreeterService/SayHello", md)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		got, _ := metadata.FromIncomingContext(ctx)
		if v := got.Get(auth.SubjectHeader); len(v) != 0 {
			t.Errorf("%s: the service sees %s: %q", when, auth.SubjectHeader, v)
		}
		if c, ok := auth.FromContext(ctx); !ok || c.Subject != "bob" {
			t.Errorf("%s: caller in the context = %+v, %v; want subject bob", when, c, ok)
		}
		if len(md.Get(auth.SubjectHeader)) != 1 {
			t.Errorf("%s: the tap handle changed grpc-go's own metadata map", when)
		}
	}

	// trim:http begin
	var seen http.Header
	var caller auth.Caller
	h := s.authHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		caller, _ = auth.FromContext(r.Context())
	}))
	req := httptest.NewRequest(http.MethodPost, "/greeter.v1.GreeterService/SayHello", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Add("X-Jwt-Subject", "ann")
	req.Header.Add("x-jwt-subject", "carol")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen == nil {
		t.Fatal("the HTTP listener refused a good token")
	}
	if v := seen.Values(auth.SubjectHeader); len(v) != 0 {
		t.Errorf("HTTP listener: the service sees %s: %q", auth.SubjectHeader, v)
	}
	if caller.Subject != "bob" {
		t.Errorf("HTTP listener: caller in the context = %+v, want subject bob", caller)
	}
	// trim:http end
}

// TestLateDecisionRefuses: a call the tap handle passes on undecided
// (the server has no keys yet) is still refused, with the same codes, when
// it is decided: a token of a key the issuer never published, no subject
// the policy allows.
func TestLateDecisionRefuses(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	rogue := authtest.NewRSAKey(t, "rogue")
	s := newAuthServer(t, iss)
	_, err := tapCall(t, s, "/greeter.v1.GreeterService/SayHello",
		metadata.Pairs("authorization", "Bearer "+iss.Token(t, rogue, authtest.Claims{Subject: "ann", Audience: []string{"greeter"}})))
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("a key the issuer never published, decided late: %v, want Unauthenticated", err)
	}
}
