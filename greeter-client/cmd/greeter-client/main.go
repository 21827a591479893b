// Command greeter-client calls the Greeter gRPC API. Run it with --help for
// its commands.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/root"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := root.Main(ctx, iostreams.System(), os.Args[1:], os.Getenv)
	stop()
	os.Exit(code)
}
