// Package greeter is greeter-client's one view of a Greeter server. Client
// names, in the commands' own terms, everything a command can ask a server
// for: a greeting, a greeting again, a stream of greetings, a group
// greeting, a chat and a health check. Each API greeter-client speaks has
// one adapter, and only its adapter knows that API's generated types:
// greeterv1.go for greeter.v1.GreeterService.
// helloworld.go for gRPC's canonical helloworld.Greeter. // trim:helloworld
// An API that lacks something a command asks for says so there, once, as a
// usage error, before anything is sent. Commands import no generated package
// and never ask which API they use.
//
// Client's methods send nothing. Each returns a Method: the call, request
// included, ready to be made, with the full gRPC name that internal/rpc
// reports before the call starts, and Call, which makes it on a connection.
package greeter

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The APIs greeter-client speaks, by the names --api takes.
const (
	APIGreeterV1  = "greeter.v1"
	APIHelloworld = "helloworld" // trim:helloworld
)

// APIs returns the names --api takes.
func APIs() []string {
	return []string{
		APIGreeterV1,
		APIHelloworld, // trim:helloworld
	}
}

// New returns the Client of api, one of APIs; "" means APIGreeterV1, the
// default of --api.
func New(api string) (Client, error) {
	switch api {
	case APIGreeterV1, "":
		return v1Client{}, nil
	case APIHelloworld: // trim:helloworld
		return helloworldClient{}, nil // trim:helloworld
	}
	return nil, fmt.Errorf("greeter-client does not speak the API %q", api)
}

// Client is what a command can ask a Greeter server for.
type Client interface {
	// SayHello greets name: "Hello, NAME!".
	SayHello(name string) Method[Greeting]
	// SayHelloAgain greets name a second time: "Hello again, NAME!".
	SayHelloAgain(name string) Method[Greeting]
	// SayHelloStream greets req.Name several times, each greeting sent on
	// its own. It fails with a usage error if the API cannot honour req.
	SayHelloStream(req StreamRequest) (Method[Greetings], error)
	// SayHelloGroup sends a group of names and gets one greeting to all of
	// them. It fails with a usage error if the API has no such method.
	SayHelloGroup() (Method[GroupStream], error)
	// SayHelloChat greets each name as it is sent, while more are sent.
	SayHelloChat() Method[ChatStream]
	// Check asks the server's grpc.health.v1 service whether service is
	// serving; "" asks about the whole server.
	Check(service string) Method[Health]
}

// Method is one call, with its request, ready to be made.
type Method[R any] struct {
	// Name is the full gRPC method name, such as
	// "/greeter.v1.GreeterService/SayHello".
	Name string
	call func(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (R, error)
}

// Call makes the call on cc and returns its response, or, for a streaming
// method, the open stream.
func (m Method[R]) Call(ctx context.Context, cc grpc.ClientConnInterface, opts ...grpc.CallOption) (R, error) {
	return m.call(ctx, cc, opts...)
}

// Greeting is a response that carries a greeting, exactly as the server
// sent it: GetMessage is the greeting, and the message itself, with every
// other field of its API, is what --output json prints.
type Greeting interface {
	proto.Message
	GetMessage() string
}

// StreamRequest is what hello-stream asks for.
type StreamRequest struct {
	Name string
	// Count is how many greetings to send; 0 lets the server choose.
	Count uint32
	// Interval is the wait between two greetings.
	Interval time.Duration
	// CountOrIntervalSet is true when the user chose Count or Interval,
	// even as 0: an API that has neither refuses the request rather than
	// quietly ignoring them.
	CountOrIntervalSet bool
}

// Greetings is the stream of greetings of SayHelloStream.
type Greetings interface {
	// Recv returns the next greeting, or io.EOF after the last one.
	Recv() (Greeting, error)
}

// GroupStream is an open SayHelloGroup call.
type GroupStream interface {
	// Send sends one name of the group. It returns io.EOF when the server
	// has already ended the call; CloseAndRecv then returns its status.
	Send(name string) error
	// CloseAndRecv ends the group and returns its greeting.
	CloseAndRecv() (Greeting, error)
}

// ChatStream is an open SayHelloChat call. Send and CloseSend may be called
// from one goroutine while Recv is called from another.
type ChatStream interface {
	// Send sends one name. It returns io.EOF when the server has already
	// ended the call; Recv then returns its status.
	Send(name string) error
	// CloseSend says no more names will come.
	CloseSend() error
	// Recv returns the next greeting, or io.EOF after the last one.
	Recv() (Greeting, error)
}

// Health is the answer of a health check.
type Health struct {
	// Status is the serving status by name, such as SERVING.
	Status string
	// Serving is true when Status is SERVING.
	Serving bool
	// Response is the response as the server sent it, for --output json.
	Response proto.Message
}
