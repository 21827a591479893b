package serve_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// TestDeadClientIsDisconnected opens a SayHelloGroup call, which waits for
// names, and then makes its client vanish without a word: a proxy between
// them stops passing anything on (as a partition or a client host that lost
// power would) but never closes. The server must notice through its
// keepalive pings and close the connection, and so end the call and free
// its goroutines, within KeepaliveTime plus KeepaliveTimeout. The test
// shortens both to a second (grpc-go's floor for servers); not parallel,
// since it changes them for every server started meanwhile.
func TestDeadClientIsDisconnected(t *testing.T) {
	t.Parallel()
	const pingAfter, giveUpAfter = time.Second, time.Second
	s := start(t, serve.Config{Limits: serve.Limits{KeepaliveTime: pingAfter, KeepaliveTimeout: giveUpAfter}})

	p := newSilenceProxy(t, s.addr)
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := greeterv1.NewGreeterServiceClient(conn).SayHelloGroup(callCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&greeterv1.SayHelloGroupRequest{Name: "vanishing"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	p.silence()
	cut := time.Now()
	select {
	case <-p.serverClosed:
		t.Logf("the server closed the silent client's connection %s after it went silent (keepalive %s + %s)", time.Since(cut).Round(10*time.Millisecond), pingAfter, giveUpAfter)
	case <-time.After(10 * (pingAfter + giveUpAfter)):
		t.Fatalf("the server kept the silent client's connection open for %s; want it closed after about %s", 10*(pingAfter+giveUpAfter), pingAfter+giveUpAfter)
	}
}

// silenceProxy passes one TCP connection through to a server until silence
// is called; from then on it swallows whatever either side sends, answers
// nothing and closes nothing, so each side sees a peer that has gone quiet.
// serverClosed is closed when the server ends its side of the connection.
type silenceProxy struct {
	addr         string
	silent       atomic.Bool
	serverClosed chan struct{}
}

func newSilenceProxy(t *testing.T, server string) *silenceProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silenceProxy{addr: lis.Addr().String(), serverClosed: make(chan struct{})}
	done := make(chan struct{})
	var conns sync.Map // of net.Conn, closed at the end of the test
	t.Cleanup(func() {
		lis.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		<-done
	})
	go func() {
		defer close(done)
		client, err := lis.Accept()
		if err != nil {
			return
		}
		conns.Store(client, nil)
		defer client.Close()
		upstream, err := net.Dial("tcp", server)
		if err != nil {
			return
		}
		conns.Store(upstream, nil)
		defer upstream.Close()
		go p.pass(upstream, client)
		p.pass(client, upstream) // returns when the server closes
		close(p.serverClosed)
	}()
	return p
}

func (p *silenceProxy) silence() { p.silent.Store(true) }

// pass copies src to dst until src ends, dropping what arrives once the
// proxy is silent.
func (p *silenceProxy) pass(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.silent.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_, _ = io.Copy(io.Discard, src)
				return
			}
		}
		if err != nil {
			return
		}
	}
}
