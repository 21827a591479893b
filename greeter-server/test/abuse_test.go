package test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/greeter-go/greeter/greeter-server/internal/testproc"
)

var floodMemory = flag.Int("flood.mib", 0, "the most a flood may grow greeter-server's RSS, in MiB (default: 64, or 256 under the race detector)")

// floodLimitKiB is how much one HTTP/2 flood may grow the server's memory.
// The race detector's shadow memory multiplies what the server holds.
func floodLimitKiB() int {
	switch {
	case *floodMemory > 0:
		return *floodMemory << 10
	case raceEnabled:
		return 256 << 10
	default:
		return 64 << 10
	}
}

// tinyWindow dials with the smallest receive buffer the kernel allows, set
// before the handshake so that the window the client advertises stays
// small: what the server sends to a client that does not read then fills
// the socket at once, and the server's own queues are what is left to
// absorb a flood.
var tinyWindow = &net.Dialer{
	Timeout: 5 * time.Second,
	Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
		}); cerr != nil {
			return cerr
		}
		return err
	},
}

// flood runs attack against a fresh server, over conns connections that it
// opens (each sent the client preface and SETTINGS), with the connections
// still open it checks that the server serves other clients and how much
// its memory grew, and returns what attack returned for the log.
func flood(t *testing.T, conns int, attack func(t *testing.T, c []*rawConn) string) {
	t.Helper()
	if v, ok := os.LookupEnv("GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT"); ok {
		t.Logf("GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT=%s is set here and overrides the server's own limit", v)
	}
	srv := startServer(t)
	srv.checkServing(t)
	before := rssKiB(t, srv.Cmd.Process.Pid)
	var cs []*rawConn
	for range conns {
		cs = append(cs, dialRawWith(t, srv.Addr, tinyWindow))
	}
	what := attack(t, cs)
	srv.checkServing(t)
	after := rssKiB(t, srv.Cmd.Process.Pid)
	t.Logf("%s: server RSS %d KiB -> %d KiB (+%.1f MiB; race detector %v)", what, before, after, float64(after-before)/1024, raceEnabled)
	if grew := after - before; grew > floodLimitKiB() {
		t.Errorf("%s grew the server's memory by %d KiB, want at most %d KiB", what, grew, floodLimitKiB())
	}
}

// writeUntilBlocked calls write until it fails: the server has stopped
// reading (the write times out), or has closed the connection. It returns
// how many writes went through and the error that stopped them.
func writeUntilBlocked(c *rawConn, max int, write func(i int) error) (int, error) {
	for i := range max {
		_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if err := write(i); err != nil {
			return i, err
		}
	}
	return max, nil
}

// goAway reads until the server's GOAWAY or the end of the connection.
func goAway(c *rawConn) (*http2.GoAwayFrame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			return g, nil
		}
	}
}

// TestHTTP2Abuse attacks fresh servers the way a hostile client would over
// raw HTTP/2; after each, while the attacking connections are still open,
// the server must serve other clients, and its memory must not have grown
// by more than floodLimitKiB.
func TestHTTP2Abuse(t *testing.T) {
	t.Parallel()
	t.Run("SETTINGS flood, never reading", func(t *testing.T) {
		t.Parallel()
		// Each frame carries 2,700 settings; the server must acknowledge
		// every frame, and those acknowledgements queue up while the
		// client does not read them.
		settings := make([]http2.Setting, 2700)
		for i := range settings {
			settings[i] = http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: uint32(i)}
		}
		flood(t, 1, func(t *testing.T, c []*rawConn) string {
			// First a million empty SETTINGS frames (9 MB), whose 9 MB of
			// acknowledgements fill the socket buffers between the server
			// and this client, which does not read; then the big ones,
			// whose acknowledgements can only queue inside the server.
			empty := bytes.Repeat([]byte{0, 0, 0, byte(http2.FrameSettings), 0, 0, 0, 0, 0}, 1<<20)
			small, err := writeUntilBlocked(c[0], len(empty)/(64<<10), func(i int) error {
				_, err := c[0].conn.Write(empty[i*(64<<10) : (i+1)*(64<<10)])
				return err
			})
			big := 0
			if err == nil {
				big, err = writeUntilBlocked(c[0], 20000, func(int) error { return c[0].fr.WriteSettings(settings...) })
			}
			return fmt.Sprintf("SETTINGS flood: %d KiB of empty SETTINGS frames, then %d frames of 2700 settings (%s)", small*64, big, errString(err))
		})
	})
	t.Run("streams opened and reset, never reading", func(t *testing.T) {
		t.Parallel()
		flood(t, 1, func(t *testing.T, c []*rawConn) string {
			rc := c[0]
			n, err := writeUntilBlocked(rc, 200000, func(int) error {
				id := rc.nextID
				rc.nextID += 2
				rc.hbuf.Reset()
				for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", sayHello}, {":authority", "localhost"}, {"content-type", "application/grpc"}} {
					_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
				}
				return errors.Join(
					rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.hbuf.Bytes(), EndHeaders: true}),
					rc.fr.WriteRSTStream(id, http2.ErrCodeCancel))
			})
			return "reset flood: " + strconv.Itoa(n) + " streams opened and reset (" + errString(err) + ")"
		})
	})
	t.Run("PING flood", func(t *testing.T) {
		t.Parallel()
		flood(t, 1, func(t *testing.T, c []*rawConn) string {
			n, _ := writeUntilBlocked(c[0], 10000, func(int) error { return c[0].fr.WritePing(false, [8]byte{1}) })
			g, err := goAway(c[0])
			if err != nil {
				t.Fatalf("PING flood: %v, want GOAWAY", err)
			}
			if g.ErrCode != http2.ErrCodeEnhanceYourCalm || string(g.DebugData()) != "too_many_pings" {
				t.Errorf("PING flood: GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", g.ErrCode, g.DebugData())
			}
			return "PING flood: " + strconv.Itoa(n) + " pings written, GOAWAY " + string(g.DebugData())
		})
	})
	t.Run("CONTINUATION flood", func(t *testing.T) {
		t.Parallel()
		flood(t, 1, func(t *testing.T, c []*rawConn) string {
			rc := c[0]
			rc.hbuf.Reset()
			for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", sayHello}, {":authority", "localhost"}, {"content-type", "application/grpc"}} {
				_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
			}
			if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.hbuf.Bytes()}); err != nil {
				t.Fatal(err)
			}
			var block bytes.Buffer
			enc := hpack.NewEncoder(&block)
			_ = enc.WriteField(hpack.HeaderField{Name: "x-junk", Value: strings.Repeat("j", 1000), Sensitive: true})
			// 16 MiB of headers at most; the server must give up long before.
			n, err := writeUntilBlocked(rc, (16<<20)/block.Len(), func(int) error { return rc.fr.WriteContinuation(1, false, block.Bytes()) })
			if err == nil {
				t.Errorf("the server read %d KiB of CONTINUATION frames for one request, want it to close the connection", n*block.Len()>>10)
			}
			return "CONTINUATION flood: closed after " + strconv.Itoa(n*block.Len()>>10) + " KiB of headers (" + errString(err) + ")"
		})
	})
	t.Run("streams that never read their responses", func(t *testing.T) {
		t.Parallel()
		flood(t, 5, func(t *testing.T, c []*rawConn) string {
			// Each connection opens 100 streams of 100 greetings each and
			// never reads: every handler ends up blocked on flow control.
			for _, rc := range c {
				for range 100 {
					id := rc.nextID
					rc.nextID += 2
					rc.hbuf.Reset()
					for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/greeter.v1.GreeterService/SayHelloStream"}, {":authority", "localhost"}, {"content-type", "application/grpc"}} {
						_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
					}
					msg := append(nameField([]byte("x")), 0x10, 100) // name "x", count 100
					body := frame(false, uint32(len(msg)), msg)
					if err := errors.Join(
						rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.hbuf.Bytes(), EndHeaders: true}),
						rc.fr.WriteData(id, true, body)); err != nil {
						t.Fatal(err)
					}
				}
			}
			time.Sleep(time.Second)
			return "500 streams of 100 greetings on 5 connections that never read"
		})
	})
	t.Run("connections that send headers and then nothing", func(t *testing.T) {
		t.Parallel()
		flood(t, 500, func(t *testing.T, c []*rawConn) string {
			for _, rc := range c {
				rc.hbuf.Reset()
				for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", sayHello}, {":authority", "localhost"}, {"content-type", "application/grpc"}} {
					_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
				}
				if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.hbuf.Bytes(), EndHeaders: true}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(time.Second)
			return "500 connections with a request's headers and no body"
		})
	})
}

