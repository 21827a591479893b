// Package root assembles greeter-client's command tree, its global flags, and
// the mapping from errors to exit codes.
package root

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// Exit codes of greeter-client.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// NewCmd returns the greeter-client root command with every subcommand.
func NewCmd(io *iostreams.IOStreams, f *conn.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "greeter-client <command>",
		Short: "Call the Greeter gRPC API",
		Long: `greeter-client calls a Greeter server (greeter-server, or any server of
the canonical gRPC helloworld example).`,
		Example:       "  greeter-client hello --name Ada",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(io.In)
	cmd.SetOut(io.Out)
	cmd.SetErr(io.ErrOut)
	cmd.PersistentFlags().StringVar(&f.Options.Addr, "addr", "localhost:50051", "gRPC target of the server, such as host:port or dns:///host:port")
	cmd.PersistentFlags().DurationVar(&f.Options.Timeout, "timeout", 10*time.Second, "deadline of every call")
	cmd.AddCommand(hello.NewCmd(io, f, nil))
	return cmd
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

// Main runs greeter-client with args and returns its exit code.
func Main(ctx context.Context, io *iostreams.IOStreams, args []string) int {
	f := &conn.Factory{}
	defer f.Close()
	cmd := NewCmd(io, f)
	cmd.SetArgs(args)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(io.ErrOut, "greeter-client:", err)
	var uerr usageError
	if errors.As(err, &uerr) {
		return ExitUsage
	}
	return ExitError
}
