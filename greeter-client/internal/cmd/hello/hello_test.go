package hello_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// greeter is a real GreeterService on a loopback port, answering SayHello.
type greeter struct {
	greeterv1.UnimplementedGreeterServiceServer
}

func (greeter) SayHello(ctx context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	switch req.GetName() {
	case "slow": // answers after the client's deadline
		<-ctx.Done()
		return nil, ctx.Err()
	case "cut": // a server's own time limit, as greeter-server's for long calls
		return nil, status.Error(codes.DeadlineExceeded, "the call was open longer than the server allows (1s)")
	}
	return &greeterv1.SayHelloResponse{Message: "Hello, " + req.GetName() + "!"}, nil
}

func startServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	greeterv1.RegisterGreeterServiceServer(srv, greeter{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{args: nil, want: "world"},
		{args: []string{"--name", "Ada"}, want: "Ada"},
		{args: []string{"-n", "Bob"}, want: "Bob"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *hello.Options
		cmd := hello.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *hello.Options) error {
			got = o
			return nil
		})
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("hello %v: %v", tt.args, err)
		}
		if got.Name != tt.want {
			t.Errorf("hello %v: Name = %q, want %q", tt.args, got.Name, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	ios, _, stdout, stderr := iostreams.Test()
	f := &conn.Factory{Options: conn.Options{Addr: startServer(t), Timeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	if err := hello.Run(context.Background(), &hello.Options{IO: ios, Factory: f, Name: "Ada"}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := stdout.String(), "Hello, Ada!\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
}

func TestRunUnreachable(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	ios, _, stdout, _ := iostreams.Test()
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 2 * time.Second}}
	t.Cleanup(func() { f.Close() })
	err = hello.Run(context.Background(), &hello.Options{IO: ios, Factory: f, Name: "Ada"})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Run against %s = %v, want an error naming the address", addr, err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing on failure", stdout.String())
	}
}

// TestRunDeadlineHint checks who a DeadlineExceeded blames: --timeout when
// the client's own deadline passed, the server's limit when the server
// ended the call first.
func TestRunDeadlineHint(t *testing.T) {
	t.Parallel()
	addr := startServer(t)
	tests := []struct {
		name, want, notWant string
	}{
		{name: "slow", want: "raise it", notWant: "a time limit of its own"},
		{name: "cut", want: "the server ended the call at a time limit of its own", notWant: "raise it"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 300 * time.Millisecond, ConnectTimeout: 5 * time.Second}}
		err := hello.Run(context.Background(), &hello.Options{IO: ios, Factory: f, Name: tt.name})
		f.Close()
		if status.Code(errors.Unwrap(err)) != codes.DeadlineExceeded {
			t.Errorf("hello --name %s: %v, want DeadlineExceeded", tt.name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, tt.notWant) {
			t.Errorf("hello --name %s: %q, want %q and not %q", tt.name, msg, tt.want, tt.notWant)
		}
	}
}
