package greeter

import (
	"context"
	"path"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
)

// V1Unary returns the Method that calls fullMethod, a unary method that only
// greeter.v1.GreeterService has, with req; Resp is the method's response
// message type. It is the short way to add a command for a new greeter.v1
// method: the command builds the generated request itself and needs no new
// method on Client and no adapter.
// helloworld.Greeter will never have the method: for --api helloworld it // trim:helloworld
// returns the usage error users see, naming command, before anything is sent. // trim:helloworld
// For example:
//
//	method, err := greeter.V1Unary[greeterv1.SayGoodbyeResponse](opts.Factory.Options.API,
//		"say-goodbye", greeterv1.GreeterService_SayGoodbye_FullMethodName,
//		&greeterv1.SayGoodbyeRequest{Name: opts.Name})
//
// A method that more than one API has belongs on Client instead, with an
// adapter each.
func V1Unary[Resp any, PResp interface {
	*Resp
	Greeting
}](api, command, fullMethod string, req proto.Message) (Method[Greeting], error) {
	if _, err := New(api); err != nil {
		return Method[Greeting]{}, err
	}
	// trim:helloworld begin
	if api == APIHelloworld {
		return Method[Greeting]{}, exitcode.Usagef("%s needs --api %s: helloworld.Greeter has no %s method",
			command, APIGreeterV1, path.Base(fullMethod))
	}
	// trim:helloworld end
	return Method[Greeting]{Name: fullMethod, call: func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (Greeting, error) {
		resp := PResp(new(Resp))
		if err := cc.Invoke(ctx, fullMethod, req, resp, opts...); err != nil {
			return nil, err
		}
		return resp, nil
	}}, nil
}
