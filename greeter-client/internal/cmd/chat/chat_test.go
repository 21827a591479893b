package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/chat"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
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
