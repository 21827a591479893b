package service_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-server/internal/service"
)

// dial serves the services on an in-memory listener and returns a client
// connection to them; both are closed when the test ends.
func dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	greeterv1.RegisterGreeterServiceServer(srv, service.NewGreeterV1())
	helloworld.RegisterGreeterServer(srv, service.NewHelloworld()) // trim:helloworld
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// call is one unary method of a service, reduced to name in, message out.
type call struct {
	method string
	do     func(context.Context, *grpc.ClientConn, string) (string, error)
}

func calls() []call {
	return []call{
		{"greeter.v1.GreeterService/SayHello", func(ctx context.Context, cc *grpc.ClientConn, name string) (string, error) {
			r, err := greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: name})
			return r.GetMessage(), err
		}},
		{"greeter.v1.GreeterService/SayHelloAgain", func(ctx context.Context, cc *grpc.ClientConn, name string) (string, error) {
			r, err := greeterv1.NewGreeterServiceClient(cc).SayHelloAgain(ctx, &greeterv1.SayHelloAgainRequest{Name: name})
			return r.GetMessage(), err
		}},
		// trim:helloworld begin
		{"helloworld.Greeter/SayHello", func(ctx context.Context, cc *grpc.ClientConn, name string) (string, error) {
			r, err := helloworld.NewGreeterClient(cc).SayHello(ctx, &helloworld.HelloRequest{Name: name})
			return r.GetMessage(), err
		}},
		{"helloworld.Greeter/SayHelloAgain", func(ctx context.Context, cc *grpc.ClientConn, name string) (string, error) {
			r, err := helloworld.NewGreeterClient(cc).SayHelloAgain(ctx, &helloworld.HelloRequest{Name: name})
			return r.GetMessage(), err
		}},
		// trim:helloworld end
	}
}

func TestUnaryGreetings(t *testing.T) {
	t.Parallel()
	cc := dial(t)
	want := map[string]string{
		"greeter.v1.GreeterService/SayHello":      "Hello, you!",
		"greeter.v1.GreeterService/SayHelloAgain": "Hello again, you!",
		"helloworld.Greeter/SayHello":             "Hello, you!",       // trim:helloworld
		"helloworld.Greeter/SayHelloAgain":        "Hello again, you!", // trim:helloworld
	}
	for _, c := range calls() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := c.do(ctx, cc, "you")
		cancel()
		if err != nil || got != want[c.method] {
			t.Errorf("%s(%q) = %q, %v, want %q, nil", c.method, "you", got, err, want[c.method])
		}
	}
}

func TestUnaryRejectsBadNames(t *testing.T) {
	t.Parallel()
	cc := dial(t)
	bad := map[string]string{
		"":                       "required",
		" \t ":                   "white space", //nolint:gocritic // the whitespace-only name is the input under test
		strings.Repeat("x", 101): "at most 100 characters",
		"tab\there":              "control characters",
	}
	for _, c := range calls() {
		for name, rule := range bad {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := c.do(ctx, cc, name)
			cancel()
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "name") || !strings.Contains(st.Message(), rule) {
				t.Errorf("%s(%q) error = %v, want InvalidArgument naming %q and %q", c.method, name, err, "name", rule)
			}
		}
	}
}
