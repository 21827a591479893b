// Package greetertest runs a small Greeter server in process for tests: its
// Greeter services and grpc's own health service on a real grpc.Server on loopback,
// so every command can be tested through a real connection.
//
// It has no rules: it greets whatever name it gets, as many times as it is
// asked, and fails only where a test tells it to (see StartFailing). A unary
// greeter.v1 method it has no handler for gets a greeting all the same (see
// unimplemented), so a new method needs nothing here. The
// rules are greeter-server's (its internal/greeting), and the client meets
// them in the system tests under test/, which run the real server; a copy
// here would drift from them and test the client against the copy.
package greetertest

import (
	"context"
	"errors"
	"io"
	"net"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

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
	return start(t, healthpb.HealthCheckResponse_SERVING, nil, opts...)
}

// StartFailing is Start with a server that answers a request for a name in
// fail with that name's error (a status.Error, such as InvalidArgument for a
// name a test wants refused), and greets every other name. A stream ends
// with the error when the name arrives, after the greetings before it.
func StartFailing(t testing.TB, fail map[string]error, opts ...grpc.ServerOption) string {
	t.Helper()
	return start(t, healthpb.HealthCheckResponse_SERVING, fail, opts...)
}

// StartNotServing is Start with the server's overall health status (service
// "") NOT_SERVING, as a server reports while it drains or before it is
// ready: it accepts connections and answers every call, but health
// checking keeps calls off it.
func StartNotServing(t testing.TB, opts ...grpc.ServerOption) string {
	t.Helper()
	return start(t, healthpb.HealthCheckResponse_NOT_SERVING, nil, opts...)
}

func start(t testing.TB, overall healthpb.HealthCheckResponse_ServingStatus, fail map[string]error, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := greeter{fail: fail}
	// Innermost, after the interceptors of opts: see unimplemented.
	srv := grpc.NewServer(append(slices.Clone(opts), grpc.ChainUnaryInterceptor(g.unimplemented))...)
	greeterv1.RegisterGreeterServiceServer(srv, v1Server{greeter: g})
	helloworld.RegisterGreeterServer(srv, helloworldServer{greeter: g}) // trim:helloworld
	hs := health.NewServer()
	hs.SetServingStatus(greeterv1.GreeterService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(UnhealthyService, healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("", overall)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Auth records the "authorization" metadata of every call a server
// receives, health checks included, and, with Token set, refuses calls as
// a server that checks bearer tokens does. Pass ServerOptions to Start.
type Auth struct {
	// Token, if not "", is the one bearer token accepted: any other call
	// fails with Unauthenticated, health checks included unless
	// ExemptHealth is set.
	Token        string
	ExemptHealth bool
	// Deny lists full method names, such as
	// greeterv1.GreeterService_SayHelloAgain_FullMethodName, that fail
	// with PermissionDenied for a caller with Token.
	Deny []string

	mu   sync.Mutex
	seen map[string][]string // by full method name
}

// ServerOptions returns the interceptors that record and check tokens.
func (a *Auth) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := a.check(ctx, info.FullMethod); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := a.check(ss.Context(), info.FullMethod); err != nil {
				return err
			}
			return handler(srv, ss)
		}),
	}
}

// Seen returns the authorization values of the calls of method so far, in
// order; "" stands for a call without one.
func (a *Auth) Seen(method string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen[method])
}

func (a *Auth) check(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	got := strings.Join(md.Get("authorization"), ",")
	a.mu.Lock()
	if a.seen == nil {
		a.seen = map[string][]string{}
	}
	a.seen[method] = append(a.seen[method], got)
	a.mu.Unlock()
	switch {
	case a.Token == "" || a.ExemptHealth && strings.HasPrefix(method, "/grpc.health.v1.Health/"):
		return nil
	case got == "":
		return status.Error(codes.Unauthenticated, "no bearer token")
	case got != "Bearer "+a.Token:
		return status.Error(codes.Unauthenticated, "bearer token not valid")
	case slices.Contains(a.Deny, method):
		return status.Error(codes.PermissionDenied, "policy allows test-caller only SayHello")
	}
	return nil
}

func echo(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(EchoHeader); len(v) > 0 {
		_ = grpc.SetHeader(ctx, metadata.Pairs(EchoHeader, strings.Join(v, ",")))
	}
}

// greeter greets names, and fails the ones it was told to.
type greeter struct {
	fail map[string]error
}

func (g greeter) greet(prefix, name string) (string, error) {
	if err := g.fail[name]; err != nil {
		return "", err
	}
	return prefix + name + "!", nil
}

