// Package chat implements "greeter-client chat", which sends names from
// stdin to the bidirectional SayHelloChat and prints each greeting as it
// arrives.
package chat

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

// Options are the inputs of one run of chat.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
}

// NewCmd returns the chat command. If runF is not nil it runs instead of
// the real call.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Greet each name read from stdin as soon as it is sent",
		Long: `Read names from stdin, one per line (blank lines are skipped), send each to
the bidirectional SayHelloChat as it is read, and print each greeting as it
arrives. In a terminal, type names and end with Ctrl-D; in a pipe, it greets
every line and exits when stdin ends.

The whole conversation is one call and must end within --timeout. Under
--api helloworld it calls SayHelloBidiStream.`,
		Example: `  printf 'ann\nbob\n' | greeter-client chat
  greeter-client chat --timeout 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	return cmd
}

// Run holds the conversation until stdin ends and every greeting arrived.
func Run(ctx context.Context, opts *Options) error {
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method := client.SayHelloChat()
	call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, method.Name)
	if err != nil {
		return err
	}
	stream, err := method.Call(call.Ctx, call.Conn, call.Opts...)
	if err != nil {
		return call.End(err)
	}
	return call.End(converse(opts, stream))
}

// converse sends stdin's names on stream while it prints the responses.
//
// The sender goroutine ends when stdin ends or a send fails. When the
// server ends the call first, the sender may still be blocked reading a
// terminal that cannot be interrupted; converse then returns without it,
// and the process exits soon after.
func converse(opts *Options, stream greeter.ChatStream) error {
	if opts.IO.InTTY {
		_, _ = io.WriteString(opts.IO.ErrOut, "Type a name and press Enter to be greeted; end with Ctrl-D.\n")
	}
	sent := make(chan error, 1)
	go func() {
		err := opts.IO.EachLine(stream.Send)
		if errors.Is(err, io.EOF) {
			// The server ended the call; Recv reports why.
			err = nil
		}
		if err == nil {
			err = stream.CloseSend()
		}
		sent <- err
	}()
	if err := output.PrintAll(output.New(opts.IO.Out, opts.Factory.Options.Output), stream.Recv); err != nil {
		return err
	}
	return <-sent
}
