package test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
)

var (
	keepaliveLong = flag.Bool("keepalive.long", false,
		"run TestKeepaliveDefaultPolicy: connections idle and streams quiet for -keepalive.quiet against servers with gRPC's default ping policy (scripts/test-keepalive.sh)")
	keepaliveQuiet = flag.Duration("keepalive.quiet", time.Minute,
		"how long TestKeepaliveDefaultPolicy keeps connections idle and streams quiet; the old settings earn their GOAWAY after about 40s")
	keepaliveGoServer = flag.String("keepalive.grpc-go-server", "",
		"grpc-go's examples/helloworld/greeter_server binary; without it an in-process grpc-go server with the same (default) settings stands in")
	keepalivePython = flag.String("keepalive.python", "",
		"a python3 with grpcio and grpc_tools, to run scripts/peers/helloworld_server.py; without it the Python server is skipped")
)

// oldKeepalive is what greeter-client used to send: pings every 10 s, also
// with no stream open. The test runs it beside the current settings to show
// that it sees what it looks for.
var oldKeepalive = keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 2 * time.Second, PermitWithoutStream: true}

// TestKeepaliveDefaultPolicy holds greeter-client connections, through a
// proxy that reads the HTTP/2 frames going by, against servers that keep
// gRPC's default keepalive enforcement (a ping at most every 5 minutes
// while a stream is open, none while none is; the third ping too many earns
// GOAWAY "too_many_pings", which closes the connection and every stream on
// it): grpc-go's example greeter_server, a grpc-go server that also serves
// grpc.health.v1 (so the client's health-check Watch is a quiet stream on
// every connection), and the Python helloworld server (gRPC C-core).
//
// On each, one connection stays idle after a call and one holds a quiet
// stream open, both for -keepalive.quiet (a minute), and must end with no
// GOAWAY, the connection they started with, and a call (or the stream's
// next message) that still succeeds. The old settings (oldKeepalive) run
// beside them and must earn the GOAWAY, or the test could not see it.
//
// A last pair scales the policy down 30 times, to the fastest pings grpc-go
// allows a client: pings every 10 s against a server that allows one every
// 10 s, as greeter-client's 5 minutes against the default 5 minutes. It
// shows that pinging at exactly the server's minimum earns no strike.
//
// Run by scripts/test-keepalive.sh; it takes -keepalive.quiet plus a few
// seconds.
func TestKeepaliveDefaultPolicy(t *testing.T) {
	if !*keepaliveLong {
		t.Skip("SKIP: holds connections for a minute; scripts/test-keepalive.sh runs it (go test -keepalive.long)")
	}
	quiet := *keepaliveQuiet
	type server struct {
		name string
		addr string
		// bidi: the server implements SayHelloBidiStream, and the quiet
		// stream is a chat that has had an answer (the server has sent
		// headers and a message: grpc-go no longer retries it, so a GOAWAY
		// fails it); otherwise it is a SayHello whose request is not sent
		// yet.
		bidi bool
	}
	var servers []server
	if *keepaliveGoServer != "" {
		servers = append(servers, server{name: "grpc-go examples greeter_server", addr: startGoExampleServer(t, *keepaliveGoServer)})
	} else {
		servers = append(servers, server{name: "grpc-go server, default policy", addr: startDefaultPolicyServer(t, false), bidi: true})
	}
	servers = append(servers, server{name: "grpc-go server with health service, default policy", addr: startDefaultPolicyServer(t, true), bidi: true})
	if *keepalivePython != "" {
		servers = append(servers, server{name: "Python helloworld_server.py", addr: startPythonServer(t, *keepalivePython)})
	}

	// Every case holds its connection at the same time, so the test takes
	// one quiet period, not one per case (t.Parallel would run only
	// GOMAXPROCS of them at a time); each then reports as a subtest.
	type quietCase struct {
		name   string
		addr   string
		kp     keepalive.ClientParameters
		stream bool
		bidi   bool
		old    bool // the old settings: want a GOAWAY
		// minPings, if not 0, is the fewest pings the case must see.
		minPings int64
		result   quietResult
		err      error
	}
	var cases []*quietCase
	for _, s := range servers {
		for _, settings := range []struct {
			name string
			kp   keepalive.ClientParameters
			old  bool
		}{
			{name: "current", kp: conn.KeepaliveParams()},
			{name: "old 10s", kp: oldKeepalive, old: true},
		} {
			cases = append(cases,
				&quietCase{name: s.name + "/" + settings.name + "/idle", addr: s.addr, kp: settings.kp, old: settings.old},
				&quietCase{name: s.name + "/" + settings.name + "/quiet stream", addr: s.addr, kp: settings.kp, old: settings.old, stream: true, bidi: s.bidi})
		}
	}
	// The policy scaled down 30 times: a client pinging every 10 s (the
	// fastest grpc-go allows), without a stream only if permitted, against a
	// server with the health service that allows a ping every 10 s.
	scaled := startPolicyServer(t, true, keepalive.EnforcementPolicy{MinTime: 10 * time.Second})
	kp := conn.KeepaliveParams()
	kp.Time = 10 * time.Second
	minPings := int64(quiet/kp.Time) - 1
	cases = append(cases,
		&quietCase{name: "scaled 1:30, ping every 10s, server minimum 10s/idle with health watch", addr: scaled, kp: kp, minPings: minPings},
		&quietCase{name: "scaled 1:30, ping every 10s, server minimum 10s/quiet stream", addr: scaled, kp: kp, stream: true, bidi: true, minPings: minPings})

	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() { c.result, c.err = holdQuiet(t, c.addr, c.kp, c.stream, c.bidi, quiet) })
	}
	wg.Wait()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err != nil {
				t.Fatal(c.err)
			}
			r := c.result
			t.Logf("%s", r)
			if c.old {
				if !r.tooManyPings {
					t.Errorf("the old settings earned no GOAWAY too_many_pings in %s: the test cannot see the problem it guards against", quiet)
				}
				return
			}
			r.check(t)
			if r.pings < c.minPings {
				t.Errorf("the client sent %d pings in %s, want at least %d: the case needs pings at the server's minimum interval", r.pings, quiet, c.minPings)
			}
		})
	}
}

