// Package exitcode is the one place that decides greeter-client's exit code
// and the one-line message for an error. Commands return errors of the types
// defined here (or gRPC status errors); root.Main turns them into a code.
package exitcode

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes of greeter-client. A call that the server answered with a
// non-OK gRPC status exits with StatusBase plus the status code, so
// InvalidArgument (3) is 67, DeadlineExceeded (4) is 68, PermissionDenied
// (7) is 71, Unimplemented (12) is 76, Unavailable (14) is 78 and
// Unauthenticated (16) is 80.
const (
	OK         = 0
	Error      = 1  // anything not listed below, such as an unreadable --ca file
	Usage      = 2  // bad flags or arguments; nothing was sent
	Connect    = 3  // no connection to the server within --connect-timeout
	Unhealthy  = 4  // the server answered, but is not SERVING
	StatusBase = 64 // 64 + gRPC status code: the call failed with that status
	// Interrupted follows the shell's 128 + SIGINT.
	Interrupted = 130
)

// Table documents the exit codes, for --help and the README.
const Table = `Exit codes:
  0       success
  1       local error, such as an unreadable --ca file or stdin
  2       usage error: bad flags or arguments, nothing was sent
  3       could not connect to the server within --connect-timeout
  4       the server answered, but is not SERVING: its health service
          reports another status, such as NOT_SERVING while it drains or
          before it is ready
  64+N    the call failed with gRPC status code N, for example
          67 InvalidArgument, 68 DeadlineExceeded, 76 Unimplemented,
          78 Unavailable; in particular:
  71      PermissionDenied: the caller is authenticated, but the server's
          authorization policy refuses it this method
  80      Unauthenticated: the server needs a valid bearer token
          (--token-file or GREETER_CLIENT_TOKEN)
  130     interrupted (Ctrl-C)`

// UsageError marks a mistake in how greeter-client was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ConnectError reports that no connection to Addr could be made.
type ConnectError struct {
	Addr string
	Err  error
}

func (e *ConnectError) Error() string {
	hint := "check that the server is running there, or point at another with --addr (or GREETER_CLIENT_ADDR)"
	if cause := e.Err.Error(); strings.Contains(cause, "tls:") || strings.Contains(cause, "x509:") {
		hint = "check that the TLS flags (--tls, --ca, --server-name, --cert, --key) match the server"
	}
	return fmt.Sprintf("cannot connect to %s: %v; %s", e.Addr, e.Err, hint)
}
func (e *ConnectError) Unwrap() error { return e.Err }

// NotServingError reports a server that is up and answers, but whose
// health service reports Status, not SERVING, so the connection's health
// checking keeps every call off it: "cannot connect" would be untrue.
type NotServingError struct {
	Addr   string
	Status string // such as NOT_SERVING
}

func (e *NotServingError) Error() string {
	return fmt.Sprintf("server at %s is up but not serving (health: %s); it may be shutting down or not ready yet: try again, or point at another replica with --addr (or GREETER_CLIENT_ADDR)", e.Addr, e.Status)
}

// UnhealthyError reports a health check that was answered, but not with
// SERVING.
type UnhealthyError struct {
	Service string
	Status  string
}

func (e *UnhealthyError) Error() string {
	if e.Service == "" {
		return "server is " + e.Status
	}
	return fmt.Sprintf("service %q is %s", e.Service, e.Status)
}

// CallError is a failed call: the method, the address and the gRPC status
// error the call returned.
type CallError struct {
	Method string
	Addr   string
	Err    error
	// ServerDeadline is set when the status is DeadlineExceeded but the
	// client's own deadline (--timeout) had not passed: the server ended
	// the call at a limit of its own, and raising --timeout would not help.
	ServerDeadline bool
}

func (e *CallError) Error() string {
	st, _ := status.FromError(e.Err)
	msg := fmt.Sprintf("%s on %s failed: %s (%s)", e.Method, e.Addr, strings.TrimSpace(st.Message()), st.Code())
	hint := hints[st.Code()]
	if st.Code() == codes.DeadlineExceeded && e.ServerDeadline {
		hint = "the server ended the call at a time limit of its own, before --timeout: raising --timeout will not help"
	}
	if hint != "" {
		msg += "; " + hint
	}
	return msg
}
func (e *CallError) Unwrap() error { return e.Err }

var hints = map[codes.Code]string{
	codes.DeadlineExceeded: "the server did not answer within --timeout; raise it (or GREETER_CLIENT_TIMEOUT)",
	codes.Unimplemented:    "this server does not offer the method; try another server or --api",
	codes.Unavailable:      "check that the server is running at --addr (or GREETER_CLIENT_ADDR)",
	codes.Unauthenticated: "the server needs a valid bearer token: set --token-file (or GREETER_CLIENT_TOKEN_FILE) or GREETER_CLIENT_TOKEN, " +
		"and check that the token has not expired and is for this server's audience",
	codes.PermissionDenied: "you are authenticated, but the server's authorization policy refuses this method to you: " +
		"check the identity your token or client certificate carries, and ask the server's operator to allow it",
}

// Code returns the exit code for err: OK for nil.
func Code(err error) int {
	var (
		uerr *UsageError
		cerr *ConnectError
		herr *UnhealthyError
		nerr *NotServingError
	)
	switch {
	case err == nil:
		return OK
	case errors.As(err, &uerr):
		return Usage
	case errors.As(err, &cerr):
		return Connect
	case errors.As(err, &herr), errors.As(err, &nerr):
		return Unhealthy
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK {
		return StatusBase + int(st.Code())
	}
	return Error
}
