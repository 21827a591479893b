// Package hello implements the "greeter-client hello" command, which calls
// greeter.v1.GreeterService.SayHello.
package hello

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// Options are the inputs of one run of the hello command.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
	Name    string
}

// NewCmd returns the hello command. If runF is not nil it runs instead of
// the real call, so tests can check flag parsing alone.
func NewCmd(io *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: io, Factory: f}
	cmd := &cobra.Command{
		Use:   "hello --name NAME",
		Short: "Greet NAME with SayHello",
		Long: `Call greeter.v1.GreeterService.SayHello and print the greeting,
"Hello, NAME!", on stdout.`,
		Example: "  greeter-client hello --name Ada",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Name, "name", "n", "world", "name to greet: 1 to 100 characters")
	return cmd
}

// Run calls SayHello once and prints the greeting.
func Run(ctx context.Context, opts *Options) error {
	cc, err := opts.Factory.Conn()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Factory.Options.Timeout)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: opts.Name}, grpc.WaitForReady(false))
	if err != nil {
		return fmt.Errorf("SayHello on %s: %w", opts.Factory.Options.Addr, err)
	}
	fmt.Fprintln(opts.IO.Out, resp.GetMessage())
	return nil
}
