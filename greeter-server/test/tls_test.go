package test

import (
	"context"
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
	"google.golang.org/grpc/credentials"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// authority is a certificate authority made up for one test.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the authority, valid
// from notBefore to notAfter, for a server (with loopback addresses) or a
// client.
func (a *authority) issue(t *testing.T, server bool, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "greeter test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMutualTLS starts the server with mutual TLS and checks who gets in:
// only a client with an unexpired certificate from the trusted authority.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	ca := newAuthority(t, "greeter test CA")
	other := newAuthority(t, "some other CA")
	serverCert, serverKey := ca.issue(t, true, now.Add(-time.Hour), now.Add(time.Hour))
	srv := startServer(t,
		"--tls-cert", writeFile(t, dir, "server.pem", serverCert),
		"--tls-key", writeFile(t, dir, "server-key.pem", serverKey),
		"--tls-client-ca", writeFile(t, dir, "ca.pem", ca.pem))

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	pair := func(certPEM, keyPEM []byte) []tls.Certificate {
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	good := pair(ca.issue(t, false, now.Add(-time.Hour), now.Add(time.Hour)))
	foreign := pair(other.issue(t, false, now.Add(-time.Hour), now.Add(time.Hour)))
	expired := pair(ca.issue(t, false, now.Add(-48*time.Hour), now.Add(-24*time.Hour)))

	tests := []struct {
		name   string
		certs  []tls.Certificate
		wantOK bool
	}{
		{name: "trusted client certificate", certs: good, wantOK: true},
		{name: "no client certificate", certs: nil},
		{name: "certificate from another CA", certs: foreign},
		{name: "expired certificate", certs: expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: tt.certs, MinVersion: tls.VersionTLS12})
			conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "tls"})
			if tt.wantOK && (err != nil || resp.GetMessage() != "Hello, tls!") {
				t.Errorf("SayHello with %s = %q, %v, want %q, nil", tt.name, resp.GetMessage(), err, "Hello, tls!")
			}
			if !tt.wantOK && err == nil {
				t.Errorf("SayHello with %s = %q, nil, want the connection refused", tt.name, resp.GetMessage())
			}
			if err != nil {
				t.Logf("%s: %v", tt.name, err)
			}
		})
	}

	t.Run("plaintext to the TLS port", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
		readUntilClosed(t, conn, 10*time.Second)
	})
}
