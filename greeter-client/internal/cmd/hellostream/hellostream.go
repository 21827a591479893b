// Package hellostream implements "greeter-client hello-stream", which calls
// the server-streaming SayHelloStream and prints each greeting as it arrives.
package hellostream

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
	"github.com/greeter-go/greeter/greeter-client/internal/rpc"
)

// Options are the inputs of one run of hello-stream.
type Options struct {
	IO       *iostreams.IOStreams
	Factory  *conn.Factory
	Name     string
	Count    uint32
	Interval time.Duration
	// CountOrIntervalSet is true when --count or --interval was given, so
	// that an API without them refuses them rather than ignore them.
	CountOrIntervalSet bool
}

// NewCmd returns the hello-stream command. If runF is not nil it runs
// instead of the real call.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "hello-stream [--name NAME] [--count N] [--interval D]",
		Short: "Greet NAME several times, printing each greeting as it arrives",
		Long: strings.Join([]string{`Call the server-streaming SayHelloStream and print each greeting on its own
line as soon as it arrives.

The server sends --count greetings (1 to 100; 0 lets the server choose, 3),
--interval apart (0 to 10s). The whole stream must end within --timeout.`,
			// trim:helloworld begin
			`Under --api helloworld it calls SayHelloStreamReply, which has neither
--count nor --interval.`,
			// trim:helloworld end
		}, "\n\n"),
		Example: `  greeter-client hello-stream --name Ada --count 5 --interval 200ms
  greeter-client hello-stream -n Ada --output json | jq .sequence`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.CountOrIntervalSet = cmd.Flags().Changed("count") || cmd.Flags().Changed("interval")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Name, "name", "n", hello.DefaultName, "name to greet")
	cmd.Flags().Uint32VarP(&opts.Count, "count", "c", 0, "how many greetings, 1 to 100 (0: the server's default, 3)")
	cmd.Flags().DurationVarP(&opts.Interval, "interval", "i", 0, "wait between two greetings, 0 to 10s")
	return cmd
}

// Run calls the streaming method and prints every greeting.
func Run(ctx context.Context, opts *Options) error {
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method, err := client.SayHelloStream(greeter.StreamRequest{
		Name:               opts.Name,
		Count:              opts.Count,
		Interval:           opts.Interval,
		CountOrIntervalSet: opts.CountOrIntervalSet,
	})
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
	return call.End(output.PrintAll(output.New(opts.IO.Out, opts.Factory.Options.Output), stream.Recv))
}
