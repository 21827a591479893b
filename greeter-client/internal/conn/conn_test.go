package conn_test

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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// pki is a throwaway CA with a server certificate for 127.0.0.1 and
// "greeter.test", and a client certificate, written as PEM files.
type pki struct {
	caFile, clientCert, clientKey string
	serverTLS                     *tls.Config
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "greeter test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, name string, ips ...net.IP) tls.Certificate {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: []string{name}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	server := issue(2, x509.ExtKeyUsageServerAuth, "greeter.test", net.ParseIP("127.0.0.1"))
	client := issue(3, x509.ExtKeyUsageClientAuth, "greeter-client")
	p := pki{
		caFile:     writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER),
		clientCert: writePEM(t, dir, "client.pem", "CERTIFICATE", client.Certificate[0]),
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = writePEM(t, dir, "client-key.pem", "PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.serverTLS = &tls.Config{Certificates: []tls.Certificate{server}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sayHello(f *conn.Factory) error {
	ctx := context.Background()
	cc, err := f.Conn(ctx)
	if err != nil {
		return err
	}
	ctx, cancel, err := f.CallContext(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ada"})
	return err
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	addr := greetertest.Start(t, grpc.Creds(credentials.NewTLS(p.serverTLS)))
	tests := []struct {
		name    string
		opts    conn.Options
		wantErr string // "" means success
	}{
		{name: "mutual TLS", opts: conn.Options{CA: p.caFile, Cert: p.clientCert, Key: p.clientKey}},
		{name: "server name", opts: conn.Options{CA: p.caFile, Cert: p.clientCert, Key: p.clientKey, ServerName: "greeter.test"}},
		{name: "wrong server name", opts: conn.Options{CA: p.caFile, Cert: p.clientCert, Key: p.clientKey, ServerName: "other.test"}, wantErr: "certificate"},
		{name: "system roots", opts: conn.Options{TLS: true, Cert: p.clientCert, Key: p.clientKey}, wantErr: "certificate"},
		// Under TLS 1.3 the server refuses the client after the handshake, so
		// the reason the client sees varies; it is always Unavailable.
		{name: "no client certificate", opts: conn.Options{CA: p.caFile}, wantErr: "Unavailable"},
		{name: "plaintext", opts: conn.Options{}, wantErr: "Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Addr, tt.opts.Timeout, tt.opts.ConnectTimeout = addr, 5*time.Second, 5*time.Second
			f := &conn.Factory{Options: tt.opts}
			t.Cleanup(func() { f.Close() })
			err := sayHello(f)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("SayHello over %s: %v, want success", tt.name, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("SayHello over %s: %v, want an error about %q", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	f := &conn.Factory{Options: conn.Options{Headers: []string{"X-Id=1", "x-id=2", "auth=a=b"}}}
	md, err := f.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Get("x-id"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("Metadata x-id = %q, want [1 2]", got)
	}
	if got := md.Get("auth"); len(got) != 1 || got[0] != "a=b" {
		t.Errorf("Metadata auth = %q, want [a=b]", got)
	}
	for _, bad := range []string{"novalue", "=v"} {
		f := &conn.Factory{Options: conn.Options{Headers: []string{bad}}}
		if _, err := f.Metadata(); err == nil {
			t.Errorf("Metadata(%q): no error, want one", bad)
		}
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	// A listener that never answers the HTTP/2 handshake keeps the
	// connection from becoming ready.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	f := &conn.Factory{Options: conn.Options{Addr: lis.Addr().String(), Timeout: 5 * time.Second, ConnectTimeout: 200 * time.Millisecond}}
	t.Cleanup(func() { f.Close() })
	start := time.Now()
	_, err = f.Conn(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--connect-timeout") {
		t.Errorf("Conn to a silent listener: %v, want a --connect-timeout error", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Conn to a silent listener took %s, want about 200ms", elapsed)
	}
}

// compressionSeen records the compression of the SayHello headers a stats
// handler sees: on a server, the request's; on a client, the response's.
type compressionSeen struct {
	mu   sync.Mutex
	seen []string
}

type methodKey struct{}

func (c *compressionSeen) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, methodKey{}, info.FullMethodName)
}
func (c *compressionSeen) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (c *compressionSeen) HandleConn(context.Context, stats.ConnStats) {}
func (c *compressionSeen) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok && ctx.Value(methodKey{}) == greeterv1.GreeterService_SayHello_FullMethodName {
		c.mu.Lock()
		c.seen = append(c.seen, h.Compression)
		c.mu.Unlock()
	}
}

func (c *compressionSeen) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// TestCompress checks --compress: with gzip the request is compressed, and
// the server answers compressed in kind; without it neither is.
func TestCompress(t *testing.T) {
	t.Parallel()
	for _, compress := range []string{"", "gzip"} {
		t.Run("compress="+compress, func(t *testing.T) {
			t.Parallel()
			var server, client compressionSeen
			addr := greetertest.Start(t, grpc.StatsHandler(&server))
			f := &conn.Factory{
				Options:     conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Compress: compress},
				DialOptions: []grpc.DialOption{grpc.WithStatsHandler(&client)},
			}
			t.Cleanup(func() { f.Close() })
			if err := sayHello(f); err != nil {
				t.Fatalf("SayHello with --compress %q: %v", compress, err)
			}
			for side, seen := range map[string][]string{"request": server.all(), "response": client.all()} {
				if len(seen) == 0 {
					t.Errorf("--compress %q: no %s headers seen", compress, side)
				}
				for _, got := range seen {
					if got != compress {
						t.Errorf("--compress %q: %s compression = %q, want %q (all: %q)", compress, side, got, compress, seen)
					}
				}
			}
		})
	}
}
