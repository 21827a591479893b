package test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/keepalive"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
)

// TestKeepaliveWithinServerPolicy holds an idle greeter-client connection to
// a real greeter-server for three keepalive intervals, through a proxy that
// reads the HTTP/2 frames going by, with the client pinging as often as
// grpc-go allows any client to (every 10 s, also without a stream open),
// far more often than greeter-client itself (conn.KeepaliveTime).
// keepalive_default_test.go checks servers with gRPC's default policy. // trim:helloworld
// The client must ping and the server must never answer with GOAWAY: three
// pings more often than the server allows would earn "too_many_pings" and
// close the connection. So greeter-server accepts whatever keepalive a
// grpc-go client may use.
func TestKeepaliveWithinServerPolicy(t *testing.T) {
	t.Parallel()
	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var serverLog bytes.Buffer
	// The HTTP listener on any free port: its default, localhost:8080, // trim:http
	// would collide between parallel tests. // trim:http
	server := exec.Command(serverBin, "--addr", addr,
		"--http-addr", "127.0.0.1:0", // trim:http
		"--log-level", "warn")
	server.Stderr = &serverLog
	server.Env = environWithoutGreeter()
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
	})
	waitListening(t, addr, &serverLog)

	proxy := newFrameProxy(t, addr)
	fastest := keepalive.ClientParameters{Time: 10 * time.Second, Timeout: conn.KeepaliveTimeout, PermitWithoutStream: true}
	f := &conn.Factory{
		Options:     conn.Options{Addr: proxy.addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second},
		DialOptions: []grpc.DialOption{grpc.WithKeepaliveParams(fastest)},
	}
	ctx := context.Background()
	cc, err := f.NewConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "keepalive"}); err != nil {
		t.Fatal(err)
	}

	idle := 3*fastest.Time + 5*time.Second
	startPings := proxy.pings.Load() // the client's flow-control (BDP) pings so far
	wctx, cancel := context.WithTimeout(ctx, idle)
	defer cancel()
	if cc.WaitForStateChange(wctx, connectivity.Ready) {
		t.Errorf("the idle connection left READY (now %v) after %d pings; server GOAWAYs: %d", cc.GetState(), proxy.pings.Load()-startPings, proxy.goaways.Load())
	}
	if n := proxy.pings.Load() - startPings; n < 3 {
		t.Errorf("the client sent %d keepalive pings in %s, want at least 3 (one every %s)", n, idle, fastest.Time)
	}
	if n := proxy.goaways.Load(); n != 0 {
		t.Errorf("the server sent %d GOAWAY frames to a client that pings every %s", n, fastest.Time)
	}
	if _, err := greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "keepalive"}); err != nil {
		t.Errorf("a call after %s idle: %v", idle, err)
	}
	if n := proxy.conns.Load(); n != 1 {
		t.Errorf("the client opened %d connections, want 1 kept alive throughout", n)
	}
	t.Logf("%d pings in %s idle, %d GOAWAY, %d connection(s)", proxy.pings.Load()-startPings, idle, proxy.goaways.Load(), proxy.conns.Load())
}

// waitListening waits until addr accepts TCP connections.
func waitListening(t *testing.T, addr string, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("greeter-server is not listening on %s: %v: %s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// frameProxy forwards plaintext HTTP/2 connections to a server and counts
// the PING frames clients send (acknowledgements aside) and the GOAWAY
// frames the server sends.
type frameProxy struct {
	addr                  string
	conns, pings, goaways atomic.Int64
}

// HTTP/2 frame types and flags (RFC 9113, section 6).
const (
	http2FramePing   = 0x6
	http2FrameGoAway = 0x7
	http2FlagAck     = 0x1
	http2Preface     = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

func newFrameProxy(t *testing.T, server string) *frameProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &frameProxy{addr: lis.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { lis.Close(); wg.Wait() })
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
			t.Cleanup(func() { c.Close(); s.Close() })
			wg.Go(func() { copyFrames(s, c, len(http2Preface), http2FramePing, &p.pings) })
			wg.Go(func() { copyFrames(c, s, 0, http2FrameGoAway, &p.goaways) })
		}
	})
	return p
}

// copyFrames copies src to dst, first preface bytes as they are, then frame
// by frame, and counts the frames of type want that are not
// acknowledgements.
func copyFrames(dst io.Writer, src io.Reader, preface int, want byte, count *atomic.Int64) {
	if _, err := io.CopyN(dst, src, int64(preface)); err != nil {
		return
	}
	header := make([]byte, 9)
	for {
		if _, err := io.ReadFull(src, header); err != nil {
			return
		}
		length := int64(binary.BigEndian.Uint32(append([]byte{0}, header[:3]...)))
		if header[3] == want && header[4]&http2FlagAck == 0 {
			count.Add(1)
		}
		if _, err := dst.Write(header); err != nil {
			return
		}
		if _, err := io.CopyN(dst, src, length); err != nil {
			return
		}
	}
}
