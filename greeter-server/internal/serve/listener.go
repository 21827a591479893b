package serve

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Accept errors other than a closed listener (EMFILE and ENFILE when the
// process or the system is out of file descriptors, ENOBUFS, ENOMEM) are
// waited out: Accept tries again after acceptBackoffMin, doubling the wait up
// to acceptBackoffMax, so a server that is out of descriptors for a moment
// serves again as soon as some are free, and neither spins nor stops.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// connLimit caps the connections the server holds open at once, over both
// listeners together (MaxConnections): a connection over the cap is closed as
// soon as it is accepted, so its client fails fast and can go to another
// replica, instead of waiting in the kernel's backlog for a handshake that
// would not come. The first refusal is logged, and so is the recovery, with
// how many were refused meanwhile; one line each, not one per connection.
type connLimit struct {
	max    int64
	logger *slog.Logger

	open    atomic.Int64
	mu      sync.Mutex // guards full and refused
	full    bool
	refused int
}

func newConnLimit(limit int, logger *slog.Logger) *connLimit {
	return &connLimit{max: int64(limit), logger: logger}
}

// take counts a new connection in, or reports false (and counts a refusal)
// if the server is full.
func (c *connLimit) take() bool {
	if c.open.Add(1) <= c.max {
		return true
	}
	c.open.Add(-1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refused++
	// A release that ran while this connection was counted saw the server
	// full and logged nothing; only mark it full if it still is.
	if !c.full && c.open.Load() >= c.max {
		c.full = true
		c.logger.Warn("connection limit reached; closing new connections until some close", "limit", c.max)
	}
	return false
}

// release counts a connection closed, and logs the recovery once the server
// is below its cap again after refusing some.
func (c *connLimit) release() {
	if c.open.Add(-1) >= c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.full {
		c.logger.Info("accepting connections again", "limit", c.max, "refused", c.refused)
		c.full, c.refused = false, 0
	}
}

// capListener is one listener of the server, as the server accepts on it:
//
//   - it counts every connection against the server's connLimit, which both
//     listeners share, and closes those over it;
//   - it waits out Accept errors (see acceptBackoffMin) instead of returning
//     them: only closing the listener ends serving. grpc-go and net/http
//     retry only the errors that call themselves temporary, and end serving
//     on any other (ENOBUFS is not "temporary");
//   - it sets TCP_USER_TIMEOUT on every connection (see setUserTimeout).
//
// A run of Accept errors is logged once when it starts and once when it
// ends, with how many it waited out; never one line per error.
type capListener struct {
	net.Listener
	name   string // "grpc" or "http", for the log
	limit  *connLimit
	logger *slog.Logger
	// userTimeout is every accepted connection's TCP_USER_TIMEOUT: the
	// keepalive timeout (see setUserTimeout).
	userTimeout time.Duration

	closed    chan struct{}
	closeOnce sync.Once
}

func newCapListener(lis net.Listener, name string, limit *connLimit, userTimeout time.Duration, logger *slog.Logger) *capListener {
	return &capListener{Listener: lis, name: name, limit: limit, logger: logger, userTimeout: userTimeout, closed: make(chan struct{})}
}

// Accept returns the next connection under the cap, closing those over it,
// and waits out errors until the listener is closed.
func (l *capListener) Accept() (net.Conn, error) {
	var backoff time.Duration
	failures := 0
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			if failures == 0 {
				l.logger.Warn("accepting connections failed; retrying until it works", "listener", l.name, "err", err)
			}
			failures++
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-l.closed:
				timer.Stop()
				return nil, net.ErrClosed
			}
			continue
		}
		if failures > 0 {
			l.logger.Info("accepting connections again", "listener", l.name, "failed_accepts", failures)
			failures, backoff = 0, 0
		}
		if l.limit.take() {
			setUserTimeout(conn, l.userTimeout)
			return &cappedConn{Conn: conn, limit: l.limit}, nil
		}
		conn.Close()
	}
}

// Close closes the listener and ends an Accept that is waiting out an error.
func (l *capListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// cappedConn gives its place back to the limit when it is closed.
type cappedConn struct {
	net.Conn
	limit *connLimit
	once  sync.Once
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.limit.release)
	return err
}
