// Package chat implements "greeter-client chat", which sends names from
// stdin to the bidirectional SayHelloChat and prints each greeting as it
// arrives.
package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
		Long: strings.Join([]string{`Read names from stdin, one per line (blank lines are skipped), send each to
the bidirectional SayHelloChat as it is read, and print each greeting as it
arrives. In a terminal, type names and end with Ctrl-D; in a pipe, it greets
every line and exits when stdin ends.

The conversation is one call that lasts as long as stdin does: --timeout
bounds each wait for the server, not the time between names. Each name must
be greeted within --timeout of being sent, and the call must end within
--timeout after stdin ends; if not, chat cancels the call, says which name
went unanswered, and exits with 68 (DeadlineExceeded).`,
			`Under --api helloworld it calls SayHelloBidiStream.`, // trim:helloworld
		}, "\n\n"),
		Example: `  printf 'ann\nbob\n' | greeter-client chat
  greeter-client chat --timeout 2s`,
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
//
// The call has no deadline: at a terminal it lasts as long as the user
// types, and a pause there is not the server's fault. A watch bounds every
// wait for the server with --timeout instead, and cancels the call when
// one runs out.
func Run(ctx context.Context, opts *Options) error {
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	method := client.SayHelloChat()
	call, err := rpc.StartWithoutDeadline(ctx, opts.Factory, opts.IO.ErrOut, method.Name)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancelCause(call.Ctx)
	defer cancel(nil)
	w := &watch{timeout: opts.Factory.Options.Timeout, cancel: cancel}
	defer w.stop()
	stream, err := method.Call(cctx, call.Conn, call.Opts...)
	if err != nil {
		return call.End(err)
	}
	err = converse(opts, stream, w)
	if status.Code(err) == codes.Canceled && cctx.Err() != nil && call.Ctx.Err() == nil {
		// The watch cancelled the call, not the user: its cause says
		// what the server left unanswered, where the stream says only
		// "context canceled".
		err = context.Cause(cctx)
	}
	return call.End(err)
}

// converse sends stdin's names on stream while it prints the responses,
// and tells w of every wait for the server.
//
// The sender goroutine ends when stdin ends or a send fails. When the
// server ends the call first, the sender may still be blocked reading a
// terminal that cannot be interrupted; converse then returns without it,
// and the process exits soon after.
func converse(opts *Options, stream greeter.ChatStream, w *watch) error {
	if opts.IO.InTTY {
		_, _ = io.WriteString(opts.IO.ErrOut, "Type a name and press Enter to be greeted; end with Ctrl-D.\n")
	}
	sent := make(chan error, 1)
	go func() {
		err := opts.IO.EachLine(func(name string) error {
			// From before Send: a server that stops reading holds Send up,
			// and that is a wait for the server too.
			w.begin(name)
			return stream.Send(name)
		})
		if errors.Is(err, io.EOF) {
			// The server ended the call; Recv reports why.
			err = nil
		}
		if err == nil {
			w.begin(endOfCall)
			err = stream.CloseSend()
		}
		sent <- err
	}()
	recv := func() (greeter.Greeting, error) {
		g, err := stream.Recv()
		if err == nil {
			w.answered()
		}
		return g, err
	}
	if err := output.PrintAll(output.New(opts.IO.Out, opts.Factory.Options.Output), recv); err != nil {
		return err
	}
	return <-sent
}

// endOfCall stands for the last wait of a chat, for the server to end the
// call after stdin ended, where a name would be. No name is blank: EachLine
// skips blank lines.
const endOfCall = ""

// watch bounds each wait for the server by timeout: a name sent waits for
// its greeting, and the end of stdin for the end of the call. The server
// answers names in the order they were sent (one greeting each, as both
// APIs define their chat), so the waits are kept in that order and one
// timer runs for the oldest. When it fires, the call is cancelled with a
// DeadlineExceeded status error that says what went unanswered.
//
// The sender goroutine begins waits while the receiving one ends them.
type watch struct {
	timeout time.Duration
	cancel  context.CancelCauseFunc

	mu      sync.Mutex
	waits   []wait      // oldest first
	timer   *time.Timer // runs fire for waits[0]; made on the first wait
	stopped bool        // no more waits are watched
}

// wait is one wait for the server.
type wait struct {
	name  string // the name to be greeted, or endOfCall
	since time.Time
}

// begin starts a wait for the greeting of name, or, with endOfCall, for
// the end of the call.
func (w *watch) begin(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.waits = append(w.waits, wait{name: name, since: time.Now()})
	if len(w.waits) > 1 {
		return // the timer runs for an older wait
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(w.timeout, w.fire)
	} else {
		w.timer.Reset(w.timeout)
	}
}

// answered ends the oldest wait: its greeting arrived.
func (w *watch) answered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || len(w.waits) == 0 {
		return
	}
	w.waits = w.waits[1:]
	if len(w.waits) == 0 {
		w.timer.Stop()
		return
	}
	w.timer.Reset(time.Until(w.waits[0].since.Add(w.timeout)))
}

// fire cancels the call if the oldest wait has run out.
func (w *watch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || len(w.waits) == 0 {
		return
	}
	// A greeting that arrived as the timer fired has moved the deadline
	// on, or ended every wait (above).
	if left := time.Until(w.waits[0].since.Add(w.timeout)); left > 0 {
		w.timer.Reset(left)
		return
	}
	w.stopped = true
	msg := fmt.Sprintf("no greeting for %q within %s of sending it", w.waits[0].name, w.timeout)
	if w.waits[0].name == endOfCall {
		msg = fmt.Sprintf("the call did not end within %s after stdin ended", w.timeout)
	}
	w.cancel(status.Error(codes.DeadlineExceeded, msg))
}

// stop ends the watch; waits begun after it are not watched.
func (w *watch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}
