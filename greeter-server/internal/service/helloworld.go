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
