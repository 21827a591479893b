package auth_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"google.golang.org/grpc/credentials"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
)

func TestPrincipal(t *testing.T) {
	t.Parallel()
	spiffe, _ := url.Parse("spiffe://cluster.local/ns/default/sa/greeter-client")
	web, _ := url.Parse("https://client.example")
	subject := pkix.Name{CommonName: "greeter-client", Organization: []string{"Acme"}}
	verified := func(c *x509.Certificate) credentials.AuthInfo {
		return credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c}}}}
	}
	tests := []struct {
		desc string
		info credentials.AuthInfo
		want string
	}{
		{"SPIFFE ID first", verified(&x509.Certificate{URIs: []*url.URL{web, spiffe}, DNSNames: []string{"client.example"}, Subject: subject}), spiffe.String()},
		{"then the first DNS name", verified(&x509.Certificate{URIs: []*url.URL{web}, DNSNames: []string{"a.example", "b.example"}, Subject: subject}), "a.example"},
		{"then the subject", verified(&x509.Certificate{Subject: subject}), "CN=greeter-client,O=Acme"},
		{"an unverified certificate names no one", credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: subject}}}}, ""},
		{"plaintext", nil, ""},
	}
	for _, tt := range tests {
		if got := auth.Principal(tt.info); got != tt.want {
			t.Errorf("%s: Principal = %q, want %q", tt.desc, got, tt.want)
		}
	}
}
