// Command greeter-server serves the Greeter gRPC API. Run it with --help for
// its flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// Mozilla's root certificates, used only where the system has none, as
	// in the FROM scratch image, for what the server fetches over https:
	// the OIDC issuer's keys.
	// The OTLP exporter sends its spans over https too. // trim:tracing
	// SSL_CERT_FILE still wins (such as a Kubernetes cluster's CA for its
	// service-account issuer).
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/greeter-go/greeter/greeter-server/internal/cli"
	// Sets grpc-go's environment-only limits before grpc-go reads them.
	_ "github.com/greeter-go/greeter/greeter-server/internal/grpcenv"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	go stopOnSignals(cancel)
	err := cli.NewCmd(os.Stdout, os.Stderr, os.LookupEnv, nil).ExecuteContext(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "greeter-server:", err)
		os.Exit(1)
	}
}

// stopOnSignals calls shutdown on the first SIGINT or SIGTERM, which starts a
// graceful shutdown, and exits at once on the second, with the shell's code
// for that signal (130 or 143). It exits itself rather than restoring the
// signal's default action: as PID 1 in a container the kernel ignores that
// action, and Go's runtime then exits with status 2 instead.
func stopOnSignals(shutdown context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	<-sigs
	shutdown()
	sig := (<-sigs).(syscall.Signal)
	fmt.Fprintf(os.Stderr, "greeter-server: second %v during shutdown; stopping at once\n", sig)
	os.Exit(128 + int(sig))
}
