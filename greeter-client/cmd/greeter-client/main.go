// Command greeter-client calls the Greeter gRPC API. Run it with --help for
// its commands.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"google.golang.org/grpc/grpclog"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/root"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func main() {
	// grpc-go writes its internal errors to stderr, such as that a server
	// has no health service to check. The commands report what a user can
	// act on themselves; GRPC_GO_LOG_SEVERITY_LEVEL brings grpc-go's log back.
	if os.Getenv("GRPC_GO_LOG_SEVERITY_LEVEL") == "" {
		grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// The first Ctrl-C lets the command finish cleanly (bench prints its
	// report); a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := root.Main(ctx, iostreams.System(), os.Args[1:], os.Getenv)
	stop()
	os.Exit(code)
}
