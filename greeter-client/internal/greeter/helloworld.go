package greeter

import (
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
)

// helloworldClient adapts helloworld.Greeter, the service of gRPC's
// canonical example. Every request carries only a name: it has no count or
// interval for a stream, and no group greeting.
type helloworldClient struct{ health }

var _ Client = helloworldClient{}

func (helloworldClient) SayHello(name string) Method[Greeting] {
	return unary(helloworld.Greeter_SayHello_FullMethodName, helloworld.NewGreeterClient,
		helloworld.GreeterClient.SayHello, &helloworld.HelloRequest{Name: name})
}

func (helloworldClient) SayHelloAgain(name string) Method[Greeting] {
	return unary(helloworld.Greeter_SayHelloAgain_FullMethodName, helloworld.NewGreeterClient,
		helloworld.GreeterClient.SayHelloAgain, &helloworld.HelloRequest{Name: name})
}

func (helloworldClient) SayHelloStream(req StreamRequest) (Method[Greetings], error) {
	if req.CountOrIntervalSet {
		return Method[Greetings]{}, exitcode.Usagef("--count and --interval need --api greeter.v1: helloworld's SayHelloStreamReply has neither")
	}
	return serverStream(helloworld.Greeter_SayHelloStreamReply_FullMethodName, helloworld.NewGreeterClient,
		helloworld.GreeterClient.SayHelloStreamReply, &helloworld.HelloRequest{Name: req.Name}), nil
}

func (helloworldClient) SayHelloGroup() (Method[GroupStream], error) {
	return Method[GroupStream]{}, exitcode.Usagef("hello-group needs --api greeter.v1: helloworld.Greeter has no client-streaming method")
}

func (helloworldClient) SayHelloChat() Method[ChatStream] {
	return bidiStream(helloworld.Greeter_SayHelloBidiStream_FullMethodName, helloworld.NewGreeterClient,
		helloworld.GreeterClient.SayHelloBidiStream, func(name string) *helloworld.HelloRequest {
			return &helloworld.HelloRequest{Name: name}
		})
}
