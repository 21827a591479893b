package service

import (
	"context"

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
