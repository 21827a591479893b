package test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

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
		readUntilClosed(t, conn, 10*time.Second)
	})
}
