package health_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/health"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"": "", "--service greeter.v1.GreeterService": "greeter.v1.GreeterService", "-s x": "x"} {
		ios, _, _, _ := iostreams.Test()
		var got *health.Options
		cmd := health.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *health.Options) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(args))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("health %s: %v", args, err)
		}
		if got.Service != want {
			t.Errorf("health %s: Service = %q, want %q", args, got.Service, want)
		}
	}
}

// TestRunServerNotServing asks a server whose overall status is NOT_SERVING
// (as greeter-server's is while it drains): the connection must still be
// made, and the answer reported, not taken for "cannot connect".
func TestRunServerNotServing(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := grpchealth.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	ios, _, stdout, _ := iostreams.Test()
	f := &conn.Factory{Options: conn.Options{Addr: lis.Addr().String(), Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "text"}}
	t.Cleanup(func() { f.Close() })
	err = health.Run(context.Background(), &health.Options{IO: ios, Factory: f})
	if got := exitcode.Code(err); got != exitcode.Unhealthy {
		t.Errorf("health against a NOT_SERVING server: %v (exit code %d), want exit code %d", err, got, exitcode.Unhealthy)
	}
	if got := stdout.String(); got != "NOT_SERVING\n" {
		t.Errorf("stdout = %q, want %q", got, "NOT_SERVING\n")
	}
}