// unimplemented answers a unary greeter.v1 method that v1Server has no
// handler for (its embedded Unimplemented server refused it), so that a
// command for a new method can be tested before anyone writes a handler
// here: it greets the request's name field with the method's name, "SayBye,
// NAME!" for SayBye, in the response's message field, and fails the names
// it was told to. Every other call, and every other status, goes through.
func (g greeter) unimplemented(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	service, method := path.Split(info.FullMethod)
	if status.Code(err) != codes.Unimplemented || service != "/"+greeterv1.GreeterService_ServiceDesc.ServiceName+"/" {
		return resp, err
	}
	sd, findErr := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(greeterv1.GreeterService_ServiceDesc.ServiceName))
	if findErr != nil {
		return nil, status.Errorf(codes.Internal, "greetertest: %v", findErr)
	}
	md := sd.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method))
	in, ok := req.(proto.Message)
	if md == nil || !ok {
		return resp, err
	}
	out, findErr := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if findErr != nil {
		return nil, status.Errorf(codes.Internal, "greetertest: %v", findErr)
	}
	var name string
	if f := md.Input().Fields().ByName("name"); f != nil && f.Kind() == protoreflect.StringKind {
		name = in.ProtoReflect().Get(f).String()
	}
	msg, err := g.greet(method+", ", name)
	if err != nil {
		return nil, err
	}
	echo(ctx)
	reply := out.New()
	if f := md.Output().Fields().ByName("message"); f != nil && f.Kind() == protoreflect.StringKind {
		reply.Set(f, protoreflect.ValueOfString(msg))
	}
	return reply.Interface(), nil
}

// defaultCount is how many greetings a stream sends when its request asks
// for none.
const defaultCount = 3

type v1Server struct {
	greeterv1.UnimplementedGreeterServiceServer
	greeter
}

var _ greeterv1.GreeterServiceServer = v1Server{}

func (s v1Server) SayHello(ctx context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	echo(ctx)
	msg, err := s.greet("Hello, ", req.GetName())
	return &greeterv1.SayHelloResponse{Message: msg}, err
}

func (s v1Server) SayHelloAgain(_ context.Context, req *greeterv1.SayHelloAgainRequest) (*greeterv1.SayHelloAgainResponse, error) {
	msg, err := s.greet("Hello again, ", req.GetName())
	return &greeterv1.SayHelloAgainResponse{Message: msg}, err
}

func (s v1Server) SayHelloStream(req *greeterv1.SayHelloStreamRequest, stream grpc.ServerStreamingServer[greeterv1.SayHelloStreamResponse]) error {
	msg, err := s.greet("Hello, ", req.GetName())
	if err != nil {
		return err
	}
	count := req.GetCount()
	if count == 0 {
		count = defaultCount
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

func (s v1Server) SayHelloGroup(stream grpc.ClientStreamingServer[greeterv1.SayHelloGroupRequest, greeterv1.SayHelloGroupResponse]) error {
	var names []string
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if _, err := s.greet("", req.GetName()); err != nil {
			return err
		}
		names = append(names, req.GetName())
	}
	text := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		text = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return stream.SendAndClose(&greeterv1.SayHelloGroupResponse{Message: "Hello, " + text + "!", Count: uint32(len(names))}) //nolint:gosec // a test server counts a handful of names
}

func (s v1Server) SayHelloChat(stream grpc.BidiStreamingServer[greeterv1.SayHelloChatRequest, greeterv1.SayHelloChatResponse]) error {
	return greetEach(s.greeter, stream, func(msg string) *greeterv1.SayHelloChatResponse {
		return &greeterv1.SayHelloChatResponse{Message: msg}
	})
}

// greetEach answers every name on a bidirectional stream with its greeting,
// in order, until the client closes its side.
func greetEach[Req, Resp any](g greeter, stream grpc.BidiStreamingServer[Req, Resp], reply func(msg string) *Resp) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		msg, err := g.greet("Hello, ", any(req).(interface{ GetName() string }).GetName())
		if err != nil {
			return err
		}
		if err := stream.Send(reply(msg)); err != nil {
			return err
		}
	}
}

// trim:helloworld begin

// helloworldServer leaves SayHelloAgain unimplemented, as some helloworld
// servers do, so tests see how the client reports Unimplemented.
type helloworldServer struct {
	helloworld.UnimplementedGreeterServer
	greeter
}

var _ helloworld.GreeterServer = helloworldServer{}

func (s helloworldServer) SayHello(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	msg, err := s.greet("Hello, ", req.GetName())
	return &helloworld.HelloReply{Message: msg}, err
}

func (s helloworldServer) SayHelloStreamReply(req *helloworld.HelloRequest, stream grpc.ServerStreamingServer[helloworld.HelloReply]) error {
	msg, err := s.greet("Hello, ", req.GetName())
	if err != nil {
		return err
	}
	for range defaultCount {
		if err := stream.Send(&helloworld.HelloReply{Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

func (s helloworldServer) SayHelloBidiStream(stream grpc.BidiStreamingServer[helloworld.HelloRequest, helloworld.HelloReply]) error {
	return greetEach(s.greeter, stream, func(msg string) *helloworld.HelloReply {
		return &helloworld.HelloReply{Message: msg}
	})
}

// trim:helloworld end