// quietResult is what holdQuiet saw.
type quietResult struct {
	pings, goaways, conns int64
	tooManyPings          bool
	left                  connectivity.State // the state the connection left READY for, if it did
	after                 error              // of the call (or message) after the quiet period
	took                  time.Duration
}

func (r quietResult) String() string {
	s := fmt.Sprintf("%d pings from the client, %d GOAWAY from the server (too_many_pings: %v), %d connection(s) in %s", r.pings, r.goaways, r.tooManyPings, r.conns, r.took.Round(time.Second))
	if r.left != connectivity.Ready {
		s += fmt.Sprintf(", left READY for %v", r.left)
	}
	if r.after != nil {
		s += fmt.Sprintf("; then: %v", r.after)
	} else {
		s += "; then the call succeeded"
	}
	return s
}

func (r quietResult) check(t *testing.T) {
	t.Helper()
	if r.goaways != 0 || r.tooManyPings {
		t.Errorf("the server sent %d GOAWAY (too_many_pings: %v), want none", r.goaways, r.tooManyPings)
	}
	if r.left != connectivity.Ready {
		t.Errorf("the connection left READY for %v, want it kept", r.left)
	}
	if r.conns != 1 {
		t.Errorf("the client opened %d connections, want 1 kept throughout", r.conns)
	}
	if r.after != nil {
		t.Errorf("after %s quiet: %v, want success", r.took.Round(time.Second), r.after)
	}
}

