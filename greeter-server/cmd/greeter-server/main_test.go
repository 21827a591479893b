package main_test

import (
	"context"
	"errors"
	"github.com/greeter-go/greeter/greeter-server/internal/testproc"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// build compiles greeter-server into a temp dir and returns its path.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "greeter-server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(build(t), "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "greeter-server ") || !strings.Contains(string(out), "(greeter-api ") || strings.Contains(string(out), "unknown") {
		t.Errorf("greeter-server --version = %q, %v, want %q", out, err, "greeter-server VERSION (greeter-api VERSION)")
	}
}

// TestStampedVersion checks the link-time version that scripts/image.sh sets
// reaches --version and the start line.
func TestStampedVersion(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "greeter-server")
	const v = "v9.8.7-test.1"
	out, err := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/greeter-go/greeter/greeter-server/internal/version.stamped="+v, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "greeter-server "+v+" (greeter-api ") {
		t.Errorf("stamped greeter-server --version = %q, %v, want it to start with %q", out, err, "greeter-server "+v+" (greeter-api ")
	}
}

// TestSignalShutdown runs the real binary, sends it a signal while unary
// calls and streams are in flight, and checks that none is lost and it
// exits 0.
func TestSignalShutdown(t *testing.T) {
	t.Parallel()
	bin := build(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0",
				"--http-addr", "127.0.0.1:0", // trim:http
				"--stream-grace", "1s", "--shutdown-timeout", "5s")
			cmd.Env = append(testproc.EnvironWithoutGreeter(), "GREETER_SERVER_LOG_LEVEL=info")
			srv := testproc.Start(t, cmd)
			addr := srv.Addr
			if log := srv.Log(); !strings.Contains(log, "tls=off") || !strings.Contains(log, "version=") {
				t.Errorf("start line %q does not say tls=off and version=", log)
			}

			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			v1 := greeterv1.NewGreeterServiceClient(conn)

			stream, err := v1.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "you", Count: 5, Interval: durationpb.New(100 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatalf("SayHelloStream first Recv: %v", err)
			}
			chat, err := v1.SayHelloChat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Ann"}); err != nil {
				t.Fatal(err)
			}
			if _, err := chat.Recv(); err != nil {
				t.Fatalf("SayHelloChat Recv: %v", err)
			}

			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok, refused int
			var lost []error
			// Each caller keeps calling until the server refuses it, so calls
			// are in flight while the server shuts down.
			for range 4 {
				wg.Go(func() {
					for code := codes.OK; code != codes.Unavailable && ctx.Err() == nil; {
						_, err := v1.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "you"})
						code = status.Code(err)
						mu.Lock()
						switch code {
						case codes.OK:
							ok++
						case codes.Unavailable:
							refused++
						default:
							lost = append(lost, err)
						}
						mu.Unlock()
					}
				})
			}
			time.Sleep(20 * time.Millisecond)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}

			got := 1
			for {
				_, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("SayHelloStream after %v: Recv #%d = %v, want all 5 greetings", sig, got+1, err)
					break
				}
				got++
			}
			if got != 5 {
				t.Errorf("SayHelloStream after %v got %d greetings, want 5", sig, got)
			}
			if _, err := chat.Recv(); status.Code(err) != codes.Unavailable {
				t.Errorf("open SayHelloChat after %v ended with %v, want Unavailable", sig, err)
			}
			wg.Wait()
			t.Logf("unary calls racing %v: %d OK, %d refused", sig, ok, refused)
			if len(lost) > 0 || ok == 0 {
				t.Errorf("unary calls during shutdown: %d OK, %d refused, lost %v; want some OK and none lost", ok, refused, lost)
			}
			if err := srv.Wait(); err != nil {
				t.Errorf("greeter-server after %v exited with %v, want exit code 0\n%s", sig, err, srv.Log())
			} else if !strings.Contains(srv.Log(), "greeter-server stopped") {
				t.Errorf("greeter-server log after %v does not end with a stop line:\n%s", sig, srv.Log())
			}
		})
	}
}

// TestSecondSignalStopsAtOnce runs the real binary with a stream that keeps
// its graceful shutdown waiting, and checks that a second SIGTERM ends the
// process at once, with exit code 143, instead of after --stream-grace.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, build(t), "--addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", // trim:http
		"--stream-grace", "5m", "--shutdown-timeout", "10m")
	cmd.Env = append(testproc.EnvironWithoutGreeter(), "GREETER_SERVER_LOG_LEVEL=info")
	srv := testproc.Start(t, cmd)
	addr := srv.Addr

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chat, err := greeterv1.NewGreeterServiceClient(conn).SayHelloChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatalf("SayHelloChat Recv: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.WaitFor(t, regexp.MustCompile(`greeter-server shutting down`), 30*time.Second)
	// The open chat holds the graceful shutdown for --stream-grace (5m): the
	// stream still works after the first signal.
	if err := chat.Send(&greeterv1.SayHelloChatRequest{Name: "Bob"}); err != nil {
		t.Fatalf("chat Send after the first SIGTERM: %v", err)
	}
	if resp, err := chat.Recv(); err != nil || resp.GetMessage() != "Hello, Bob!" {
		t.Fatalf("chat after the first SIGTERM = %q, %v, want %q: the first signal must drain, not stop", resp.GetMessage(), err, "Hello, Bob!")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = srv.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("greeter-server after a second SIGTERM: Wait = %v, want exit code %d (a context timeout kills with SIGKILL)", err, 128+int(syscall.SIGTERM))
	}
	if _, err := chat.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("open chat after the second SIGTERM ended with %v, want Unavailable (connection lost)", err)
	}
}
