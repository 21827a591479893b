// Package greetertest runs a small Greeter server in process for tests: both
// services, following the contract in the proto comments, and grpc's own
// health service. It stands in for greeter-server, whose streaming methods
// are built elsewhere, so every command can be tested against a real
// grpc.Server on loopback.
package greetertest

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"
)

// EchoHeader is the request metadata key the server sends back as a
// response header, so tests can see --header arrive.
const EchoHeader = "x-echo"

// UnhealthyService is reported NOT_SERVING by the health service.
const UnhealthyService = "test.Unhealthy"

// Start serves both Greeter services and health on a loopback port until
// the test ends, and returns its address. opts configure the server, such
// as its TLS credentials.
func Start(t testing.TB, opts ...grpc.ServerOption) string {
	t.Helper()
	return start(t, healthpb.HealthCheckResponse_SERVING, opts...)
}

// StartNotServing is Start with the server's overall health status (service
// "") NOT_SERVING, as a server reports while it drains or before it is
// ready: it accepts connections and answers every call, but health
// checking keeps calls off it.
func StartNotServing(t testing.TB, opts ...grpc.ServerOption) string {
	t.Helper()
	return start(t, healthpb.HealthCheckResponse_NOT_SERVING, opts...)
}

func start(t testing.TB, overall healthpb.HealthCheckResponse_ServingStatus, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	greeterv1.RegisterGreeterServiceServer(srv, v1Server{})
	helloworld.RegisterGreeterServer(srv, helloworldServer{})
	hs := health.NewServer()
	hs.SetServingStatus(greeterv1.GreeterService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(UnhealthyService, healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("", overall)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// checkName is the proto's name rule, in short.
func checkName(name string) error {
	if strings.TrimSpace(name) == "" || len([]rune(name)) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return status.Error(codes.InvalidArgument, "invalid name: must be 1 to 100 characters, not only white space, no control characters")
	}
	return nil
}

func echo(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(EchoHeader); len(v) > 0 {
		_ = grpc.SetHeader(ctx, metadata.Pairs(EchoHeader, strings.Join(v, ",")))
	}
}

func greet(prefix, name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return prefix + name + "!", nil
}

type v1Server struct {
	greeterv1.UnimplementedGreeterServiceServer
}

var _ greeterv1.GreeterServiceServer = v1Server{}

func (v1Server) SayHello(ctx context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	echo(ctx)
	msg, err := greet("Hello, ", req.GetName())
	return &greeterv1.SayHelloResponse{Message: msg}, err
}

func (v1Server) SayHelloAgain(_ context.Context, req *greeterv1.SayHelloAgainRequest) (*greeterv1.SayHelloAgainResponse, error) {
	msg, err := greet("Hello again, ", req.GetName())
	return &greeterv1.SayHelloAgainResponse{Message: msg}, err
}

func (v1Server) SayHelloStream(req *greeterv1.SayHelloStreamRequest, stream grpc.ServerStreamingServer[greeterv1.SayHelloStreamResponse]) error {
	msg, err := greet("Hello, ", req.GetName())
	if err != nil {
		return err
	}
	count := req.GetCount()
	if count == 0 {
		count = 3
	}
	if count > 100 {
		return status.Errorf(codes.InvalidArgument, "invalid count: must be 1 to 100, got %d", count)
	}
	for i := range count {
		if i > 0 {
			time.Sleep(req.GetInterval().AsDuration())
		}
		if err := stream.Send(&greeterv1.SayHelloStreamResponse{Message: msg, Sequence: i + 1}); err != nil {
			return err
		}
	}
	return nil
}

func (v1Server) SayHelloGroup(stream grpc.ClientStreamingServer[greeterv1.SayHelloGroupRequest, greeterv1.SayHelloGroupResponse]) error {
	var names []string
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := checkName(req.GetName()); err != nil {
			return err
		}
		names = append(names, req.GetName())
	}
	if len(names) == 0 {
		return status.Error(codes.InvalidArgument, "invalid group: must hold 1 to 1000 names, got none")
	}
	text := names[len(names)-1]
	if len(names) > 1 {
		text = strings.Join(names[:len(names)-1], ", ") + " and " + text
	}
	return stream.SendAndClose(&greeterv1.SayHelloGroupResponse{Message: "Hello, " + text + "!", Count: uint32(len(names))})
}

func (v1Server) SayHelloChat(stream grpc.BidiStreamingServer[greeterv1.SayHelloChatRequest, greeterv1.SayHelloChatResponse]) error {
	return greetEach(stream, func(msg string) *greeterv1.SayHelloChatResponse {
		return &greeterv1.SayHelloChatResponse{Message: msg}
	})
}

// greetEach answers every name on a bidirectional stream with its greeting,
// in order, until the client closes its side.
func greetEach[Req, Resp any](stream grpc.BidiStreamingServer[Req, Resp], reply func(msg string) *Resp) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		msg, err := greet("Hello, ", any(req).(interface{ GetName() string }).GetName())
		if err != nil {
			return err
		}
		if err := stream.Send(reply(msg)); err != nil {
			return err
		}
	}
}

// helloworldServer leaves SayHelloAgain unimplemented, as some helloworld
// servers do, so tests see how the client reports Unimplemented.
type helloworldServer struct {
	helloworld.UnimplementedGreeterServer
}

var _ helloworld.GreeterServer = helloworldServer{}

func (helloworldServer) SayHello(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	msg, err := greet("Hello, ", req.GetName())
	return &helloworld.HelloReply{Message: msg}, err
}

func (helloworldServer) SayHelloStreamReply(req *helloworld.HelloRequest, stream grpc.ServerStreamingServer[helloworld.HelloReply]) error {
	msg, err := greet("Hello, ", req.GetName())
	if err != nil {
		return err
	}
	for range 3 {
		if err := stream.Send(&helloworld.HelloReply{Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

func (helloworldServer) SayHelloBidiStream(stream grpc.BidiStreamingServer[helloworld.HelloRequest, helloworld.HelloReply]) error {
	return greetEach(stream, func(msg string) *helloworld.HelloReply {
		return &helloworld.HelloReply{Message: msg}
	})
}