// holdQuiet (safe to call from any goroutine) connects to addr through a frame-reading proxy with keepalive
// kp and greeter-client's other settings, and keeps the connection quiet
// for d: idle after one SayHello, or, with stream, holding a stream open:
// a SayHelloBidiStream chat that has had one answer if bidi, otherwise a
// SayHello stream whose request is not sent yet. Then it makes another
// call, or sends the stream's message and reads the answer.
func holdQuiet(t *testing.T, addr string, kp keepalive.ClientParameters, stream, bidi bool, d time.Duration) (quietResult, error) {
	proxy, err := newPingProxy(t, addr)
	if err != nil {
		return quietResult{}, err
	}
	f := &conn.Factory{
		Options:     conn.Options{Addr: proxy.addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second},
		DialOptions: []grpc.DialOption{grpc.WithKeepaliveParams(kp)}, // after the Factory's own: this one counts
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	cc, err := f.NewConn(ctx)
	if err != nil {
		return quietResult{}, err
	}
	defer cc.Close()
	client := helloworld.NewGreeterClient(cc)

	var next func() error
	switch {
	case !stream:
		if _, err := client.SayHello(ctx, &helloworld.HelloRequest{Name: "idle"}); err != nil {
			return quietResult{}, err
		}
		next = func() error {
			_, err := client.SayHello(ctx, &helloworld.HelloRequest{Name: "idle"})
			return err
		}
	case bidi:
		chat, err := client.SayHelloBidiStream(ctx)
		if err != nil {
			return quietResult{}, err
		}
		if err := chat.Send(&helloworld.HelloRequest{Name: "first"}); err != nil {
			return quietResult{}, err
		}
		if _, err := chat.Recv(); err != nil {
			return quietResult{}, err
		}
		next = func() error {
			if err := chat.Send(&helloworld.HelloRequest{Name: "second"}); err != nil {
				_, err = chat.Recv() // the stream's status
				return err
			}
			_, err := chat.Recv()
			return err
		}
	default:
		// The method is unary; opened as a stream, it waits for its request,
		// and the server holds it open meanwhile.
		s, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, helloworld.Greeter_SayHello_FullMethodName)
		if err != nil {
			return quietResult{}, err
		}
		next = func() error {
			if err := s.SendMsg(&helloworld.HelloRequest{Name: "quiet"}); err != nil {
				return s.RecvMsg(new(helloworld.HelloReply))
			}
			if err := s.CloseSend(); err != nil {
				return err
			}
			return s.RecvMsg(new(helloworld.HelloReply))
		}
	}

	time.Sleep(100 * time.Millisecond) // for the BDP ping of the answer just read
	start := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, d)
	defer wcancel()
	startPings := proxy.pings.Load()
	left := connectivity.Ready
	if cc.WaitForStateChange(wctx, connectivity.Ready) {
		left = cc.GetState()
		<-wctx.Done() // keep watching the frames for the whole period
	}
	r := quietResult{left: left, took: time.Since(start)}
	// Counted before the last call: its answer makes grpc-go send a
	// flow-control (BDP) ping, which is not keepalive's.
	r.pings = proxy.pings.Load() - startPings
	r.goaways = proxy.goaways.Load()
	r.tooManyPings = proxy.tooManyPings.Load()
	r.after = next()
	r.conns = proxy.conns.Load()
	return r, nil
}

// pingProxy forwards plaintext HTTP/2 connections to a server and counts
// the PING frames clients send (acknowledgements aside) and the GOAWAY
// frames the server sends, noting any whose debug data is
// "too_many_pings".
type pingProxy struct {
	addr                  string
	conns, pings, goaways atomic.Int64
	tooManyPings          atomic.Bool
}

func newPingProxy(t *testing.T, server string) (*pingProxy, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &pingProxy{addr: lis.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		lis.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			s, err := net.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, s)
			mu.Unlock()
			wg.Go(func() {
				relayFrames(s, c, len(http2Preface), func(typ, flags byte, _ []byte) {
					if typ == http2FramePing && flags&http2FlagAck == 0 {
						p.pings.Add(1)
					}
				})
				s.Close()
			})
			wg.Go(func() {
				relayFrames(c, s, 0, func(typ, _ byte, payload []byte) {
					if typ == http2FrameGoAway {
						p.goaways.Add(1)
						// Last stream ID and error code, then debug data.
						if len(payload) >= 8 && strings.Contains(string(payload[8:]), "too_many_pings") {
							p.tooManyPings.Store(true)
						}
					}
				})
				c.Close()
			})
		}
	})
	return p, nil
}

