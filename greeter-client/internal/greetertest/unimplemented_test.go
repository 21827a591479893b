package greetertest

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"
)

// TestUnimplemented calls the interceptor as grpc-go would for greeter.v1
// methods whose handler answered Unimplemented, as the embedded
// Unimplemented server does for a method added to the proto after this
// server was written.
func TestUnimplemented(t *testing.T) {
	t.Parallel()
	g := greeter{fail: map[string]error{"Bad": status.Error(codes.InvalidArgument, "invalid name: bad")}}
	refuse := func(context.Context, any) (any, error) {
		return nil, status.Error(codes.Unimplemented, "method not implemented")
	}
	info := func(m string) *grpc.UnaryServerInfo { return &grpc.UnaryServerInfo{FullMethod: m} }

	resp, err := g.unimplemented(t.Context(), &greeterv1.SayHelloAgainRequest{Name: "Ann"},
		info(greeterv1.GreeterService_SayHelloAgain_FullMethodName), refuse)
	if err != nil {
		t.Fatalf("greeter.v1 method without a handler: %v, want a greeting", err)
	}
	if r, ok := resp.(*greeterv1.SayHelloAgainResponse); !ok || r.GetMessage() != "SayHelloAgain, Ann!" {
		t.Errorf("response %T %v, want *greeterv1.SayHelloAgainResponse with message %q", resp, resp, "SayHelloAgain, Ann!")
	}

	if _, err := g.unimplemented(t.Context(), &greeterv1.SayHelloAgainRequest{Name: "Bad"},
		info(greeterv1.GreeterService_SayHelloAgain_FullMethodName), refuse); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a name the test fails: %v, want InvalidArgument", err)
	}
	// trim:helloworld begin
	// Another service's Unimplemented stays Unimplemented.
	if _, err := g.unimplemented(t.Context(), &helloworld.HelloRequest{Name: "Ann"},
		info(helloworld.Greeter_SayHelloAgain_FullMethodName), refuse); status.Code(err) != codes.Unimplemented {
		t.Errorf("helloworld method without a handler: %v, want Unimplemented", err)
	}
	// trim:helloworld end
	// A handler's own answer goes through untouched.
	ok := func(context.Context, any) (any, error) { return &greeterv1.SayHelloResponse{Message: "mine"}, nil }
	resp, err = g.unimplemented(t.Context(), &greeterv1.SayHelloRequest{Name: "Ann"},
		info(greeterv1.GreeterService_SayHello_FullMethodName), ok)
	if r, _ := resp.(*greeterv1.SayHelloResponse); err != nil || r.GetMessage() != "mine" {
		t.Errorf("implemented method: %v, %v, want the handler's answer", resp, err)
	}
}
