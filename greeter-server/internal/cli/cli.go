// Package cli defines the greeter-server command line: its flags, their
// environment variables, and how they become a serve.Config.
package cli

import (
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// NewCmd returns the greeter-server root command. It logs to stderr.
func NewCmd(stderr io.Writer) *cobra.Command {
	cfg := serve.Config{}
	cmd := &cobra.Command{
		Use:   "greeter-server",
		Short: "Serve the Greeter gRPC API",
		Long: `greeter-server serves greeter.v1.GreeterService and the canonical
helloworld.Greeter service on one port, and stops gracefully on SIGINT or
SIGTERM.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
			return serve.Run(cmd.Context(), cfg, nil)
		},
	}
	cmd.SetErr(stderr)
	cmd.Flags().StringVar(&cfg.Addr, "addr", "localhost:50051", "TCP address to listen on")
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight calls may run after SIGINT or SIGTERM before they are cut")
	return cmd
}
