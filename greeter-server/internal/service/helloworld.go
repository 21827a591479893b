package service

import (
	"context"

	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

// Helloworld implements the canonical helloworld.Greeter service, so clients
// written against gRPC's helloworld examples work with this server unchanged.
type Helloworld struct {
	helloworld.UnimplementedGreeterServer
}

var _ helloworld.GreeterServer = (*Helloworld)(nil)

// NewHelloworld returns the helloworld.Greeter implementation.
func NewHelloworld() *Helloworld {
	return &Helloworld{}
}

// SayHello answers "Hello, NAME!".
func (s *Helloworld) SayHello(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	msg, err := greeting.Hello(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &helloworld.HelloReply{Message: msg}, nil
}

// SayHelloAgain answers "Hello again, NAME!".
func (s *Helloworld) SayHelloAgain(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	msg, err := greeting.HelloAgain(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &helloworld.HelloReply{Message: msg}, nil
}

// SayHelloStreamReply sends "Hello, NAME!" greeting.DefaultStreamCount (3)
// times without waiting, like the streaming example servers of gRPC: its
// request has no count or interval field to ask for more.
func (s *Helloworld) SayHelloStreamReply(req *helloworld.HelloRequest, stream helloworld.Greeter_SayHelloStreamReplyServer) error {
	plan, err := greeting.NewStream(req.GetName(), 0, nil)
	if err != nil {
		return toStatus(err)
	}
	return sendStream(stream.Context(), plan, func(uint32) error {
		return stream.Send(&helloworld.HelloReply{Message: plan.Message})
	})
}

// SayHelloBidiStream answers each name with "Hello, NAME!" as it arrives, at
// most greeting.MaxChatNames names per call.
func (s *Helloworld) SayHelloBidiStream(stream helloworld.Greeter_SayHelloBidiStreamServer) error {
	return chat(
		func() (string, error) {
			req, err := stream.Recv()
			return req.GetName(), err
		},
		func(msg string) error { return stream.Send(&helloworld.HelloReply{Message: msg}) })
}
