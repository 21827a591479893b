// Package serve builds greeter-server's gRPC server and runs it until its
// context ends, then shuts it down gracefully.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-server/internal/service"
)

// Config holds what Run needs to serve.
type Config struct {
	// Addr is the TCP address to listen on, such as "localhost:50051".
	Addr string
	// ShutdownTimeout bounds graceful shutdown; after it, open calls are cut.
	ShutdownTimeout time.Duration
	// Logger receives the server's start and stop lines.
	Logger *slog.Logger
}

// NewServer returns a gRPC server with every Greeter service registered.
func NewServer() *grpc.Server {
	srv := grpc.NewServer()
	greeterv1.RegisterGreeterServiceServer(srv, service.NewGreeterV1())
	helloworld.RegisterGreeterServer(srv, service.NewHelloworld())
	return srv
}

// Run listens on cfg.Addr and serves until ctx is done, then stops accepting
// new calls, lets in-flight calls finish for up to cfg.ShutdownTimeout, and
// returns. If ready is not nil, Run sends the listening address on it once
// the listener is open.
func Run(ctx context.Context, cfg Config, ready chan<- net.Addr) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := NewServer()
	cfg.Logger.Info("greeter-server listening", "addr", lis.Addr().String())
	if ready != nil {
		ready <- lis.Addr()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lis) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}

	cfg.Logger.Info("greeter-server shutting down", "timeout", cfg.ShutdownTimeout)
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		cfg.Logger.Warn("graceful shutdown timed out; closing open calls")
		srv.Stop()
		<-stopped
	}
	if err := <-serveErr; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve on %s: %w", lis.Addr(), err)
	}
	return nil
}
