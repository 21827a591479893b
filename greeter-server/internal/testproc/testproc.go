// Package testproc runs a greeter-server binary for the system tests and
// reads its log: the one place in this module's tests that knows the format
// of the start line ("greeter-server listening ... addr=ADDR"). Only tests
// import it.
package testproc

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	listening = regexp.MustCompile(`greeter-server listening.* addr=(\S+)(.*)`)
	httpAddr  = regexp.MustCompile(` http_addr=(\S+)`) // trim:http
)

// Server is a greeter-server process started by Start.
type Server struct {
	// Addr is the gRPC listener's address from the start line.
	Addr string
	// trim:http begin
	// HTTPAddr is the HTTP listener's address from the start line, or ""
	// if it is off.
	HTTPAddr string
	// trim:http end
	// Cmd is the running command.
	Cmd *exec.Cmd

	mu      sync.Mutex
	log     bytes.Buffer
	changed chan struct{} // closed and replaced whenever the log grows
	exited  chan struct{}
	err     error // Cmd.Wait's, once exited is closed
}

// Start starts cmd, a greeter-server command its caller has set up (binary,
// arguments, environment; its Stderr must be nil), and waits up to 30 s for
// its start line. The process is killed when the test ends if it is still
// running.
func Start(t testing.TB, cmd *exec.Cmd) *Server {
	t.Helper()
	s := &Server{Cmd: cmd, changed: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = (*logWriter)(s)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start greeter-server: %v", err)
	}
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	m := s.WaitFor(t, listening, 30*time.Second)
	s.Addr = strings.Trim(m[1], `"`)
	// trim:http begin
	if h := httpAddr.FindStringSubmatch(m[2]); h != nil && h[1] != "off" {
		s.HTTPAddr = strings.Trim(h[1], `"`)
	}
	// trim:http end
	return s
}

// Log returns what the server has written to stderr so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Exited is closed when the process has ended.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Wait waits for the process to end and returns what Cmd.Wait returned;
// the log is complete then.
func (s *Server) Wait() error {
	<-s.exited
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// WaitFor waits up to within for a log line that matches re and returns its
// submatches, failing the test if the process ends or the time passes first.
func (s *Server) WaitFor(t testing.TB, re *regexp.Regexp, within time.Duration) []string {
	t.Helper()
	deadline := time.After(within)
	for {
		s.mu.Lock()
		for _, line := range strings.Split(s.log.String(), "\n") {
			if m := re.FindStringSubmatch(line); m != nil {
				s.mu.Unlock()
				return m
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-s.exited:
			if m := re.FindStringSubmatch(s.Log()); m != nil {
				return m
			}
			t.Fatalf("greeter-server exited without a log line matching %q:\n%s", re, s.Log())
		case <-deadline:
			t.Fatalf("greeter-server wrote no log line matching %q within %v:\n%s", re, within, s.Log())
		}
	}
}

// EnvironWithoutGreeter returns this process's environment without the
// GREETER_* variables, so a developer's settings (which the server reads as
// flag defaults) cannot change the server under test.
func EnvironWithoutGreeter() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GREETER_") {
			env = append(env, kv)
		}
	}
	return env
}

// logWriter is Server as the process's stderr.
type logWriter Server

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return len(p), nil
}
