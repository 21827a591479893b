package test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// runClient runs the greeter-client binary with args and stdin, and returns
// its stdout, stderr and exit code.
func runClient(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(clientBin, args...)
	cmd.Env = environWithoutGreeter()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatalf("greeter-client %v: %v", args, err)
	return "", "", 0
}

// TestNotServing runs the greeter-client binary, every command, against a
// gRPC server that accepts connections and answers calls but whose health
// service reports NOT_SERVING (grpc-go's health.Server, in this process):
// each must exit 4 and say that the server is up but not serving, not that
// it cannot connect. greeter-server itself cannot be brought to this state
// from outside: on SIGTERM it reports NOT_SERVING and closes its listener at
// once (see TestDrainingServer).
func TestNotServing(t *testing.T) {
	t.Parallel()
	addr := greetertest.StartNotServing(t)
	wantErr := "greeter-client: server at " + addr + " is up but not serving (health: NOT_SERVING); it may be shutting down or not ready yet"
	for _, tt := range []struct {
		args           []string
		stdin          string
		wantOut, wantE string
	}{
		{args: []string{"hello", "--name", "Ann"}},
		{args: []string{"hello-again", "--name", "Ann"}},
		{args: []string{"hello-stream", "--name", "Ann"}},
		{args: []string{"hello-group", "--name", "Ann"}},
		{args: []string{"chat"}, stdin: "Ann\n"},
		{args: []string{"bench", "--total", "10", "--connections", "2"}},
		{args: []string{"health"}, wantOut: "NOT_SERVING\n", wantE: "greeter-client: server is NOT_SERVING"},
	} {
		t.Run(tt.args[0], func(t *testing.T) {
			t.Parallel()
			if tt.wantE == "" {
				tt.wantE = wantErr
			}
			out, errOut, code := runClient(t, tt.stdin, append([]string{"--addr", addr}, tt.args...)...)
			if code != 4 || out != tt.wantOut || !strings.Contains(errOut, tt.wantE) {
				t.Errorf("greeter-client %v: exit code %d, stdout %q, stderr %q; want 4, %q and %q", tt.args, code, out, errOut, tt.wantOut, tt.wantE)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that a process writes while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until check is true, or fails the test after within.
func waitFor(t *testing.T, within time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDrainingServer checks what a client sees of greeter-server while it
// drains after SIGTERM, with a stream held open and a long --stream-grace.
// The server reports NOT_SERVING, but it has also closed its listener: a
// new connection is refused. So greeter-client rightly says it cannot
// connect (exit 3), and does not claim the server is up but not serving,
// while the stream opened before SIGTERM goes on being answered.
func TestDrainingServer(t *testing.T) {
	t.Parallel()
	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	serverLog := &lockedBuffer{}
	// The HTTP listener on any free port: its default, localhost:8080, // trim:http
	// would collide between parallel tests. // trim:http
	server := exec.Command(serverBin, "--addr", addr,
		"--http-addr", "127.0.0.1:0", // trim:http
		"--stream-grace", "20s", "--shutdown-timeout", "25s")
	server.Env = environWithoutGreeter()
	server.Stderr = serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	serverDone := make(chan error, 1)
	go func() { serverDone <- server.Wait() }()
	t.Cleanup(func() {
		_ = server.Process.Kill()
		if err := <-serverDone; err != nil {
			t.Logf("greeter-server: %v", err) // "signal: killed" if the test ended first
		}
	})
	waitFor(t, 20*time.Second, "greeter-server listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	// A chat held open: greetings come back as names are sent.
	chat := exec.Command(clientBin, "--addr", addr, "--timeout", "60s", "chat")
	chat.Env = environWithoutGreeter()
	stdin, err := chat.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := chat.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	chatErr := &lockedBuffer{}
	chat.Stderr = chatErr
	if err := chat.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chat.Process.Kill() })
	greetings := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			greetings <- sc.Text()
		}
		close(greetings)
	}()
	greet := func(name string) {
		t.Helper()
		if _, err := io.WriteString(stdin, name+"\n"); err != nil {
			t.Fatalf("chat: send %s: %v", name, err)
		}
		select {
		case got := <-greetings:
			if want := "Hello, " + name + "!"; got != want {
				t.Fatalf("chat: got %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("chat: no greeting for %s within 10s; stderr %q", name, chatErr)
		}
	}
	greet("Ann")

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "greeter-server logs that it is shutting down", func() bool {
		return strings.Contains(serverLog.String(), "greeter-server shutting down")
	})

	out, errOut, code := runClient(t, "", "--addr", addr, "--connect-timeout", "3s", "hello", "--name", "Ann")
	if code != 3 || out != "" || !strings.Contains(errOut, "cannot connect to "+addr) || !strings.Contains(errOut, "connection refused") {
		t.Errorf("hello while greeter-server drains: exit code %d, stdout %q, stderr %q; want 3 and a refused connection", code, out, errOut)
	}
	// The server is still there, draining: the open chat is still answered.
	select {
	case err := <-serverDone:
		t.Fatalf("greeter-server exited during the drain: %v: %s", err, serverLog)
	default:
	}
	greet("Bob")

	stdin.Close()
	if err := chat.Wait(); err != nil {
		t.Errorf("chat after stdin ended: %v; stderr %q", err, chatErr)
	}
	select {
	case err := <-serverDone:
		serverDone <- err // for the cleanup
		if err != nil {
			t.Errorf("greeter-server exited with %v after the drain: %s", err, serverLog)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("greeter-server did not exit within 10s of its last stream ending: %s", serverLog)
	}
	t.Logf("while greeter-server drained (health NOT_SERVING, one stream open), a new hello got: exit %d, %s", code, strings.TrimSpace(errOut))
}
