package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
	"github.com/greeter-go/greeter/greeter-server/internal/testproc"
)

// proxyEnv, set to "require", runs TestProxy, which fails where haproxy is
// not installed. scripts/test-proxy.sh installs haproxy and sets it, so
// that scripts/test.sh runs the test once, there.
const proxyEnv = "GREETER_TEST_PROXY"

// proxyConfig is the example HAProxy configuration users copy; TestProxy
// runs it as it is.
const proxyConfig = "../deploy/proxy/haproxy.cfg"

// TestProxy puts the real binary behind HAProxy with
// greeter-server/deploy/proxy/haproxy.cfg, which pools its h2c connections
// to the HTTP listener and shares them between all clients and protocols
// (http-reuse always), and interleaves, round after round, every protocol
// through it, each request on a new client connection: native gRPC from the
// real greeter-client binary and from Go, Connect JSON from curl, Connect
// JSON and proto over
// HTTP/1.1 and h2c, gRPC-Web, and the page; then two rounds and a stream
// all at once. Every request must be answered, and the server's access log
// must show the pooling: fewer upstream connections than calls, and one
// that carried both gRPC and Connect.
func TestProxy(t *testing.T) {
	t.Parallel()
	if os.Getenv(proxyEnv) != "require" {
		t.Skipf("SKIPPED: the proxy test runs with $%s=require; scripts/test-proxy.sh (run by scripts/test.sh) installs haproxy and sets it", proxyEnv)
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("$%s=require, but haproxy is not on PATH", proxyEnv)
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("$%s=require, but curl is not on PATH", proxyEnv)
	}
	cfg, err := filepath.Abs(proxyConfig)
	if err != nil {
		t.Fatal(err)
	}
	client := buildClient(t)
	srv := startServer(t, "--log-level", "debug")
	p := startProxy(t, haproxy, cfg, srv.HTTPAddr)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nhaproxy log:\n%s\nserver log:\n%s", append(args, p.log.String(), srv.Log())...)
	}

	// One call at a time: the n-th access log line of SayHello is then the
	// n-th SayHello sent, and its peer is the proxy's end of the upstream
	// connection that carried it. (greeter-client's health Watch calls
	// have lines of their own, with another method.)
	var carried []proxyStep // the SayHello calls, in order
	for round := range 3 {
		for _, s := range proxySteps(t, client, curl, p.addr, round) {
			if err := s.run(); err != nil {
				fail("round %d, %s through the proxy: %v", round, s.desc, err)
			}
			if s.protocol != "" {
				carried = append(carried, s)
				waitForCalls(t, srv, len(carried))
			}
		}
	}
	peers := calledFrom(srv.Log())
	if len(peers) != len(carried) {
		fail("the access log has %d SayHello calls, want %d", len(peers), len(carried))
	}
	var conns []string                 // upstream connections, in order of first use
	byConn := map[string][]proxyStep{} // upstream connection -> what it carried
	for i, peer := range peers {
		if byConn[peer] == nil {
			conns = append(conns, peer)
		}
		byConn[peer] = append(byConn[peer], carried[i])
	}
	shared := false
	for _, peer := range conns {
		var descs []string
		grpcHere, connectHere := false, false
		for _, s := range byConn[peer] {
			descs = append(descs, s.desc)
			grpcHere = grpcHere || s.protocol == "gRPC"
			connectHere = connectHere || strings.HasPrefix(s.protocol, "Connect")
		}
		t.Logf("upstream connection from %s carried %d calls: %s", peer, len(descs), strings.Join(descs, "; "))
		shared = shared || grpcHere && connectHere
	}
	if len(conns) >= len(carried) {
		t.Errorf("%d calls through the proxy, each from a client connection of its own, came over %d upstream connections: the proxy did not pool them", len(carried), len(conns))
	}
	if !shared {
		t.Errorf("no upstream connection carried both gRPC and Connect calls")
	}

	// Then two rounds at once, and a stream, as a proxy multiplexes the
	// calls of its clients over the connections it has.
	var wg sync.WaitGroup
	burst := append(proxySteps(t, client, curl, p.addr, 3), proxySteps(t, client, curl, p.addr, 4)...)
	burst = append(burst, proxyStep{"greeter-client hello-stream (gRPC)", "", func() error {
		return runClient(client, "Hello, Ann!\nHello, Ann!\nHello, Ann!\n", "--addr", p.addr, "hello-stream", "--name", "Ann", "--count", "3", "--interval", "200ms")
	}})
	for _, s := range burst {
		wg.Go(func() {
			if err := s.run(); err != nil {
				t.Errorf("all at once, %s through the proxy: %v", s.desc, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.Logf("haproxy log:\n%s\nserver log:\n%s", p.log.String(), srv.Log())
	}
	srv.checkServing(t)
}

// A proxyStep is one request of TestProxy through the proxy.
type proxyStep struct {
	desc string
	// protocol is the protocol of its SayHello call ("gRPC", "Connect
	// JSON", ...), or "" for a request that is none.
	protocol string
	run      func() error
}

// proxySteps returns one round of TestProxy's requests to the proxy at
// addr, each on a client connection of its own: greeter-client hello, curl
// with Connect JSON, a SayHello in every protocol of the HTTP listener (gRPC
// over h2c, the others over HTTP/1.1 or h2c by turns, gzipped in odd
// rounds), and the page.
func proxySteps(t *testing.T, client, curl, addr string, round int) []proxyStep {
	name := fmt.Sprintf("Ann %d", round)
	steps := []proxyStep{{"greeter-client hello (gRPC)", "gRPC", func() error {
		return runClient(client, "Hello, "+name+"!\n", "--addr", addr, "hello", "--name", name)
	}}, {"curl, Connect JSON", "Connect JSON", func() error {
		return curlJSON(curl, "http://"+addr+"/greeter.v1.GreeterService/SayHello", name)
	}}}
	for i, proto := range protocols {
		h2 := proto.name == "gRPC" || (round+i)%2 == 0
		gz := round%2 == 1
		desc := proto.name + " over HTTP/1.1"
		if h2 {
			desc = proto.name + " over h2c"
		}
		if gz {
			desc += ", gzip"
		}
		steps = append(steps, proxyStep{desc, proto.name, func() error {
			got, err := proto.call(newProxyClient(t, h2), addr, name, gz)
			if want := "Hello, " + name + "!"; err == nil && got != want {
				err = fmt.Errorf("greeting %q, want %q", got, want)
			}
			return err
		}})
	}
	return append(steps, proxyStep{"GET /", "", func() error {
		return get(newProxyClient(t, round%2 == 1), "http://"+addr+"/", "<form")
	}})
}

// curlJSON calls SayHello at url with curl, as the docs show, and checks
// the greeting in its JSON answer.
func curlJSON(curl, url, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--fail-with-body",
		"-H", "Content-Type: application/json", "-d", fmt.Sprintf(`{"name": %q}`, name), url).CombinedOutput()
	if err != nil {
		return fmt.Errorf("curl: %w: %s", err, out)
	}
	var answer struct{ Message string }
	if err := json.Unmarshal(out, &answer); err != nil {
		return fmt.Errorf("curl printed %q: %w", out, err)
	}
	if want := "Hello, " + name + "!"; answer.Message != want {
		return fmt.Errorf("curl: greeting %q, want %q", answer.Message, want)
	}
	return nil
}

// proxy is a running haproxy.
type proxy struct {
	addr string
	log  *testlog.Buffer
}

// startProxy runs haproxy in the foreground with the configuration cfg,
// listening on a free loopback port and forwarding to backend, and waits
// until it answers GET /healthz from greeter-server. It is killed when the
// test ends.
func startProxy(t *testing.T, haproxy, cfg, backend string) proxy {
	t.Helper()
	// A free port can be taken between freeAddr and haproxy's bind: try
	// another one then.
	for attempt := 1; ; attempt++ {
		p := proxy{addr: freeAddr(t), log: new(testlog.Buffer)}
		cmd := exec.Command(haproxy, "-f", cfg, "-db")
		cmd.Env = append(testproc.EnvironWithoutGreeter(), "GREETER_PROXY_BIND="+p.addr, "GREETER_HTTP_BACKEND="+backend)
		cmd.Stdout, cmd.Stderr = p.log, p.log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start haproxy: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		err := waitForProxy(p.addr, exited)
		if err == nil {
			return p
		}
		if attempt == 3 || !strings.Contains(p.log.String(), "cannot bind") {
			t.Fatalf("haproxy -f %s: %v; its log:\n%s", cfg, err, p.log.String())
		}
	}
}

// waitForProxy waits up to 20 s for GET /healthz through the proxy at addr
// to answer 200, or for the proxy to exit.
func waitForProxy(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		err := get(c, "http://"+addr+"/healthz", "SERVING")
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("haproxy exited")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within 20 s: %w", err)
		}
	}
}

