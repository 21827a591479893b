package service

import (
	"context"
	"errors"
	"io"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

// GreeterV1 implements greeter.v1.GreeterService.
type GreeterV1 struct {
	greeterv1.UnimplementedGreeterServiceServer
}

var _ greeterv1.GreeterServiceServer = (*GreeterV1)(nil)

// NewGreeterV1 returns the greeter.v1.GreeterService implementation.
func NewGreeterV1() *GreeterV1 {
	return &GreeterV1{}
}

// SayHello answers "Hello, NAME!".
func (s *GreeterV1) SayHello(_ context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	msg, err := greeting.Hello(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &greeterv1.SayHelloResponse{Message: msg}, nil
}

// SayHelloAgain answers "Hello again, NAME!".
func (s *GreeterV1) SayHelloAgain(_ context.Context, req *greeterv1.SayHelloAgainRequest) (*greeterv1.SayHelloAgainResponse, error) {
	msg, err := greeting.HelloAgain(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &greeterv1.SayHelloAgainResponse{Message: msg}, nil
}

// SayHelloStream sends "Hello, NAME!" count times, interval apart.
func (s *GreeterV1) SayHelloStream(req *greeterv1.SayHelloStreamRequest, stream greeterv1.GreeterService_SayHelloStreamServer) error {
	plan, err := greeting.NewStream(req.GetName(), req.GetCount(), req.GetInterval())
	if err != nil {
		return toStatus(err)
	}
	return sendStream(stream.Context(), plan, func(seq uint32) error {
		return stream.Send(&greeterv1.SayHelloStreamResponse{Message: plan.Message, Sequence: seq})
	})
}

// SayHelloGroup greets every name the client sends with one greeting.
func (s *GreeterV1) SayHelloGroup(stream greeterv1.GreeterService_SayHelloGroupServer) error {
	var group greeting.Group
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := group.Add(req.GetName()); err != nil {
			return toStatus(err)
		}
	}
	msg, n, err := group.Greeting()
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&greeterv1.SayHelloGroupResponse{Message: msg, Count: n})
}

// SayHelloChat answers each name with "Hello, NAME!" as it arrives.
func (s *GreeterV1) SayHelloChat(stream greeterv1.GreeterService_SayHelloChatServer) error {
	return chat(
		func() (string, error) {
			req, err := stream.Recv()
			return req.GetName(), err
		},
		func(msg string) error { return stream.Send(&greeterv1.SayHelloChatResponse{Message: msg}) })
}
