package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/credentials"
)

// sniffMaxBytes bounds what the router reads from a connection before it
// knows where the connection goes: the HTTP/2 preface, the client's first
// frames and its first request's headers (at most MaxHeaderListSize), and
// what the client may send before it acknowledges the router's SETTINGS
// (flow control holds that to one 64 KiB window). A connection that sends
// more without a request is closed.
const sniffMaxBytes = 256 << 10

// router sorts the connections of one listener between the two servers
// behind it: native gRPC goes to grpc.Server.Serve, with its own HTTP/2
// transport (keepalive, limits, flow control), and everything else (HTTP/1.x,
// and HTTP/2 whose first request is not application/grpc: Connect, gRPC-Web,
// JSON) to the http.Server. It decides once per connection, from its first
// bytes, in a goroutine of the connection's own, so a slow client never holds
// up Accept; the connection then belongs to one server for its whole life.
//
// With TLS the router terminates TLS itself (ALPN offers h2 and http/1.1),
// then sorts the decrypted connection the same way; grpc.Server is given
// handshakenTLS, which reports the finished handshake as its AuthInfo.
type router struct {
	lis     net.Listener
	tls     *tls.Config // nil for plaintext
	timeout time.Duration
	grpc    *connQueue
	http    *connQueue

	mu      sync.Mutex
	pending map[net.Conn]struct{} // connections still being sorted
	closed  bool
	wg      sync.WaitGroup
}

func newRouter(lis net.Listener, tlsConfig *tls.Config, timeout time.Duration) *router {
	return &router{
		lis:     lis,
		tls:     tlsConfig,
		timeout: timeout,
		grpc:    newConnQueue(lis.Addr()),
		http:    newConnQueue(lis.Addr()),
		pending: map[net.Conn]struct{}{},
	}
}

// run accepts connections until the listener fails or is closed, then closes
// both queues and the connections still being sorted, and waits for their
// goroutines.
func (rt *router) run() error {
	defer rt.wg.Wait()
	defer rt.close()
	for {
		conn, err := rt.lis.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		rt.mu.Lock()
		if rt.closed {
			rt.mu.Unlock()
			conn.Close()
			return nil
		}
		rt.pending[conn] = struct{}{}
		rt.wg.Add(1)
		rt.mu.Unlock()
		go func() {
			defer rt.wg.Done()
			rt.route(conn)
			rt.mu.Lock()
			delete(rt.pending, conn)
			rt.mu.Unlock()
		}()
	}
}

// close stops accepting, closes the connections still being sorted and both
// queues. It may be called more than once.
func (rt *router) close() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return
	}
	rt.closed = true
	rt.lis.Close()
	for c := range rt.pending {
		c.Close()
	}
	rt.grpc.Close()
	rt.http.Close()
}

