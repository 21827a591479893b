package greeter

import (
	"context"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// This file holds what the adapters share: the plumbing that turns a
// generated stub and a request into a Method, whatever the API, and the
// health check, which is the same for every API. The adapters hold only
// what differs: which stub, and which request message.

// unary returns the Method that calls stub on the client newClient makes,
// with req. stub is a method expression of a generated client interface,
// such as greeterv1.GreeterServiceClient.SayHello.
func unary[C, Req any, Resp Greeting](name string, newClient func(grpc.ClientConnInterface) C,
	stub func(C, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req,
) Method[Greeting] {
	return Method[Greeting]{Name: name, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (Greeting, error) {
		resp, err := stub(newClient(cc), ctx, req, opts...)
		if err != nil {
			return nil, err
		}
		return resp, nil
	}}
}

// serverStream returns the Method that opens the server stream stub with
// req, like unary.
func serverStream[C, Req, Resp any, PResp interface {
	*Resp
	Greeting
}](name string, newClient func(grpc.ClientConnInterface) C,
	stub func(C, context.Context, Req, ...grpc.CallOption) (grpc.ServerStreamingClient[Resp], error), req Req,
) Method[Greetings] {
	return Method[Greetings]{Name: name, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (Greetings, error) {
		s, err := stub(newClient(cc), ctx, req, opts...)
		if err != nil {
			return nil, err
		}
		return greetings[Resp, PResp]{s}, nil
	}}
}

type greetings[Resp any, PResp interface {
	*Resp
	Greeting
}] struct {
	stream grpc.ServerStreamingClient[Resp]
}

func (g greetings[Resp, PResp]) Recv() (Greeting, error) {
	m, err := g.stream.Recv()
	if err != nil {
		return nil, err
	}
	return PResp(m), nil
}

// bidiStream returns the Method that opens the bidirectional stream stub,
// on which request turns each name into the API's request message.
func bidiStream[C, Req, Resp any, PResp interface {
	*Resp
	Greeting
}](name string, newClient func(grpc.ClientConnInterface) C,
	stub func(C, context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error), request func(name string) *Req,
) Method[ChatStream] {
	return Method[ChatStream]{Name: name, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (ChatStream, error) {
		s, err := stub(newClient(cc), ctx, opts...)
		if err != nil {
			return nil, err
		}
		return chat[Req, Resp, PResp]{s, request}, nil
	}}
}

type chat[Req, Resp any, PResp interface {
	*Resp
	Greeting
}] struct {
	stream  grpc.BidiStreamingClient[Req, Resp]
	request func(name string) *Req
}

func (c chat[Req, Resp, PResp]) Send(name string) error { return c.stream.Send(c.request(name)) }

func (c chat[Req, Resp, PResp]) CloseSend() error { return c.stream.CloseSend() }

func (c chat[Req, Resp, PResp]) Recv() (Greeting, error) {
	m, err := c.stream.Recv()
	if err != nil {
		return nil, err
	}
	return PResp(m), nil
}

// health is grpc.health.v1, which every API's server offers alike; each
// adapter embeds it.
type health struct{}

func (health) Check(service string) Method[Health] {
	req := &healthpb.HealthCheckRequest{Service: service}
	return Method[Health]{Name: healthpb.Health_Check_FullMethodName, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (Health, error) {
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, req, opts...)
		if err != nil {
			return Health{}, err
		}
		return Health{
			Status:   resp.GetStatus().String(),
			Serving:  resp.GetStatus() == healthpb.HealthCheckResponse_SERVING,
			Response: resp,
		}, nil
	}}
}
