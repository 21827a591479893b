//go:build authzconformance

// These tests compare Policy with grpc-go's own authz package, which pulls
// in Envoy's RBAC protos (github.com/envoyproxy/go-control-plane) only for
// them: built with the tag authzconformance alone, so that the rest of the
// test command does not compile those packages three times over.
// scripts/test.sh runs them in a step of their own:
//
//	go -C greeter-server test -tags authzconformance -run GRPCGo ./internal/auth

package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/authz"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/greeter-go/greeter/greeter-server/internal/testpki"
)

// policies exercise every part of the format: paths (exact, prefix*,
// *suffix, *), principals (URI, DNS, subject, *), headers (several values,
// a header sent twice), deny before allow.
var policies = []string{
	`{"name": "paths", "allow_rules": [
		{"name": "hello", "request": {"paths": ["/greeter.v1.GreeterService/SayHello", "/other.*"]}},
		{"name": "suffix", "request": {"paths": ["*/ServerReflectionInfo"]}}]}`,
	`{"name": "subjects",
		"deny_rules": [{"name": "robots", "request": {"headers": [{"key": "X-JWT-Subject", "values": ["robot-*"]}]}}],
		"allow_rules": [{"name": "anyone", "request": {"headers": [{"key": "x-jwt-subject", "values": ["*"]}]}}]}`,
	`{"name": "principals", "allow_rules": [
		{"name": "spiffe", "source": {"principals": ["spiffe://example.org/ns/*"]}},
		{"name": "dns", "source": {"principals": ["*.example.com"]}, "request": {"paths": ["/greeter.v1.GreeterService/*"]}},
		{"name": "cn", "source": {"principals": ["CN=greeter-client"]}, "request": {"paths": ["/other.Service/Do"]}}]}`,
	`{"name": "any-principal", "allow_rules": [{"name": "tls", "source": {"principals": ["*"]}}]}`,
	`{"name": "empty-principal", "allow_rules": [{"name": "tls-no-cert", "source": {"principals": [""]}}]}`,
	`{"name": "teams", "allow_rules": [
		{"name": "blue-or-red", "request": {"headers": [{"key": "x-team", "values": ["blue", "*-red"]}, {"key": "x-jwt-subject", "values": ["ann", "bob"]}]}},
		{"name": "joined", "request": {"headers": [{"key": "x-team", "values": ["green,yellow"]}]}}]}`,
}