// relayFrames copies src to dst, first preface bytes as they are, then frame
// by frame, calling seen with each frame's type, flags and payload.
func relayFrames(dst io.Writer, src io.Reader, preface int, seen func(typ, flags byte, payload []byte)) {
	if _, err := io.CopyN(dst, src, int64(preface)); err != nil {
		return
	}
	header := make([]byte, 9)
	for {
		if _, err := io.ReadFull(src, header); err != nil {
			return
		}
		length := binary.BigEndian.Uint32(append([]byte{0}, header[:3]...))
		payload := make([]byte, length)
		if _, err := io.ReadFull(src, payload); err != nil {
			return
		}
		seen(header[3], header[4], payload)
		if _, err := dst.Write(append(header, payload...)); err != nil {
			return
		}
	}
}

// startDefaultPolicyServer starts an in-process grpc-go server with no
// keepalive options, so gRPC's default enforcement, serving
// helloworld.Greeter, and grpc.health.v1 (SERVING) if withHealth.
func startDefaultPolicyServer(t *testing.T, withHealth bool) string {
	t.Helper()
	return startPolicyServer(t, withHealth)
}

// startPolicyServer is startDefaultPolicyServer with an enforcement policy.
func startPolicyServer(t *testing.T, withHealth bool, policy ...keepalive.EnforcementPolicy) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	for _, p := range policy {
		opts = append(opts, grpc.KeepaliveEnforcementPolicy(p))
	}
	srv := grpc.NewServer(opts...)
	helloworld.RegisterGreeterServer(srv, helloServer{})
	if withHealth {
		healthpb.RegisterHealthServer(srv, health.NewServer()) // "" is SERVING
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// helloServer greets, and answers each message of a chat.
type helloServer struct {
	helloworld.UnimplementedGreeterServer
}

func (helloServer) SayHello(_ context.Context, in *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	return &helloworld.HelloReply{Message: "Hello " + in.GetName()}, nil
}

func (helloServer) SayHelloBidiStream(s grpc.BidiStreamingServer[helloworld.HelloRequest, helloworld.HelloReply]) error {
	for {
		in, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := s.Send(&helloworld.HelloReply{Message: "Hello " + in.GetName()}); err != nil {
			return err
		}
	}
}

// startGoExampleServer runs grpc-go's examples/helloworld/greeter_server on
// a free port and returns its address on 127.0.0.1.
func startGoExampleServer(t *testing.T, bin string) string {
	t.Helper()
	// It logs "server listening at [::]:PORT" once it serves.
	return startPeer(t, exec.Command(bin, "-port", "0"), regexp.MustCompile(`server listening at .*:(\d+)$`))
}

// startPythonServer generates the helloworld stubs from the repository's
// proto and runs scripts/peers/helloworld_server.py with python on a free
// port, and returns its address.
func startPythonServer(t *testing.T, python string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	stubs := t.TempDir()
	gen := exec.Command(python, "-m", "grpc_tools.protoc", "-I", filepath.Join(root, "proto", "helloworld"),
		"--python_out="+stubs, "--grpc_python_out="+stubs, "helloworld.proto")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate the Python helloworld stubs: %v: %s", err, out)
	}
	cmd := exec.Command(python, filepath.Join(root, "scripts", "peers", "helloworld_server.py"), "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+stubs)
	return startPeer(t, cmd, regexp.MustCompile(`^listening on .*:(\d+)$`))
}

// startPeer starts cmd, waits for a line of its output that listening
// matches, and returns 127.0.0.1 with the port listening captured.
func startPeer(t *testing.T, cmd *exec.Cmd, listening *regexp.Regexp) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // the grpc-go example logs on stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				port <- m[1]
				sent = true
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			t.Fatalf("%s exited before it listened", cmd.Path)
		}
		return net.JoinHostPort("127.0.0.1", p)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not say it listens within 20s", cmd.Path)
	}
	return ""
}
