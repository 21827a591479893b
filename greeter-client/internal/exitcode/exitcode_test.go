package exitcode_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
)

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{err: nil, want: 0},
		{err: errors.New("read stdin: broken"), want: 1},
		{err: exitcode.Usagef("bad flag"), want: 2},
		{err: fmt.Errorf("wrapped: %w", exitcode.Usagef("bad flag")), want: 2},
		{err: &exitcode.ConnectError{Addr: "x:1", Err: errors.New("refused")}, want: 3},
		{err: &exitcode.UnhealthyError{Status: "NOT_SERVING"}, want: 4},
		{err: &exitcode.NotServingError{Addr: "x:1", Status: "NOT_SERVING"}, want: 4},
		{err: fmt.Errorf("wrapped: %w", &exitcode.NotServingError{Addr: "x:1", Status: "NOT_SERVING"}), want: 4},
		{err: &exitcode.CallError{Method: "m", Addr: "a", Err: status.Error(codes.InvalidArgument, "bad name")}, want: 67},
		{err: status.Error(codes.Unimplemented, "no"), want: 76},
		{err: status.Error(codes.Unauthenticated, "no"), want: 80},
		{err: &exitcode.CallError{Method: "m", Addr: "a", Err: status.Error(codes.Unauthenticated, "token expired")}, want: 80},
		{err: &exitcode.CallError{Method: "m", Addr: "a", Err: status.Error(codes.PermissionDenied, "not allowed")}, want: 71},
	}
	for _, tt := range tests {
		if got := exitcode.Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestCallErrorMessage(t *testing.T) {
	t.Parallel()
	err := &exitcode.CallError{Method: "greeter.v1.GreeterService/SayHello", Addr: "localhost:50051", Err: status.Error(codes.DeadlineExceeded, "context deadline exceeded")}
	got := err.Error()
	for _, want := range []string{"SayHello on localhost:50051 failed", "(DeadlineExceeded)", "raise it"} {
		if !strings.Contains(got, want) {
			t.Errorf("CallError = %q, want it to contain %q", got, want)
		}
	}
}

// TestCallErrorServerDeadline checks that a DeadlineExceeded the server
// sent before the client's own deadline does not tell the user to raise
// --timeout.
func TestCallErrorServerDeadline(t *testing.T) {
	t.Parallel()
	err := &exitcode.CallError{Method: "greeter.v1.GreeterService/SayHelloStream", Addr: "h:1", ServerDeadline: true,
		Err: status.Error(codes.DeadlineExceeded, "the call was open longer than the server allows (20m0s)")}
	got := err.Error()
	if strings.Contains(got, "raise it") {
		t.Errorf("CallError = %q, want no advice to raise --timeout", got)
	}
	for _, want := range []string{"open longer than the server allows", "a time limit of its own", "will not help"} {
		if !strings.Contains(got, want) {
			t.Errorf("CallError = %q, want it to contain %q", got, want)
		}
	}
	if code := exitcode.Code(err); code != 68 {
		t.Errorf("Code = %d, want 68 (DeadlineExceeded)", code)
	}
}

func TestCallErrorAuthHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code codes.Code
		want []string
	}{
		{code: codes.Unauthenticated, want: []string{
			"token expired (Unauthenticated)", "needs a valid bearer token", "--token-file", "GREETER_CLIENT_TOKEN", "expired", "audience",
		}},
		{code: codes.PermissionDenied, want: []string{
			"token expired (PermissionDenied)", "you are authenticated", "authorization policy refuses this method", "identity", "operator",
		}},
	}
	for _, tt := range tests {
		err := &exitcode.CallError{Method: "greeter.v1.GreeterService/SayHello", Addr: "h:1", Err: status.Error(tt.code, "token expired")}
		got := err.Error()
		for _, want := range append(tt.want, "SayHello on h:1 failed") {
			if !strings.Contains(got, want) {
				t.Errorf("CallError(%s) = %q, want it to contain %q", tt.code, got, want)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("CallError(%s) = %q, want one line", tt.code, got)
		}
	}
}

func TestConnectErrorHint(t *testing.T) {
	t.Parallel()
	tests := []struct{ cause, want string }{
		{cause: "dial tcp 127.0.0.1:1: connect: connection refused", want: "--addr"},
		{cause: "tls: first record does not look like a TLS handshake", want: "TLS flags"},
		{cause: "x509: certificate signed by unknown authority", want: "--ca"},
	}
	for _, tt := range tests {
		got := (&exitcode.ConnectError{Addr: "h:1", Err: errors.New(tt.cause)}).Error()
		if !strings.Contains(got, tt.cause) || !strings.Contains(got, tt.want) {
			t.Errorf("ConnectError(%q) = %q, want the cause and a hint about %s", tt.cause, got, tt.want)
		}
	}
}

func TestNotServingErrorMessage(t *testing.T) {
	t.Parallel()
	got := (&exitcode.NotServingError{Addr: "h:1", Status: "NOT_SERVING"}).Error()
	for _, want := range []string{"server at h:1 is up but not serving (health: NOT_SERVING)", "shutting down or not ready", "another replica"} {
		if !strings.Contains(got, want) {
			t.Errorf("NotServingError = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "cannot connect") {
		t.Errorf("NotServingError = %q, which says it cannot connect", got)
	}
}
