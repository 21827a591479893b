package serve_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testpki"
)

// pki is a throwaway certificate authority with a server certificate for
// 127.0.0.1 and a client certificate, the server's files written as PEM into
// a temp dir.
type pki struct {
	pool              *x509.CertPool
	caFile            string
	certFile, keyFile string
	clientCert        tls.Certificate
	otherCert         tls.Certificate // signed by a CA the server does not trust
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "greeter test CA")
	p := &pki{
		pool:       ca.Pool(),
		clientCert: ca.Client(t, time.Time{}, time.Time{}).TLS(),
		otherCert:  testpki.NewCA(t, "stranger").Client(t, time.Time{}, time.Time{}).TLS(),
	}
	p.caFile, _ = ca.WriteFiles(t, dir, "ca")
	p.certFile, p.keyFile = ca.Server(t).WriteFiles(t, dir, "server")
	return p
}

func TestTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.certFile, Key: p.keyFile}})
	mtlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.certFile, Key: p.keyFile, ClientCA: p.caFile}})

	tests := []struct {
		desc     string
		addr     string
		client   *tls.Config // nil means plaintext
		wantCode codes.Code
		wantTLS  uint16
	}{
		{desc: "TLS", addr: tlsServer.addr, client: &tls.Config{RootCAs: p.pool}, wantTLS: tls.VersionTLS13},
		{desc: "TLS 1.2 client", addr: tlsServer.addr, client: &tls.Config{RootCAs: p.pool, MaxVersion: tls.VersionTLS12}, wantTLS: tls.VersionTLS12},
		{desc: "TLS 1.1 client", addr: tlsServer.addr, client: &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, wantCode: codes.Unavailable},
		{desc: "plaintext client to TLS", addr: tlsServer.addr, client: nil, wantCode: codes.Unavailable},
		{desc: "client that does not trust the server", addr: tlsServer.addr, client: &tls.Config{}, wantCode: codes.Unavailable},
		{desc: "mTLS with a client certificate", addr: mtlsServer.addr, client: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.clientCert}}, wantTLS: tls.VersionTLS13},
		{desc: "mTLS without a client certificate", addr: mtlsServer.addr, client: &tls.Config{RootCAs: p.pool}, wantCode: codes.Unavailable},
		{desc: "mTLS with an untrusted client certificate", addr: mtlsServer.addr, client: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.otherCert}}, wantCode: codes.Unavailable},
	}
	for _, tt := range tests {
		var conn *grpc.ClientConn
		if tt.client == nil {
			conn = dialPlain(t, tt.addr)
		} else {
			var err error
			conn, err = grpc.NewClient(tt.addr, grpc.WithTransportCredentials(credentials.NewTLS(tt.client)))
			if err != nil {
				t.Fatalf("%s: grpc.NewClient: %v", tt.desc, err)
			}
			t.Cleanup(func() { conn.Close() })
		}
		var p peer.Peer
		resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx(t), &greeterv1.SayHelloRequest{Name: "you"}, grpc.Peer(&p))
		if tt.wantCode != codes.OK {
			if status.Code(err) != tt.wantCode {
				t.Errorf("%s: SayHello error = %v, want code %v", tt.desc, err, tt.wantCode)
			}
			continue
		}
		if err != nil || resp.GetMessage() != "Hello, you!" {
			t.Errorf("%s: SayHello(%q) = %q, %v, want %q, nil", tt.desc, "you", resp.GetMessage(), err, "Hello, you!")
			continue
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok || info.State.Version != tt.wantTLS {
			t.Errorf("%s: negotiated %v, want TLS version %x", tt.desc, p.AuthInfo, tt.wantTLS)
		}
	}
}