// newProxyClient returns an HTTP client that makes a new connection for
// its request, in h2c (prior knowledge) or HTTP/1.1, and fails a response
// in any other version. The connection is closed when the test ends.
func newProxyClient(t *testing.T, h2 bool) *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	want := 1
	if h2 {
		tr.Protocols.SetUnencryptedHTTP2(true)
		want = 2
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: protoCheck{tr, want}, Timeout: 10 * time.Second}
}

// protoCheck fails responses that did not come in HTTP/major.
type protoCheck struct {
	rt    http.RoundTripper
	major int
}

func (p protoCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(req)
	if err == nil && resp.ProtoMajor != p.major {
		resp.Body.Close()
		return nil, fmt.Errorf("answered over %s, want HTTP/%d", resp.Proto, p.major)
	}
	return resp, err
}

// sayHelloCall matches an access log line of a SayHello call; its
// submatch is the call's peer.
var sayHelloCall = regexp.MustCompile(`msg=rpc method=/greeter\.v1\.GreeterService/SayHello code=\S+ .*peer=(\S+)`)

// calledFrom returns the peer of every SayHello call in the server log, in
// order.
func calledFrom(log string) []string {
	var peers []string
	for _, m := range sayHelloCall.FindAllStringSubmatch(log, -1) {
		peers = append(peers, m[1])
	}
	return peers
}

// waitForCalls waits until the server has logged n SayHello calls: the
// line is written before the answer is sent, but read from the server's
// stderr after it.
func waitForCalls(t *testing.T, srv server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(calledFrom(srv.Log())) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("the server logged %d SayHello calls, want %d:\n%s", len(calledFrom(srv.Log())), n, srv.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
