//go:build linux

package serve

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAcceptSetsUserTimeout checks that a connection the server accepts has
// TCP_USER_TIMEOUT set to the keepalive timeout, which grpc-go cannot set on
// the wrapped connections it is given.
func TestAcceptSetsUserTimeout(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	discard := slog.New(slog.DiscardHandler)
	capped := newCapListener(lis, "grpc", newConnLimit(10, discard), KeepaliveTimeout, discard)
	client, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := capped.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*cappedConn).Conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var getErr error
	if err := raw.Control(func(fd uintptr) {
		got, getErr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	}); err != nil || getErr != nil {
		t.Fatal(err, getErr)
	}
	if want := int(KeepaliveTimeout / time.Millisecond); got != want {
		t.Errorf("TCP_USER_TIMEOUT of an accepted connection = %d ms, want %d (the keepalive timeout)", got, want)
	}
}
