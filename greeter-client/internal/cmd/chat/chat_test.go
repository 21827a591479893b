package chat_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/chat"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestNoArgs(t *testing.T) {
	t.Parallel()
	ios, _, _, _ := iostreams.Test()
	cmd := chat.NewCmd(ios, &conn.Factory{}, func(context.Context, *chat.Options) error { return nil })
	cmd.SetArgs([]string{"ann"})
	if err := cmd.Execute(); err == nil {
		t.Error("chat ann: no error, want one: names come from stdin")
	}
}

// TestRunTerminal checks that a person at a terminal is told what to do, on
// stderr, and that a name the server refuses ends the chat with the server's
// reason, after the greetings that came before it.
func TestRunTerminal(t *testing.T) {
	t.Parallel()
	ios, in, out, errOut := iostreams.Test()
	ios.InTTY = true
	in.WriteString("ann\n\t\n\x01\nbob\n")
	refuse := map[string]error{"\x01": status.Error(codes.InvalidArgument, "invalid name: refused by the test")}
	f := &conn.Factory{Options: conn.Options{Addr: greetertest.StartFailing(t, refuse), Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	err := chat.Run(context.Background(), &chat.Options{IO: ios, Factory: f})
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
		t.Errorf("chat with a control character: %v, want InvalidArgument", err)
	}
	if got := out.String(); got != "Hello, ann!\n" {
		t.Errorf("stdout = %q, want the greeting before the bad name", got)
	}
	if !strings.Contains(errOut.String(), "Ctrl-D") {
		t.Errorf("stderr = %q, want a hint to end with Ctrl-D", errOut)
	}
}

// chatTimeout is --timeout in the tests of chat's waits: short, for fast
// tests, yet far longer than a greeting takes on loopback.
const chatTimeout = 300 * time.Millisecond

func newFactory(t *testing.T, addr string) *conn.Factory {
	t.Helper()
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: chatTimeout, ConnectTimeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestRunPause checks that --timeout bounds the wait for the server, not
// for the user: a pause on stdin several times longer than --timeout, at a
// terminal or in a pipe, does not end the chat.
func TestRunPause(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%t", tty), func(t *testing.T) {
			t.Parallel()
			ios, _, out, _ := iostreams.Test()
			ios.InTTY = tty
			in, typing := io.Pipe()
			ios.In = in
			typed := make(chan error, 1)
			go func() {
				_, err := io.WriteString(typing, "ann\n")
				if err == nil {
					time.Sleep(3 * chatTimeout)
					_, err = io.WriteString(typing, "bob\n")
				}
				typed <- err
				typing.Close()
			}()
			t.Cleanup(func() { in.Close() })

			err := chat.Run(context.Background(), &chat.Options{IO: ios, Factory: newFactory(t, addr)})
			if err != nil {
				t.Errorf("chat with a pause of %s between names, --timeout %s: %v, want no error", 3*chatTimeout, chatTimeout, err)
			}
			if err := <-typed; err != nil {
				t.Errorf("write stdin: %v", err)
			}
			if got, want := out.String(), "Hello, ann!\nHello, bob!\n"; got != want {
				t.Errorf("stdout = %q, want %q", got, want)
			}
		})
	}
}

// TestRunServerLate checks that a server that does not answer a name, or
// does not end the call after the last one, within --timeout has the chat
// cancelled with DeadlineExceeded (exit code 68) and an error that says
// what went unanswered, after the greetings that came in time.
func TestRunServerLate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     grpc.ServerOption
		stdin   string
		wantOut string
		wantErr string
	}{
		{
			name:    "greeting",
			opt:     grpc.ChainStreamInterceptor(holdGreeting("Hello, bob!")),
			stdin:   "ann\nbob\ncy\n",
			wantOut: "Hello, ann!\n",
			wantErr: fmt.Sprintf("no greeting for %q within %s of sending it", "bob", chatTimeout),
		},
		{
			name:    "end of the call",
			opt:     grpc.ChainStreamInterceptor(holdEnd),
			stdin:   "ann\nbob\n",
			wantOut: "Hello, ann!\nHello, bob!\n",
			wantErr: fmt.Sprintf("the call did not end within %s after stdin ended", chatTimeout),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, in, out, _ := iostreams.Test()
			in.WriteString(tt.stdin)
			err := chat.Run(context.Background(), &chat.Options{IO: ios, Factory: newFactory(t, greetertest.Start(t, tt.opt))})
			if code := exitcode.Code(err); code != exitcode.StatusBase+int(codes.DeadlineExceeded) {
				t.Errorf("chat %q: %v, exit code %d, want %d (DeadlineExceeded)", tt.stdin, err, code, exitcode.StatusBase+int(codes.DeadlineExceeded))
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--timeout") {
				t.Errorf("chat %q: %v, want an error containing %q and naming --timeout", tt.stdin, err, tt.wantErr)
			}
			if got := out.String(); got != tt.wantOut {
				t.Errorf("chat %q: stdout = %q, want %q", tt.stdin, got, tt.wantOut)
			}
		})
	}
}

// holdGreeting returns a stream interceptor under which a chat never sends
// the greeting msg: it waits in Send until the call ends, as a server
// that stalls does.
func holdGreeting(msg string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !isChat(info) {
			return handler(srv, ss)
		}
		return handler(srv, holdingStream{ServerStream: ss, hold: msg})
	}
}

type holdingStream struct {
	grpc.ServerStream
	hold string
}

func (s holdingStream) SendMsg(m any) error {
	if g, ok := m.(interface{ GetMessage() string }); ok && g.GetMessage() == s.hold {
		<-s.Context().Done()
		return s.Context().Err()
	}
	return s.ServerStream.SendMsg(m)
}

// holdEnd is a stream interceptor under which a chat greets every name but
// does not end the call when the client has closed its side.
func holdEnd(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	if err == nil && isChat(info) {
		<-ss.Context().Done()
		err = ss.Context().Err()
	}
	return err
}

func isChat(info *grpc.StreamServerInfo) bool {
	return strings.HasSuffix(info.FullMethod, "/SayHelloChat")
}
