package serve

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// acceptError is the error Accept returns when accept(2) fails with errno.
func acceptError(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", errno)}
}

// flakyListener is a loopback listener whose Accept fails with the errors
// fail was given, one per call, before it accepts again, as a server out of
// file descriptors (EMFILE) or kernel buffers (ENOBUFS) sees it.
type flakyListener struct {
	net.Listener
	mu      sync.Mutex
	errs    []error
	forever error // returned once errs are used up, if set
	failed  int   // errors returned so far
	closed  bool
	// afterClose counts the Accept calls begun after Close.
	afterClose int
}

func newFlakyListener(t *testing.T) *flakyListener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	return &flakyListener{Listener: lis}
}

// fail makes the next Accept calls return errs, in turn.
func (l *flakyListener) fail(errs ...error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, errs...)
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.closed {
		l.afterClose++
	} else if len(l.errs) > 0 || l.forever != nil {
		err := l.forever
		if len(l.errs) > 0 {
			err, l.errs = l.errs[0], l.errs[1:]
		}
		l.failed++
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *flakyListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.Listener.Close()
}

// counts returns how many errors Accept has returned, and how many Accept
// calls began after Close.
func (l *flakyListener) counts() (failed, afterClose int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed, l.afterClose
}

// listenerKind is one of the server's listeners: how it is served, and a
// call on a new connection to it.
type listenerKind struct {
	name  string
	serve func(*Server, net.Listener) error
	call  func(t *testing.T, addr string) error
}

var listenerKinds = []listenerKind{
	{name: "grpc", serve: (*Server).Serve, call: callGRPC},
	{name: "http", serve: (*Server).ServeWeb, call: callConnect}, // trim:http
}

// callGRPC calls SayHello on a new gRPC connection to addr.
func callGRPC(t *testing.T, addr string) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ann"})
	if err == nil && resp.GetMessage() != "Hello, Ann!" {
		t.Errorf("SayHello(%q) = %q, want %q", "Ann", resp.GetMessage(), "Hello, Ann!")
	}
	return err
}

// trim:http begin

// callConnect calls SayHello with Connect JSON on a new HTTP/1.1 connection
// to addr.
func callConnect(t *testing.T, addr string) error {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Post("http://"+addr+"/greeter.v1.GreeterService/SayHello", "application/json", strings.NewReader(`{"name":"Ann"}`))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Hello, Ann!")) {
		t.Errorf("SayHello(%q) = %d %s, want 200 with %q", "Ann", resp.StatusCode, body, "Hello, Ann!")
	}
	return nil
}

// trim:http end

// serveFlaky serves kind of a new server on lis, through the listener Run
// wraps it in, logging into log; the server is shut down when the test
// ends. It returns the capped listener, and a channel that is closed when
// Serve has returned.
func serveFlaky(t *testing.T, kind listenerKind, lis *flakyListener, log *testlog.Buffer) (*capListener, <-chan struct{}) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(log, nil))
	srv, err := New(Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	capped := newCapListener(lis, kind.name, newConnLimit(MaxConnections, logger), KeepaliveTimeout, logger)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := kind.serve(srv, capped); err != nil {
			t.Logf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Shutdown(5*time.Second, 0)
		<-served
	})
	return capped, served
}