// route finishes the TLS handshake, if any, reads the connection's first
// bytes and hands it, with those bytes to be read again, to one server. The
// handshake and the sorting together must end within the router's timeout
// (the server's ConnectionTimeout); a connection that sends nothing in that
// time, or breaks the protocol, is closed.
func (rt *router) route(raw net.Conn) {
	_ = raw.SetDeadline(time.Now().Add(rt.timeout))
	conn := raw
	var tc *tls.Conn
	if rt.tls != nil {
		tc = tls.Server(raw, rt.tls)
		ctx, cancel := context.WithTimeout(context.Background(), rt.timeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			raw.Close()
			return
		}
		conn = tc
	}
	toGRPC, seen, err := sniff(conn)
	if err != nil {
		conn.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	rc := &routedConn{Conn: conn, replay: seen, tls: tc}
	if toGRPC {
		rt.grpc.put(rc)
	} else {
		rt.http.put(rc)
	}
}

// sniff reads the start of conn and reports whether it is native gRPC: an
// HTTP/2 connection (the client preface, which gRPC sends without asking,
// with or without TLS) whose first request has the content type
// application/grpc or application/grpc+CODEC. gRPC-Web
// (application/grpc-web...) and everything else is not. It returns the bytes
// it read, which the chosen server must read first.
//
// A gRPC client waits for the server's SETTINGS before its first request, so
// sniff sends a SETTINGS frame with the server's limits (the server behind
// sends its own settings next, which HTTP/2 allows at any time) and drops the
// client's acknowledgement of it, which the server behind did not ask for.
// An HTTP/2 connection that sends no request before the deadline (a gRPC
// client that connects ahead of its first call) is given to gRPC.
func sniff(conn net.Conn) (toGRPC bool, seen []byte, err error) {
	preface := make([]byte, len(http2.ClientPreface))
	n := 0
	for n < len(preface) {
		m, err := conn.Read(preface[n:])
		n += m
		// Is what arrived so far the start of the preface?
		if !strings.HasPrefix(http2.ClientPreface, string(preface[:n])) { //nolint:gocritic // the order is right: the preface starts with what was read
			return false, preface[:n], nil // HTTP/1.x, or not HTTP: the http.Server answers it
		}
		if err != nil {
			return false, nil, err
		}
	}
	rec := &recorder{r: conn, buf: preface}
	fr := http2.NewFramer(conn, rec)
	fr.SetMaxReadFrameSize(16 << 10) // the default our empty SETTINGS leaves in force
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = MaxHeaderListSize
	if err := fr.WriteSettings(
		// The limits both servers behind advertise, so that the client knows
		// them from its first request on.
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: MaxConcurrentStreams},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: MaxHeaderListSize},
	); err != nil {
		return false, nil, err
	}
	acked, decided := false, false
	for !acked || !decided {
		if len(rec.buf) > sniffMaxBytes {
			return false, nil, errors.New("no request in the first 256 KiB")
		}
		start := len(rec.buf)
		f, err := fr.ReadFrame()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !decided {
				return true, rec.buf, nil
			}
			return false, nil, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() && !acked {
				rec.buf = rec.buf[:start]
				acked = true
			}
		case *http2.MetaHeadersFrame:
			if !decided {
				toGRPC, decided = isGRPC(f.PseudoValue("method"), headerValue(f, "content-type")), true
			}
		}
		// A gRPC connection may go on before the acknowledgement arrives:
		// grpc-go ignores an acknowledgement it did not ask for. net/http
		// closes the connection on one, so the HTTP side waits for it.
		if decided && toGRPC {
			return true, rec.buf, nil
		}
	}
	return toGRPC, rec.buf, nil
}

// isGRPC reports whether a request with this method and content type is
// native gRPC. application/grpc-web is not.
func isGRPC(method, contentType string) bool {
	rest, ok := strings.CutPrefix(contentType, "application/grpc")
	return method == "POST" && ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, hf := range f.RegularFields() {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

// recorder keeps a copy of everything read through it.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// routedConn is a sorted connection: Read returns the bytes the router read
// first, then reads the connection.
type routedConn struct {
	net.Conn
	replay []byte
	tls    *tls.Conn // nil for plaintext
}

func (c *routedConn) Read(p []byte) (int, error) {
	if len(c.replay) == 0 {
		return c.Conn.Read(p)
	}
	n := copy(p, c.replay)
	c.replay = c.replay[n:]
	if len(c.replay) == 0 {
		c.replay = nil // let the buffer go
	}
	return n, nil
}

// connQueue is a net.Listener whose connections the router hands over.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// put hands c to the server accepting on q, or closes it if q is closed.
func (q *connQueue) put(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// handshakenTLS are grpc.Server's transport credentials when the router has
// done the TLS handshake already: they pass the connection through and report
// the handshake's state (peer certificates, for mutual TLS and the access
// log) as credentials.TLSInfo, as grpc-go's own TLS credentials do.
type handshakenTLS struct{}

func (handshakenTLS) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	rc, ok := conn.(*routedConn)
	if !ok || rc.tls == nil {
		return nil, nil, errors.New("connection did not come through the TLS router")
	}
	return conn, credentials.TLSInfo{
		State:          rc.tls.ConnectionState(),
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
	}, nil
}

func (handshakenTLS) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("handshakenTLS is for servers only")
}

func (handshakenTLS) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (handshakenTLS) Clone() credentials.TransportCredentials { return handshakenTLS{} }

func (handshakenTLS) OverrideServerName(string) error { return nil }