func errString(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &ne) && ne.Timeout():
		return "the server stopped reading"
	default:
		return err.Error()
	}
}

// TestGRPCLimitsSetBeforeGRPC checks that grpc-go reads the
// environment-only limits the binary sets (internal/grpcenv), whatever the
// module path. The runtime's initialization trace shows the order: under a
// path that sorts before grpc-go's envconfig package (this repository's
// github.com/...), grpcenv must initialize first, once; under one that sorts
// after (a renamed copy, such as zoo.example/...), the binary must start
// itself again, so the trace shows envconfig twice, and the running
// server's environment from its exec on (/proc/PID/environ) must hold the
// variable, since that is what the second envconfig read.
func TestGRPCLimitsSetBeforeGRPC(t *testing.T) {
	t.Parallel()
	const variable = "GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT"
	if v, set := os.LookupEnv(variable); set {
		t.Skipf("this environment sets %s=%s, which the binary leaves alone", variable, v)
	}
	cmd := exec.Command(serverBin, "--version")
	cmd.Env = append(testproc.EnvironWithoutGreeter(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("greeter-server --version: %v: %s", err, out)
	}
	trace := string(out)
	// This package's path names the module the binary was built from.
	module := strings.TrimSuffix(reflect.TypeFor[server]().PkgPath(), "/greeter-server/test")
	grpcenvPath := module + "/greeter-server/internal/grpcenv"
	const envconfigPath = "google.golang.org/grpc/internal/envconfig"
	grpcenv := strings.Index(trace, "init "+grpcenvPath+" ")
	envconfig := strings.Count(trace, "init "+envconfigPath+" ")
	first := strings.Index(trace, "init "+envconfigPath+" ")
	switch {
	case grpcenvPath < envconfigPath:
		if grpcenv < 0 || envconfig != 1 || grpcenv > first {
			t.Errorf("greeter-server (%s sorts before grpc-go) initializes internal/grpcenv at offset %d and grpc-go's envconfig %d time(s), first at %d, want grpcenv first and one process:\n%s",
				module, grpcenv, envconfig, first, trace)
		}
	default:
		if envconfig != 2 {
			t.Fatalf("greeter-server (%s sorts after grpc-go) initialized grpc-go's envconfig %d time(s), want 2: it must start itself again with %s set:\n%s",
				module, envconfig, variable, trace)
		}
		environ := fmt.Sprintf("/proc/%d/environ", startServer(t).Cmd.Process.Pid)
		b, err := os.ReadFile(environ)
		if err != nil {
			t.Skipf("the restart happened, but this system cannot show a process's environment (%v)", err)
		}
		if !slices.Contains(strings.Split(string(b), "\x00"), variable+"=100") {
			t.Errorf("greeter-server (%s sorts after grpc-go) runs without %s=100 in its environment: grpc-go read its default", module, variable)
		}
	}
}
