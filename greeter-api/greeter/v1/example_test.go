package greeterv1_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// server is a minimal GreeterService. Embedding UnimplementedGreeterServiceServer
// keeps it compiling when methods are added to the API; they answer
// Unimplemented until the server implements them.
type server struct {
	greeterv1.UnimplementedGreeterServiceServer
}

func (server) SayHello(_ context.Context, req *greeterv1.SayHelloRequest) (*greeterv1.SayHelloResponse, error) {
	return &greeterv1.SayHelloResponse{Message: "Hello, " + req.GetName() + "!"}, nil
}

// This example serves GreeterService on a loopback port and calls SayHello
// through the generated client, with a deadline as every call should have.
func Example() {
	msg, err := greetAda()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg)
	// Output: Hello, Ada!
}

// greetAda starts the server, calls it once and stops it again.
func greetAda() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := grpc.NewServer()
	greeterv1.RegisterGreeterServiceServer(srv, server{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.GracefulStop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	client := greeterv1.NewGreeterServiceClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ada"})
	if err != nil {
		return "", err
	}
	return resp.GetMessage(), nil
}
