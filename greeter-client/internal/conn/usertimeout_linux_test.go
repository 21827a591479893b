package conn_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// TestTCPUserTimeout checks what moves calls off a silent replica: the
// connection's socket has TCP_USER_TIMEOUT set to KeepaliveTimeout, which
// grpc-go does only while keepalive is on. Without it, a call sent to a
// server that went silent waits for its deadline (docs/client.md, "Several
// replicas behind one name").
func TestTCPUserTimeout(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	var (
		mu    sync.Mutex
		conns []*net.TCPConn
	)
	// A dialer that keeps the *net.TCPConn it hands grpc-go, which then
	// sets its options on it as on one it dialled itself.
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conns = append(conns, c.(*net.TCPConn))
		mu.Unlock()
		return c, nil
	}
	f := &conn.Factory{
		Options:     conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second},
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(dial)},
	}
	t.Cleanup(func() { f.Close() })
	if err := sayHello(f); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) == 0 {
		t.Fatal("no connection was dialled")
	}
	for _, c := range conns {
		raw, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var ms int
		var serr error
		if err := raw.Control(func(fd uintptr) {
			ms, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
		}); err != nil {
			t.Fatal(err)
		}
		if serr != nil {
			t.Fatal(serr)
		}
		if got := time.Duration(ms) * time.Millisecond; got != conn.KeepaliveTimeout {
			t.Errorf("TCP_USER_TIMEOUT = %s, want KeepaliveTimeout %s", got, conn.KeepaliveTimeout)
		}
	}
}
