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

// capListener is one listener of the server, as the server accepts on it:
//
//   - it holds at most max connections open at once. A connection over the
//     cap is closed as soon as it is accepted, so its client fails fast and
//     can go to another replica, instead of waiting in the kernel's backlog
//     for a handshake that would not come;
//   - it waits out Accept errors (see acceptBackoffMin) instead of returning
//     them: only closing the listener ends serving. grpc-go and net/http
//     retry only the errors that call themselves temporary, and end serving
//     on any other (ENOBUFS is not "temporary");
//   - it sets TCP_USER_TIMEOUT on every connection (see setUserTimeout).
//
// Each condition is logged once when it starts and once when it ends, with
// how many connections it refused or how many errors it waited out; never
// one line per connection.
type capListener struct {
	net.Listener
	name   string // "grpc" or "http", for the log
	max    int64
	logger *slog.Logger
	// userTimeout is every accepted connection's TCP_USER_TIMEOUT: the
	// keepalive timeout (see setUserTimeout).
	userTimeout time.Duration

	open      atomic.Int64
	mu        sync.Mutex // guards full and refused
	full      bool
	refused   int
	closed    chan struct{}
	closeOnce sync.Once
}

func newCapListener(lis net.Listener, name string, limit int, logger *slog.Logger) *capListener {
	return &capListener{Listener: lis, name: name, max: int64(limit), logger: logger, userTimeout: keepaliveTimeout, closed: make(chan struct{})}
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
			l.logger.Warn("connection limit reached; closing new connections until some close", "listener", l.name, "limit", l.max)
		}
		l.mu.Unlock()
	}
}

// Close closes the listener and ends an Accept that is waiting out an error.
func (l *capListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
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
		l.logger.Info("accepting connections again", "listener", l.name, "limit", l.max, "refused", l.refused)
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
