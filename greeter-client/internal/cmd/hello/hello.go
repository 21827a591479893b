// Package hello implements "greeter-client hello", which calls SayHello, and
// the twin command "hello-again" (package helloagain), which calls
// SayHelloAgain: the two differ only in the method they call.
package hello

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
	"github.com/greeter-go/greeter/greeter-client/internal/rpc"
)

// DefaultName is whom hello greets without --name, as grpc-go's example
// client does.
const DefaultName = "world"

// Options are the inputs of one run of hello or hello-again.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
	Name    string
	// Again calls SayHelloAgain instead of SayHello.
	Again bool
}

// NewCmd returns the hello command. If runF is not nil it runs instead of
// the real call, so tests can check flag parsing alone.
func NewCmd(io *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(io, f, runF, false)
}

// NewCmdAgain returns the hello-again command, like NewCmd.
func NewCmdAgain(io *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(io, f, runF, true)
}

func newCmd(io *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error, again bool) *cobra.Command {
	opts := &Options{IO: io, Factory: f, Again: again}
	cmd := &cobra.Command{
		Use:   "hello [--name NAME]",
		Short: "Greet NAME once (SayHello)",
		Long: `Call SayHello and print the greeting, "Hello, NAME!", on stdout.

Without --name it greets "world". The server checks the name (1 to 100
characters, not only white space, no control characters); a name it
rejects is reported on stderr with its reason, and exit code 67.`,
		Example: `  greeter-client hello --name Ada
  greeter-client hello -n Ada --output json | jq -r .message`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	if again {
		cmd.Use = "hello-again [--name NAME]"
		cmd.Short = "Greet NAME a second time (SayHelloAgain)"
		cmd.Long = `Call SayHelloAgain and print the greeting, "Hello again, NAME!", on stdout.

Without --name it greets "world". The server checks the name (1 to 100
characters, not only white space, no control characters); a name it
rejects is reported on stderr with its reason, and exit code 67.`
		cmd.Example = "  greeter-client hello-again --name Ada"
	}
	cmd.Flags().StringVarP(&opts.Name, "name", "n", DefaultName, "name to greet")
	return cmd
}

// Run makes the call once and prints the greeting.
func Run(ctx context.Context, opts *Options) error {
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method := client.SayHello(opts.Name)
	if opts.Again {
		method = client.SayHelloAgain(opts.Name)
	}
	call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, method.Name)
	if err != nil {
		return err
	}
	resp, err := method.Call(call.Ctx, call.Conn, call.Opts...)
	if err := call.End(err); err != nil {
		return err
	}
	return output.New(opts.IO.Out, opts.Factory.Options.Output).Print(resp, resp.GetMessage())
}
