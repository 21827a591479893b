package serve

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// capListener holds at most max connections open at once. A connection over
// the cap is closed as soon as it is accepted, so its client fails fast and
// can go to another replica, instead of waiting in the kernel's backlog for
// a handshake that would not come. The first refusal is logged, and so is
// the recovery, with how many were refused meanwhile; one line each, not one
// per connection.
type capListener struct {
	net.Listener
	max    int64
	logger *slog.Logger
	// userTimeout is every accepted connection's TCP_USER_TIMEOUT: the
	// keepalive timeout (see setUserTimeout).
	userTimeout time.Duration

	open    atomic.Int64
	mu      sync.Mutex // guards full and refused
	full    bool
	refused int
}

func newCapListener(lis net.Listener, limit int, logger *slog.Logger) *capListener {
	return &capListener{Listener: lis, max: int64(limit), logger: logger, userTimeout: keepaliveTimeout}
}

// Accept returns the next connection under the cap, closing those over it.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			setUserTimeout(conn, l.userTimeout)
			return &cappedConn{Conn: conn, l: l}, nil
		}
		l.open.Add(-1)
		conn.Close()
		l.mu.Lock()
		l.refused++
		if !l.full {
			l.full = true
			l.logger.Warn("connection limit reached; closing new connections until some close", "limit", l.max)
		}
		l.mu.Unlock()
	}
}

// release counts a connection closed, and logs the recovery once the server
// is below its cap again after refusing some.
func (l *capListener) release() {
	if l.open.Add(-1) >= l.max {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		l.logger.Info("accepting connections again", "limit", l.max, "refused", l.refused)
		l.full, l.refused = false, 0
	}
}

// cappedConn gives its place back to the listener when it is closed.
type cappedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}
