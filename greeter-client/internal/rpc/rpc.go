// Package rpc runs the part of every call that is the same for every
// command: connect, set the deadline and metadata, report headers, trailers,
// status and timing under --verbose, and turn a failure into an error that
// says which method on which server failed and what to do about it.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
)

// Call is one RPC in progress.
type Call struct {
	// Ctx carries the call's deadline and metadata; pass it to the stub.
	Ctx context.Context
	// Conn is the connection to call on.
	Conn *grpc.ClientConn
	// Opts must be passed to the stub: they capture header and trailer.
	Opts []grpc.CallOption

	f               *conn.Factory
	errOut          io.Writer
	method          string
	start           time.Time
	cancel          context.CancelFunc
	header, trailer metadata.MD
}

// Start connects (once per process) and prepares a call of method, a full
// method name such as "/greeter.v1.GreeterService/SayHello", whose context
// has the --timeout deadline. errOut receives the --verbose report.
func Start(ctx context.Context, f *conn.Factory, errOut io.Writer, method string) (*Call, error) {
	return start(ctx, f, errOut, method, true)
}

// StartWithoutDeadline is Start for a call whose length the user decides,
// such as a chat at a terminal, where --timeout as the deadline of the
// whole call would blame the server for the user's pauses. Its context has
// no deadline: the caller must bound every wait for the server itself,
// with --timeout (conn.Options.Timeout), and cancel the call when one
// runs out.
func StartWithoutDeadline(ctx context.Context, f *conn.Factory, errOut io.Writer, method string) (*Call, error) {
	return start(ctx, f, errOut, method, false)
}

func start(ctx context.Context, f *conn.Factory, errOut io.Writer, method string, deadline bool) (*Call, error) {
	md, err := f.Metadata()
	if err != nil {
		return nil, err
	}
	cc, err := f.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var (
		cctx   context.Context
		cancel context.CancelFunc
		bound  string // the --verbose description of the deadline
	)
	if deadline {
		if cctx, cancel, err = f.CallContext(ctx); err != nil {
			return nil, err
		}
		bound = fmt.Sprintf("deadline %s", f.Options.Timeout)
	} else {
		cctx, cancel = context.WithCancel(metadata.NewOutgoingContext(ctx, md))
		bound = fmt.Sprintf("no deadline; each answer within %s", f.Options.Timeout)
	}
	c := &Call{Ctx: cctx, Conn: cc, f: f, errOut: errOut, method: strings.TrimPrefix(method, "/"), cancel: cancel}
	c.Opts = []grpc.CallOption{grpc.Header(&c.header), grpc.Trailer(&c.trailer)}
	if f.Options.Verbose {
		fmt.Fprintf(errOut, "> %s on %s (%s)\n", c.method, f.Options.Addr, bound)
		if f.Options.HasToken() {
			// The per-RPC credentials add it on the wire; the token is a
			// secret, and a verbose log gets pasted into tickets.
			md = md.Copy()
			md.Set("authorization", "Bearer <redacted>")
		}
		printMD(errOut, "> ", md)
	}
	c.start = time.Now()
	return c, nil
}

// End finishes the call with the error it returned (nil for success),
// prints the --verbose report, and returns the error to hand to root.
func (c *Call) End(err error) error {
	elapsed := time.Since(c.start)
	// Whether the call's own deadline had passed, asked before cancel
	// makes every context done. By the clock too: a server that ends the
	// call at the deadline the client sent it (grpc-timeout, which it
	// counts from a later start) may be heard before the client's own timer
	// fires.
	deadline, hasDeadline := c.Ctx.Deadline()
	localDeadline := errors.Is(c.Ctx.Err(), context.DeadlineExceeded) || (hasDeadline && !time.Now().Before(deadline))
	c.cancel()
	st, isStatus := status.FromError(err)
	if c.f.Options.Verbose {
		printMD(c.errOut, "< header ", c.header)
		printMD(c.errOut, "< trailer ", c.trailer)
		fmt.Fprintf(c.errOut, "< status %s in %s\n", st.Code(), elapsed.Round(time.Microsecond))
	}
	if !isStatus {
		return err
	}
	err = Err(c.f, c.method, err)
	var cerr *exitcode.CallError
	if errors.As(err, &cerr) && st.Code() == codes.DeadlineExceeded {
		cerr.ServerDeadline = !localDeadline
	}
	return err
}

// Err turns err, returned by a call of method (such as
// "greeter.v1.GreeterService/SayHello") on a connection of f, into the error
// to hand to root: a *exitcode.ConnectError when the call failed because no
// connection of f ever connected, else a *exitcode.CallError that names the
// method and the server. Errors that are not gRPC statuses are returned as
// they are.
func Err(f *conn.Factory, method string, err error) error {
	st, isStatus := status.FromError(err)
	if err == nil || !isStatus {
		return err
	}
	if st.Code() == codes.Unavailable && !f.Connected() {
		return &exitcode.ConnectError{Addr: f.Options.Addr, Err: dialCause(st.Message())}
	}
	return &exitcode.CallError{Method: strings.TrimPrefix(method, "/"), Addr: f.Options.Addr, Err: err}
}

// dialCause trims grpc's wrapping of a dial error down to its cause, such as
// "dial tcp 127.0.0.1:1: connect: connection refused".
func dialCause(msg string) error {
	if _, after, ok := strings.Cut(msg, `desc = "`); ok {
		msg = strings.TrimSuffix(after, `"`)
	}
	msg = strings.TrimPrefix(msg, "transport: ")
	msg = strings.TrimPrefix(msg, "Error while dialing: ")
	return fmt.Errorf("%s", msg)
}

func printMD(w io.Writer, prefix string, md metadata.MD) {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range md[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}
