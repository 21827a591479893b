//go:build linux

package serve

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout sets conn's TCP_USER_TIMEOUT to d: data the client has not
// acknowledged for that long closes the connection. grpc-go sets it from the
// keepalive timeout itself, but only on a *net.TCPConn, and the server hands
// grpc-go capListener's wrapped connections (and net/http never sets it), so
// capListener sets it as it accepts, on both listeners.
func setUserTimeout(conn net.Conn, d time.Duration) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
	})
}
