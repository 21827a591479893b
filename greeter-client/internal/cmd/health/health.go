// Package health implements "greeter-client health", which asks the
// server's grpc.health.v1.Health service whether it is serving, with exit
// codes in the spirit of grpc-health-probe.
package health

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
	"github.com/greeter-go/greeter/greeter-client/internal/rpc"
)

// Options are the inputs of one run of health.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
	// Service is the service to ask about; empty means the whole server.
	Service string
}

// NewCmd returns the health command. If runF is not nil it runs instead of
// the real call.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "health [--service NAME]",
		Short: "Check whether the server is serving (grpc.health.v1)",
		Long: `Call grpc.health.v1.Health/Check for the whole server, or for one service
with --service, and print its status, such as SERVING.

It exits with 0 when the status is SERVING, 4 when the server answered with
another status, 3 when it could not connect, and 64 + the gRPC status code
when the check itself failed (76: the server has no health service; 69:
it does not know --service).`,
		Example: `  greeter-client health
  greeter-client health --service greeter.v1.GreeterService --connect-timeout 1s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Service, "service", "s", "", "service to check, such as greeter.v1.GreeterService (default: the whole server)")
	return cmd
}

// Run checks health once and prints the status.
func Run(ctx context.Context, opts *Options) error {
	opts.Factory.DisableHealthCheck = true
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method := client.Check(opts.Service)
	call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, method.Name)
	if err != nil {
		return err
	}
	resp, err := method.Call(call.Ctx, call.Conn, call.Opts...)
	if err := call.End(err); err != nil {
		return err
	}
	if err := output.New(opts.IO.Out, opts.Factory.Options.Output).Print(resp.Response, resp.Status); err != nil {
		return err
	}
	if !resp.Serving {
		return &exitcode.UnhealthyError{Service: opts.Service, Status: resp.Status}
	}
	return nil
}
