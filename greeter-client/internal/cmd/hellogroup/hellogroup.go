// Package hellogroup implements "greeter-client hello-group", which streams
// names to the client-streaming SayHelloGroup and prints its one greeting.
package hellogroup

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
	"github.com/greeter-go/greeter/greeter-client/internal/rpc"
)

// Options are the inputs of one run of hello-group.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
	// Names are the --name flags; when there are none, names come from
	// stdin, one per line.
	Names []string
}

// NewCmd returns the hello-group command. If runF is not nil it runs
// instead of the real call.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "hello-group [--name NAME]...",
		Short: "Greet a group of names at once (SayHelloGroup)",
		Long: `Stream names to the client-streaming SayHelloGroup, then print the one
greeting to all of them, such as "Hello, Ann, Bob and Cy!".

Names come from repeated --name flags or, when there is none, from stdin, one
per line (blank lines are skipped). A group holds 1 to 1000 names. Only
--api greeter.v1 has this method.`,
		Example: `  greeter-client hello-group --name Ann --name Bob
  printf 'Ann\nBob\nCy\n' | greeter-client hello-group`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Names, "name", "n", nil, "a name in the group (repeatable; default: read names from stdin)")
	return cmd
}

// Run streams the names and prints the group greeting.
func Run(ctx context.Context, opts *Options) error {
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method, err := client.SayHelloGroup()
	if err != nil {
		return err
	}
	call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, method.Name)
	if err != nil {
		return err
	}
	stream, err := method.Call(call.Ctx, call.Conn, call.Opts...)
	if err != nil {
		return call.End(err)
	}
	send := func(name string) error {
		// Send reports io.EOF when the server has ended the call early;
		// CloseAndRecv then returns the status that says why.
		if err := stream.Send(name); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	if len(opts.Names) > 0 {
		for _, name := range opts.Names {
			if err := send(name); err != nil {
				return call.End(err)
			}
		}
	} else {
		if opts.IO.InTTY {
			_, _ = io.WriteString(opts.IO.ErrOut, "Type one name per line; end the group with Ctrl-D.\n")
		}
		if err := opts.IO.EachLine(send); err != nil {
			return call.End(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err := call.End(err); err != nil {
		return err
	}
	return output.New(opts.IO.Out, opts.Factory.Options.Output).Print(resp, resp.GetMessage())
}
