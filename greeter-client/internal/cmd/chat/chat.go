// Package chat implements "greeter-client chat", which sends names from
// stdin to the bidirectional SayHelloChat and prints each greeting as it
// arrives.
package chat

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
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
	if opts.Factory.Options.API == conn.APIHelloworld {
		call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, helloworld.Greeter_SayHelloBidiStream_FullMethodName)
		if err != nil {
			return err
		}
		stream, err := helloworld.NewGreeterClient(call.Conn).SayHelloBidiStream(call.Ctx, call.Opts...)
		if err != nil {
			return call.End(err)
		}
		return call.End(converse(opts, stream, func(name string) *helloworld.HelloRequest {
			return &helloworld.HelloRequest{Name: name}
		}))
	}
	call, err := rpc.Start(ctx, opts.Factory, opts.IO.ErrOut, greeterv1.GreeterService_SayHelloChat_FullMethodName)
	if err != nil {
		return err
	}
	stream, err := greeterv1.NewGreeterServiceClient(call.Conn).SayHelloChat(call.Ctx, call.Opts...)
	if err != nil {
		return call.End(err)
	}
	return call.End(converse(opts, stream, func(name string) *greeterv1.SayHelloChatRequest {
		return &greeterv1.SayHelloChatRequest{Name: name}
	}))
}

// converse sends stdin's names on stream while it prints the responses.
//
// The sender goroutine ends when stdin ends or a send fails. When the
// server ends the call first, the sender may still be blocked reading a
// terminal that cannot be interrupted; converse then returns without it,
// and the process exits soon after.
func converse[Req, Resp any, PResp interface {
	*Resp
	output.Message
}](opts *Options, stream grpc.BidiStreamingClient[Req, Resp], request func(string) *Req) error {
	if opts.IO.InTTY {
		io.WriteString(opts.IO.ErrOut, "Type a name and press Enter to be greeted; end with Ctrl-D.\n")
	}
	sent := make(chan error, 1)
	go func() {
		err := opts.IO.EachLine(func(name string) error {
			return stream.Send(request(name))
		})
		if errors.Is(err, io.EOF) {
			// The server ended the call; Recv reports why.
			err = nil
		}
		if err == nil {
			err = stream.CloseSend()
		}
		sent <- err
	}()
	recv := func() (PResp, error) {
		m, err := stream.Recv()
		return PResp(m), err
	}
	if err := output.PrintAll(output.New(opts.IO.Out, opts.Factory.Options.Output), recv); err != nil {
		return err
	}
	return <-sent
}
