package greeter

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// v1Client adapts greeter.v1.GreeterService, the Greeter API, which has
// every method a command asks for.
type v1Client struct{ health }

var _ Client = v1Client{}

func (v1Client) SayHello(name string) Method[Greeting] {
	return unary(greeterv1.GreeterService_SayHello_FullMethodName, greeterv1.NewGreeterServiceClient,
		greeterv1.GreeterServiceClient.SayHello, &greeterv1.SayHelloRequest{Name: name})
}

func (v1Client) SayHelloAgain(name string) Method[Greeting] {
	return unary(greeterv1.GreeterService_SayHelloAgain_FullMethodName, greeterv1.NewGreeterServiceClient,
		greeterv1.GreeterServiceClient.SayHelloAgain, &greeterv1.SayHelloAgainRequest{Name: name})
}

func (v1Client) SayHelloStream(req StreamRequest) (Method[Greetings], error) {
	r := &greeterv1.SayHelloStreamRequest{Name: req.Name, Count: req.Count}
	if req.Interval != 0 {
		r.Interval = durationpb.New(req.Interval)
	}
	return serverStream(greeterv1.GreeterService_SayHelloStream_FullMethodName, greeterv1.NewGreeterServiceClient,
		greeterv1.GreeterServiceClient.SayHelloStream, r), nil
}

func (v1Client) SayHelloGroup() (Method[GroupStream], error) {
	return Method[GroupStream]{Name: greeterv1.GreeterService_SayHelloGroup_FullMethodName, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (GroupStream, error) {
		s, err := greeterv1.NewGreeterServiceClient(cc).SayHelloGroup(ctx, opts...)
		if err != nil {
			return nil, err
		}
		return v1Group{s}, nil
	}}, nil
}

type v1Group struct {
	stream grpc.ClientStreamingClient[greeterv1.SayHelloGroupRequest, greeterv1.SayHelloGroupResponse]
}

func (g v1Group) Send(name string) error {
	return g.stream.Send(&greeterv1.SayHelloGroupRequest{Name: name})
}

func (g v1Group) CloseAndRecv() (Greeting, error) {
	resp, err := g.stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (v1Client) SayHelloChat() Method[ChatStream] {
	return bidiStream(greeterv1.GreeterService_SayHelloChat_FullMethodName, greeterv1.NewGreeterServiceClient,
		greeterv1.GreeterServiceClient.SayHelloChat, func(name string) *greeterv1.SayHelloChatRequest {
			return &greeterv1.SayHelloChatRequest{Name: name}
		})
}
