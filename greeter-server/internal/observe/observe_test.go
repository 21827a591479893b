package observe_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/observe"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// panicky panics in SayHello for the name "panic" and in every stream.
type panicky struct {
	greeterv1.UnimplementedGreeterServiceServer
}

func (panicky) SayHello(_ context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	if req.GetName() == "panic" {
		panic("boom")
	}
	return &greeterv1.SayHelloResponse{Message: "Hello, " + req.GetName() + "!"}, nil
}

func (panicky) SayHelloStream(*greeterv1.SayHelloStreamRequest, greeterv1.GreeterService_SayHelloStreamServer) error {
	panic("boom")
}

// serve runs panicky behind the observe interceptors, logging to w at level,
// and returns a client for it.
func serve(t *testing.T, w io.Writer, level slog.Level) greeterv1.GreeterServiceClient {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	m := observe.NewMetrics()
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(m.UnaryInterceptor(), observe.Unary(logger)),
		grpc.ChainStreamInterceptor(m.StreamInterceptor(), observe.Stream(logger)))
	greeterv1.RegisterGreeterServiceServer(srv, panicky{})
	lis := bufconn.Listen(1 << 16)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return greeterv1.NewGreeterServiceClient(conn)
}

func TestPanicBecomesInternalAndServerKeepsServing(t *testing.T) {
	t.Parallel()
	var logs testlog.Buffer
	client := serve(t, &logs, slog.LevelInfo)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "panic"})
	if status.Code(err) != codes.Internal {
		t.Errorf("SayHello(%q) error = %v, want code Internal", "panic", err)
	}
	stream, err := client.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "you"})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Internal {
		t.Errorf("SayHelloStream error = %v, want code Internal", err)
	}
	resp, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "you"})
	if err != nil || resp.GetMessage() != "Hello, you!" {
		t.Errorf("SayHello(%q) after a panic = %q, %v, want %q, nil", "you", resp.GetMessage(), err, "Hello, you!")
	}
	if got := logs.String(); strings.Count(got, "panic in gRPC handler") != 2 || !strings.Contains(got, "boom") {
		t.Errorf("log = %q, want two panic lines with the panic value", got)
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level slog.Level
		want  []string
	}{
		{level: slog.LevelDebug, want: []string{"msg=rpc", "method=/greeter.v1.GreeterService/SayHello", "code=OK", "duration=", "peer=", "code=Internal"}},
		{level: slog.LevelInfo, want: nil},
	}
	for _, tt := range tests {
		var logs testlog.Buffer
		client := serve(t, &logs, tt.level)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "you"})
		if err != nil {
			t.Fatalf("SayHello: %v", err)
		}
		_, _ = client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "panic"})
		cancel()
		got := logs.String()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("access log at level %v = %q, want it to contain %q", tt.level, got, w)
			}
		}
		if tt.want == nil && strings.Contains(got, "msg=rpc") {
			t.Errorf("access log at level %v = %q, want no access log lines", tt.level, got)
		}
	}
}
