// Command greeter-server serves the Greeter gRPC API. Run it with --help for
// its flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/greeter-go/greeter/greeter-server/internal/cli"
	// Sets grpc-go's environment-only limits before grpc-go reads them.
	_ "github.com/greeter-go/greeter/greeter-server/internal/grpcenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a graceful shutdown; restoring the default
	// handling then lets a second one stop the process at once.
	context.AfterFunc(ctx, stop)
	err := cli.NewCmd(os.Stdout, os.Stderr, os.Getenv, nil).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "greeter-server:", err)
		os.Exit(1)
	}
}
