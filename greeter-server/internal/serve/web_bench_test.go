package serve_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// BenchmarkHTTPJSONUnary measures one Connect unary call of JSON over
// HTTP/1.1 (what curl and the page send) to an in-process server: client and
// server together, wall time and allocations per call, on one keep-alive
// connection. Compare it with BenchmarkUnary's ns/op for native gRPC.
func BenchmarkHTTPJSONUnary(b *testing.B) {
	srv, err := serve.New(serve.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		_ = srv.Serve(lis) // ends when the cleanup shuts it down
		close(served)
	}()
	b.Cleanup(func() {
		srv.Shutdown(0, 0)
		<-served
	})
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := "http://" + lis.Addr().String() + "/greeter.v1.GreeterService/SayHello"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", strings.NewReader(`{"name":"Ann"}`))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Hello, Ann!") {
			b.Fatalf("POST SayHello = %d %s, %v", resp.StatusCode, body, err)
		}
	}
}
