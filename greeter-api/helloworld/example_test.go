package helloworld_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/greeter-go/greeter/greeter-api/helloworld"
)

type greeter struct {
	helloworld.UnimplementedGreeterServer
}

func (greeter) SayHello(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	return &helloworld.HelloReply{Message: "Hello, " + req.GetName() + "!"}, nil
}

// This example serves the canonical helloworld.Greeter on a loopback port and
// calls it the way every gRPC helloworld client does.
func Example() {
	msg, err := greetYou()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Greeter client received:", msg)
	// Output: Greeter client received: Hello, you!
}

// greetYou starts the server, calls it once and stops it again.
func greetYou() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := grpc.NewServer()
	helloworld.RegisterGreeterServer(srv, greeter{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.GracefulStop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := helloworld.NewGreeterClient(conn).SayHello(ctx, &helloworld.HelloRequest{Name: "you"})
	if err != nil {
		return "", err
	}
	return reply.GetMessage(), nil
}