// TestPolicyMatchesGRPCGo checks Policy call by call against grpc-go's own
// authz package, the reference evaluator of the format, on a real gRPC
// server: every policy above, callers in plaintext and over TLS with no
// certificate or with certificates naming them by URI, DNS name or
// subject, several methods and headers. Both must decide every call alike.
func TestPolicyMatchesGRPCGo(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "policy-ca")
	type engines struct {
		ours   *Policy
		theirs *authz.StaticInterceptor
	}
	var current atomic.Pointer[engines]
	type verdict struct{ ours, theirs bool }
	var last atomic.Pointer[verdict]
	compare := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, _ grpc.StreamHandler) error {
		e := current.Load()
		theirs := e.theirs.StreamInterceptor(srv, ss, info, func(any, grpc.ServerStream) error { return nil })
		if theirs != nil && status.Code(theirs) != codes.PermissionDenied {
			return theirs // grpc-go could not evaluate the call at all
		}
		md, _ := metadata.FromIncomingContext(ss.Context())
		p, _ := peer.FromContext(ss.Context())
		ours, _ := e.ours.decide(request{method: info.FullMethod, header: MD(md), authInfo: p.AuthInfo})
		last.Store(&verdict{ours: ours, theirs: theirs == nil})
		if err := ss.RecvMsg(&emptypb.Empty{}); err != nil {
			return err
		}
		return ss.SendMsg(&emptypb.Empty{})
	}
	serve := func(creds credentials.TransportCredentials) string {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer(grpc.Creds(creds), grpc.StreamInterceptor(compare),
			grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error { return nil }))
		go func() { _ = s.Serve(lis) }()
		t.Cleanup(s.Stop)
		return lis.Addr().String()
	}
	server := ca.Server(t)
	plainAddr := serve(insecure.NewCredentials())
	tlsAddr := serve(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{server.TLS()}, ClientCAs: ca.Pool(), ClientAuth: tls.VerifyClientCertIfGiven}))

	type caller struct {
		name string
		addr string
		cert *testpki.Cert
	}
	named := func(uris, dns []string, cn string) *testpki.Cert {
		c := ca.ClientNamed(t, uris, dns, cn)
		return &c
	}
	callers := []caller{
		{"plaintext", plainAddr, nil},
		{"TLS, no certificate", tlsAddr, nil},
		{"URI SANs", tlsAddr, named([]string{"https://client.example", "spiffe://example.org/ns/default/sa/client"}, []string{"a.example.com"}, "greeter-client")},
		{"other URI SAN", tlsAddr, named([]string{"spiffe://other.org/ns/x"}, []string{"a.example.com"}, "greeter-client")},
		{"DNS SANs", tlsAddr, named(nil, []string{"client.test", "b.example.com"}, "greeter-client")},
		{"subject only", tlsAddr, named(nil, nil, "greeter-client")},
	}
	methods := []string{"/greeter.v1.GreeterService/SayHello", "/greeter.v1.GreeterService/SayHelloStream", "/greeter.v1.GreeterService/SayHelloAgain", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/other.Service/Do"}
	headers := []metadata.MD{
		{},
		metadata.Pairs("x-jwt-subject", "ann"),
		metadata.Pairs("x-jwt-subject", "robot-7"),
		metadata.Pairs("x-team", "blue", "x-jwt-subject", "bob"),
		metadata.Pairs("x-team", "dark-red", "x-team", "blue", "x-jwt-subject", "ann"),
		metadata.Pairs("x-team", "green", "x-team", "yellow"),
	}

	conns := map[string]*grpc.ClientConn{}
	for _, c := range callers {
		creds := insecure.NewCredentials()
		if c.addr == tlsAddr {
			cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
			if c.cert != nil {
				cfg.Certificates = []tls.Certificate{c.cert.TLS()}
			}
			creds = credentials.NewTLS(cfg)
		}
		cc, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		conns[c.name] = cc
	}
	var allowed, denied int
	for _, doc := range policies {
		ours, err := ParsePolicy([]byte(doc))
		if err != nil {
			t.Fatalf("ours: %v\n%s", err, doc)
		}
		theirs, err := authz.NewStatic(doc)
		if err != nil {
			t.Fatalf("grpc-go: %v\n%s", err, doc)
		}
		current.Store(&engines{ours, theirs})
		for _, c := range callers {
			for _, m := range methods {
				for _, md := range headers {
					last.Store(nil)
					ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(t.Context(), md), 10*time.Second)
					err := conns[c.name].Invoke(ctx, m, &emptypb.Empty{}, &emptypb.Empty{})
					cancel()
					v := last.Load()
					if err != nil || v == nil {
						t.Fatalf("policy %s, %s, %s, %v: call failed: %v", ours.name, c.name, m, md, err)
					}
					if v.ours != v.theirs {
						t.Errorf("policy %s, %s, %s, %v: ours allows=%v, grpc-go allows=%v", ours.name, c.name, m, md, v.ours, v.theirs)
					}
					if v.theirs {
						allowed++
					} else {
						denied++
					}
				}
			}
		}
	}
	// A comparison that only ever saw one answer would prove little.
	if allowed < 20 || denied < 20 {
		t.Errorf("only %d calls allowed and %d denied: the cases do not exercise both answers", allowed, denied)
	}
}

// TestBadPoliciesGRPCGo: grpc-go's authz refuses every policy in
// badPolicies, which ParsePolicy refuses (TestParsePolicyRefuses).
func TestBadPoliciesGRPCGo(t *testing.T) {
	t.Parallel()
	for _, doc := range badPolicies {
		if _, err := authz.NewStatic(doc); err == nil {
			t.Errorf("grpc-go's authz accepts %s: ParsePolicy should too", doc)
		}
	}
}

// TestGRPCGoAuthzCannotServeHTTP pins why Policy exists: grpc-go's authz
// refuses every call served through grpc.Server.ServeHTTP, as the HTTP
// listener serves them, even with a policy that allows everything. If this
// test fails, grpc-go has changed, and package auth could use its authz
// package directly on both listeners.
func TestGRPCGoAuthzCannotServeHTTP(t *testing.T) {
	t.Parallel()
	static, err := authz.NewStatic(`{"name": "all", "allow_rules": [{"name": "all"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(grpc.StreamInterceptor(static.StreamInterceptor), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(&emptypb.Empty{}); err != nil {
			return err
		}
		return ss.SendMsg(&emptypb.Empty{})
	}))
	hs := httptest.NewUnstartedServer(g)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	defer hs.Close()
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	cc, err := grpc.NewClient(strings.TrimPrefix(hs.URL, "https://"), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	err = cc.Invoke(t.Context(), "/greeter.v1.GreeterService/SayHello", &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "missing connection") {
		t.Errorf("a call through ServeHTTP under grpc-go's authz: %v; want INTERNAL, missing connection", err)
	}
}
