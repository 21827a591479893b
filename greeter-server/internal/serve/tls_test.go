package serve_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// pki is a throwaway certificate authority with a server certificate for
// 127.0.0.1 and a client certificate, written as PEM files into a temp dir.
type pki struct {
	dir        string
	pool       *x509.CertPool
	clientCert tls.Certificate
	otherCert  tls.Certificate // signed by a CA the server does not trust
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	ca, caKey := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "greeter test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	p.pool.AddCert(ca)
	srv, srvKey := newCert(t, ca, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "greeter-server"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	client, clientKey := newCert(t, ca, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "greeter-client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	other, otherKey := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "stranger"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	p.writePEM(t, "ca.pem", "CERTIFICATE", ca.Raw)
	p.writePEM(t, "server.pem", "CERTIFICATE", srv.Raw)
	p.writePEM(t, "server-key.pem", "PRIVATE KEY", marshalKey(t, srvKey))
	p.clientCert = tls.Certificate{Certificate: [][]byte{client.Raw}, PrivateKey: clientKey}
	p.otherCert = tls.Certificate{Certificate: [][]byte{other.Raw}, PrivateKey: otherKey}
	return p
}

// newCert signs tmpl with parent (self-signed if parent is nil).
func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = sn
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func marshalKey(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (p *pki) writePEM(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func TestTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.path("server.pem"), Key: p.path("server-key.pem")}})
	mtlsServer := start(t, serve.Config{TLS: serve.TLSFiles{Cert: p.path("server.pem"), Key: p.path("server-key.pem"), ClientCA: p.path("ca.pem")}})

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
