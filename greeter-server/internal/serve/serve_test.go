package serve_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// TestRunServesUntilCanceled starts the real server on a loopback port, calls
// it, cancels its context, and checks that Run shuts down cleanly.
func TestRunServesUntilCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg := serve.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() { done <- serve.Run(ctx, cfg, ready) }()

	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	defer callCancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(callCtx, &greeterv1.SayHelloRequest{Name: "you"})
	if err != nil || resp.GetMessage() != "Hello, you!" {
		t.Fatalf("SayHello(%q) = %q, %v, want %q, nil", "you", resp.GetMessage(), err, "Hello, you!")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context ending")
	}
}

func TestRunReportsListenError(t *testing.T) {
	t.Parallel()
	cfg := serve.Config{Addr: "256.0.0.1:1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := serve.Run(context.Background(), cfg, nil); err == nil {
		t.Error("Run on an invalid address = nil, want an error")
	}
}
