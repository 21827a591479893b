// Package test holds greeter-server's system tests: each one builds the real
// greeter-server binary, starts it on a loopback port, and talks to it from
// outside the process, the way a misbehaving or hostile peer would.
package test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/testproc"
)

// serverBin is the greeter-server binary built once by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	// -short is the inner loop's unit tests (go test -short work): these
	// build and run the real binaries, so they wait for the full run.
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping the system tests, which build and run the real programs: -short")
		os.Exit(0)
	}
	// The binary is built here, outside the test binary, where go test's
	// result cache cannot see it: run these tests with -count=1 (as
	// scripts/test.sh does), or a change to greeter-server alone may find
	// an old result cached.
	dir, err := os.MkdirTemp("", "greeter-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "greeter-server")
	args := []string{"build", "-o", serverBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/greeter-go/greeter/greeter-server/cmd/greeter-server")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build greeter-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running greeter-server process.
type server struct{ *testproc.Server }

// startServer runs greeter-server with args (plus a loopback address with
// a free port for each listener that args do not set) and waits until it
// listens.
// The process is killed when the test ends if it is still running.
func startServer(t *testing.T, args ...string) server {
	t.Helper()
	joined := " " + strings.Join(args, " ")
	if !strings.Contains(joined, " --addr") {
		args = append([]string{"--addr", "127.0.0.1:0"}, args...)
	}
	// trim:http begin
	if !strings.Contains(joined, " --http-addr") {
		args = append([]string{"--http-addr", "127.0.0.1:0"}, args...)
	}
	// trim:http end
	cmd := exec.Command(serverBin, args...)
	cmd.Env = testproc.EnvironWithoutGreeter()
	return server{testproc.Start(t, cmd)}
}

// checkServing fails the test unless the server still answers SayHello on a
// fresh connection and its process is still running.
func (s server) checkServing(t *testing.T) {
	t.Helper()
	select {
	case <-s.Exited():
		t.Fatalf("greeter-server exited:\n%s", s.Log())
	default:
	}
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "still here"})
	if err != nil || resp.GetMessage() != "Hello, still here!" {
		t.Fatalf("SayHello(%q) = %q, %v, want %q, nil; server log:\n%s", "still here", resp.GetMessage(), err, "Hello, still here!", s.Log())
	}
}

// runClient runs the greeter-client binary with args and checks that it
// succeeds and prints want.
func runClient(client, want string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, client, args...)
	cmd.Env = testproc.EnvironWithoutGreeter()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("greeter-client %s: %w; stdout %q, stderr:\n%s", strings.Join(args, " "), err, out, &stderr)
	}
	if string(out) != want {
		return fmt.Errorf("greeter-client %s printed %q, want %q; stderr:\n%s", strings.Join(args, " "), out, want, &stderr)
	}
	return nil
}

// buildClient builds the greeter-client binary from this tree (its own
// module, so GOWORK=off builds it too) and returns its path.
func buildClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "greeter-client")
	out, err := exec.Command("go", "build", "-C", "../../greeter-client", "-o", bin, "./cmd/greeter-client").CombinedOutput()
	if err != nil {
		t.Fatalf("build greeter-client: %v\n%s", err, out)
	}
	return bin
}