// TestAcceptErrorsAreWaitedOut makes Accept fail on each listener, as it
// does when the process is out of file descriptors (EMFILE, which grpc-go
// and net/http retry themselves) or the kernel out of buffers (ENOBUFS,
// which they do not: it would end serving), twice in a row, with a call
// between the two: the server must serve on after each, and log each
// streak of errors once when it starts and once when it ends.
func TestAcceptErrorsAreWaitedOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		desc   string
		errnos []syscall.Errno
	}{
		{"EMFILE", []syscall.Errno{syscall.EMFILE, syscall.EMFILE, syscall.EMFILE}},
		{"ENOBUFS", []syscall.Errno{syscall.ENOBUFS}},
		{"ENOBUFS and EMFILE", []syscall.Errno{syscall.ENOBUFS, syscall.EMFILE, syscall.ENOBUFS}},
	}
	for _, kind := range listenerKinds {
		for _, tt := range tests {
			t.Run(kind.name+" "+tt.desc, func(t *testing.T) {
				t.Parallel()
				var errs []error
				for _, errno := range tt.errnos {
					errs = append(errs, acceptError(errno))
				}
				lis := newFlakyListener(t)
				var log testlog.Buffer
				lis.fail(errs...)
				_, served := serveFlaky(t, kind, lis, &log)
				addr := lis.Addr().String()
				for i := range 3 {
					if err := kind.call(t, addr); err != nil {
						select {
						case <-served:
							t.Fatalf("call #%d after %d accept errors = %v: the server stopped serving; log:\n%s", i+1, len(errs), err, log.String())
						default:
						}
						t.Fatalf("call #%d after %d accept errors = %v, want OK; log:\n%s", i+1, len(errs), err, log.String())
					}
					if i == 0 {
						// A second streak: it begins before the next
						// connection is accepted or right after, if the
						// server waits in Accept already; the third call
						// is accepted after it either way.
						lis.fail(errs...)
					}
				}
				if failed, _ := lis.counts(); failed != 2*len(errs) {
					t.Fatalf("Accept failed %d times, want %d", failed, 2*len(errs))
				}
				logged := log.String()
				for _, want := range []struct {
					line  string
					parts []string
				}{
					{"accepting connections failed", []string{"level=WARN", "listener=" + kind.name, tt.errnos[0].Error()}},
					{"accepting connections again", []string{"level=INFO", "listener=" + kind.name, "failed_accepts=" + strconv.Itoa(len(errs))}},
				} {
					var lines []string
					for line := range strings.Lines(logged) {
						if strings.Contains(line, want.line) {
							lines = append(lines, line)
						}
					}
					if len(lines) != 2 {
						t.Errorf("the server logged %q %d times for 2 streaks of %d accept errors, want once per streak; log:\n%s", want.line, len(lines), len(errs), logged)
						continue
					}
					for _, line := range lines {
						for _, p := range want.parts {
							if !strings.Contains(line, p) {
								t.Errorf("log line %q does not say %q", line, p)
							}
						}
					}
				}
			})
		}
	}
}

// TestAcceptCloseWhileBackingOff closes a listener whose Accept keeps
// failing, while the server waits before trying again: serving must end
// without that wait running out and Accept being tried again.
func TestAcceptCloseWhileBackingOff(t *testing.T) {
	t.Parallel()
	for _, kind := range listenerKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			lis := newFlakyListener(t)
			lis.forever = acceptError(syscall.EMFILE)
			var log testlog.Buffer
			capped, served := serveFlaky(t, kind, lis, &log)
			// After 9 errors the server waits acceptBackoffMax before
			// trying again; close it during that wait.
			const errs = 9
			deadline := time.Now().Add(20 * time.Second)
			for failed, _ := lis.counts(); failed < errs; failed, _ = lis.counts() {
				if time.Now().After(deadline) {
					t.Fatalf("Accept failed %d times in 20s, want %d", failed, errs)
				}
				time.Sleep(5 * time.Millisecond)
			}
			capped.Close()
			select {
			case <-served:
			case <-time.After(10 * time.Second):
				t.Fatal("serving went on for 10s after its listener was closed")
			}
			if _, after := lis.counts(); after != 0 {
				t.Errorf("Accept was called %d times after the listener was closed, want serving to end during its wait", after)
			}
			if n := strings.Count(log.String(), "accepting connections failed"); n != 1 {
				t.Errorf("the server logged %d times that accepting failed, for one streak, want once; log:\n%s", n, log.String())
			}
		})
	}
}
