package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/testpki"
)

// TestMutualTLS starts the server with mutual TLS and checks who gets in:
// only a client with an unexpired certificate from the trusted authority.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	ca := testpki.NewCA(t, "greeter test CA")
	other := testpki.NewCA(t, "some other CA")
	certFile, keyFile := ca.Server(t).WriteFiles(t, dir, "server")
	caFile, _ := ca.WriteFiles(t, dir, "ca")
	srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", caFile)

	roots := ca.Pool()
	good := []tls.Certificate{ca.Client(t, time.Time{}, time.Time{}).TLS()}
	foreign := []tls.Certificate{other.Client(t, time.Time{}, time.Time{}).TLS()}
	expired := []tls.Certificate{ca.Client(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour)).TLS()}

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
		readUntilClosed(t, conn)
	})
}

// TestTLSRotation rotates the binary's certificate the way a Kubernetes
// secret volume does, by swapping its ..data symlink to a new directory:
// within the server's reload interval (10 s) new connections get the new
// certificate, on both listeners, and a client calling on a connection it
// opened before sees no failure.
func TestTLSRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca1, ca2 := testpki.NewCA(t, "CA 1"), testpki.NewCA(t, "CA 2")
	a, b := ca1.Server(t), ca2.Server(t)
	// swapTo writes c's files into a new directory and points ..data at it.
	swapTo := func(version string, c testpki.Cert) {
		if err := os.Mkdir(filepath.Join(dir, version), 0o700); err != nil {
			t.Fatal(err)
		}
		certPEM, keyPEM := c.PEM(t)
		for name, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
			if err := os.WriteFile(filepath.Join(dir, version, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(version, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	swapTo("..1", a)
	for _, name := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServer(t, "--tls-cert", filepath.Join(dir, "tls.crt"), "--tls-key", filepath.Join(dir, "tls.key"))

	roots := ca1.Pool()
	roots.AddCert(ca2.X509)
	creds := credentials.NewTLS(&tls.Config{RootCAs: roots})
	served := func(conn *grpc.ClientConn) (*x509.Certificate, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var p peer.Peer
		if _, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "tls"}, grpc.Peer(&p)); err != nil {
			return nil, err
		}
		return p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0], nil
	}
	fresh := func() (*x509.Certificate, error) {
		conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return served(conn)
	}

	steady, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer steady.Close()
	if got, err := served(steady); err != nil || !got.Equal(a.X509) {
		t.Fatalf("before the swap: %v; served the first certificate: %v", err, got.Equal(a.X509))
	}
	var calls, failures atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if got, err := served(steady); (err != nil || !got.Equal(a.X509)) && failures.Add(1) == 1 {
				t.Errorf("steady client on its open connection: %v; served the first certificate: %v", err, got.Equal(a.X509))
			}
			calls.Add(1)
		}
	}()

	swapTo("..2", b)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := fresh()
		if err == nil && got.Equal(b.X509) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections not served with the new certificate within 30s of the swap; last: %v; log:\n%s", err, srv.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-done
	if calls.Load() == 0 || failures.Load() != 0 {
		t.Errorf("steady client: %d of %d calls failed", failures.Load(), calls.Load())
	}
	// trim:http begin
	// The HTTP listener serves from the same reloaded material.
	for _, proto := range []string{"h2", "http/1.1"} {
		c, err := tls.Dial("tcp", srv.HTTPAddr, &tls.Config{RootCAs: roots, NextProtos: []string{proto}})
		if err != nil {
			t.Errorf("HTTP listener, %s: %v", proto, err)
			continue
		}
		if got := c.ConnectionState().PeerCertificates[0]; !got.Equal(b.X509) {
			t.Errorf("HTTP listener, %s: served %q after the swap, want the new certificate", proto, got.Subject)
		}
		c.Close()
	}
	// trim:http end
	if !strings.Contains(srv.Log(), "TLS certificate reloaded") {
		t.Errorf("the server did not log the reload; log:\n%s", srv.Log())
	}
}

// TestClientIdentityOnBothListeners calls a mutual TLS server with the same
// client certificate on each listener, in each protocol, and checks that the
// access log names the same client for every call: the identity reaches
// the interceptors (peer.AuthInfo) on every listener as on the gRPC one.
func TestClientIdentityOnBothListeners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "greeter test CA")
	certFile, keyFile := ca.Server(t).WriteFiles(t, dir, "server")
	caFile, _ := ca.WriteFiles(t, dir, "ca")
	srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", caFile, "--log-level", "debug")
	clientTLS := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{ca.Client(t, time.Time{}, time.Time{}).TLS()}, MinVersion: tls.VersionTLS12}

	calls := map[string]func(name string) error{
		"gRPC listener, gRPC": func(name string) error { return grpcHello(srv.Addr, clientTLS, name) },
		// trim:http begin
		"HTTP listener, gRPC": func(name string) error { return grpcHello(srv.HTTPAddr, clientTLS, name) },
		"HTTP listener, Connect over HTTP/2": func(name string) error {
			return connectHello(srv.HTTPAddr, clientTLS, true, name)
		},
		"HTTP listener, Connect over HTTP/1.1": func(name string) error {
			return connectHello(srv.HTTPAddr, clientTLS, false, name)
		},
		// trim:http end
	}
	accessLine := regexp.MustCompile(`msg=rpc method=/greeter.v1.GreeterService/SayHello code=OK .*`)
	done := 0
	for desc, call := range calls {
		name := strings.NewReplacer(" ", "-", ",", "", "/", "").Replace(desc)
		if err := call(name); err != nil {
			t.Errorf("%s: %v", desc, err)
			continue
		}
		done++
		// The access log line is written as the call ends; wait until this
		// call's line has been read from the server's stderr.
		var lines []string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if lines = accessLine.FindAllString(srv.Log(), -1); len(lines) >= done {
				break
			}
		}
		if len(lines) < done {
			t.Fatalf("%s: %d access log lines after %d calls:\n%s", desc, len(lines), done, srv.Log())
		}
		if want := `client="CN=greeter-client"`; !strings.Contains(lines[done-1], want) {
			t.Errorf("%s: access log line %q, want it to name %s", desc, lines[done-1], want)
		}
	}
}

func grpcHello(addr string, clientTLS *tls.Config, name string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: name})
	if err == nil && resp.GetMessage() != "Hello, "+name+"!" {
		err = fmt.Errorf("SayHello(%q) = %q", name, resp.GetMessage())
	}
	return err
}

// trim:http begin

func connectHello(addr string, clientTLS *tls.Config, h2 bool, name string) error {
	// A clone: http.Transport writes its ALPN protocols into the config.
	tr := &http.Transport{TLSClientConfig: clientTLS.Clone(), Protocols: new(http.Protocols)}
	if h2 {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := post(c, "https://"+addr+sayHello, []byte(`{"name":"`+name+`"}`), "Content-Type", "application/json")
	if err != nil {
		return err
	}
	if (resp.major == 2) != h2 || resp.status != 200 || !strings.Contains(string(resp.body), "Hello, "+name+"!") {
		return fmt.Errorf("POST over %s = %d %q", resp.proto, resp.status, resp.body)
	}
	return nil
}

// trim:http end
