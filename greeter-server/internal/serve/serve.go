// Package serve builds greeter-server — its Greeter services, health,
// reflection, limits, TLS and interceptors — and runs it until its context
// ends, then shuts it down gracefully. Its gRPC listener (Config.Addr) serves
// native gRPC on grpc-go's own transport, as a bare grpc-go server would.
// trim:http begin
// Its HTTP listener (Config.HTTPAddr, see web.go) serves Connect, gRPC-Web,
// native gRPC, the greeting page and /healthz from one net/http server,
// deciding per request, so a proxy that pools connections may send any mix
// of them over one connection.
// trim:http end
//
// A line that ends in the comment "trim:PART", and the lines from one with
// only "trim:PART begin" to one with only "trim:PART end", belong to PART,
// an optional part of the repository that scripts/trim.sh removes from a
// copy that does not want it, with the files that scripts/trim.parts lists
// for it. Keep such lines whole when you edit them, and mark what you add
// for a part the same way (in any file, in its comment syntax), so that a
// trimmed copy still builds and names nothing of the part.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	// Registers gzip with grpc-go, here where the server is built, so that
	// gzip-compressed calls work and are answered compressed in kind on both
	// listeners, whatever else the program imports.
	// vanguard (web.go) brings its own gzip for Connect and gRPC-Web. // trim:http
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
	"github.com/greeter-go/greeter/greeter-server/internal/observe"
	"github.com/greeter-go/greeter/greeter-server/internal/service"
	"github.com/greeter-go/greeter/greeter-server/internal/telemetry"
)

// The server's deliberate limits. Requests are small (a name is at most 100
// characters), calls are short, and a server must not let one client hold
// unbounded resources.
const (
	// MaxRecvMsgSize is the largest request message accepted, in bytes. The
	// largest valid request is well under 1 KiB.
	MaxRecvMsgSize = 16 << 10
	// MaxConcurrentStreams is the most calls one connection may have open;
	// a client that opens more has them refused (grpc-go clients wait for a
	// free stream instead).
	MaxConcurrentStreams = 100
	// MaxHeaderListSize is the most header bytes (names and values,
	// decoded) one request may carry. A Greeter call needs well under 1 KiB;
	// what Kubernetes, proxies and trace context add at most is about 14 KiB (W3C
	// traceparent, tracestate and baggage at their 8.5 KiB maxima, a 4 KiB
	// bearer token, 1 KiB of forwarding headers). 32 KiB leaves room for
	// that twice over, and holds 100 open calls on a connection to 3.2 MiB
	// of headers, where grpc-go's default of 16 MiB let one call hold 12 MB
	// decoded from 8 KB of HPACK-indexed repeats. A request with more is
	// reset (grpc-go clients refuse to send it, naming the limit).
	MaxHeaderListSize = 32 << 10
	// MaxConnections caps the connections one server holds at once, on both
	// listeners together; a connection over the cap is closed as soon as it
	// is accepted, and the server logs once that it is full. An idle
	// connection costs about 21-26 KiB (scripts/bench-report.sh), so 5000
	// cost at most about 130 MiB, which fits in a 256 MiB container; a fleet of clients that
	// needs more should get more replicas, which round_robin clients spread
	// their connections over.
	MaxConnections = 5000
	// MaxUnaryDuration bounds how long a unary call may stay open, whatever
	// deadline its client set, or none. Answering takes microseconds once
	// the request is in; a minute allows for a slow network and stops a
	// client from holding one of its connection's streams by never finishing
	// a request.
	MaxUnaryDuration = time.Minute
	// MaxStreamDuration bounds every streaming call the same way. It covers
	// the longest SayHelloStream (100 greetings 10 s apart: 16.5 minutes)
	// and equals MaxConnectionAgeGrace. Without it, a chat or group call
	// with no deadline could stay open for MaxConnectionAge plus its grace:
	// 50 minutes. Calls that reach it end with DEADLINE_EXCEEDED. Health
	// Watch streams are exempt: a client keeps one open for as long as its
	// connection lives, to follow the server's health, and cutting it would
	// take this replica out of the client's rotation for a moment;
	// MaxConnectionAge and its grace bound them instead.
	MaxStreamDuration = 20 * time.Minute
	// ConnectionTimeout bounds the connection handshake, TLS included.
	ConnectionTimeout = 10 * time.Second
	// KeepaliveMinTime is the shortest interval between client keepalive
	// pings the server accepts; a client that pings more often is sent
	// GOAWAY (ENHANCE_YOUR_CALM, "too_many_pings"). Pings without open calls
	// are allowed, so idle clients can keep checking their connection. It
	// is half of the 10 s interval grpc-go clients may use at the least
	// (greeter-client does), so delays in delivering pings can never make a
	// well-behaved client look abusive, while a ping flood is still cut off.
	KeepaliveMinTime = 5 * time.Second
	// KeepaliveTime is how long the server waits without hearing from a
	// client before it pings the client. A client that vanished without a
	// word (power lost, partitioned) would otherwise hold its connection,
	// its open streams and their goroutines until grpc-go's default of two
	// hours. One ping every 30 s on an idle connection costs nothing.
	KeepaliveTime = 30 * time.Second
	// KeepaliveTimeout is how long that ping may go unanswered before the
	// connection is closed and its calls are cancelled. It is also the
	// socket's TCP_USER_TIMEOUT on every listener (set by capListener, since
	// grpc-go can only set it on the unwrapped connections it never sees
	// here), so a response
	// that stays unacknowledged this long closes the connection too. With
	// KeepaliveTime, a dead client is let go within 40 s on the gRPC listener.
	// trim:http begin
	// So it is on HTTP/2 connections to the HTTP listener; an idle HTTP/1.1
	// connection has no pings, and IdleTimeout (MaxConnectionIdle) or the
	// kernel's TCP keepalive ends it.
	// trim:http end
	// 10 s is far longer
	// than any round trip, so a slow but live client is never cut off.
	KeepaliveTimeout = 10 * time.Second
	// MaxConnectionIdle closes connections with no open calls for this long,
	// on every listener.
	MaxConnectionIdle = 15 * time.Minute
	// MaxConnectionAge asks clients of the gRPC listener to reconnect after
	// this long, so load spreads over new server instances.
	// trim:http begin
	// net/http has no such limit; on the HTTP listener, a health Watch
	// stream instead ends (UNAVAILABLE) after MaxConnectionAge plus its
	// grace, the longest it can live on the gRPC listener.
	// trim:http end
	MaxConnectionAge = 30 * time.Minute
	// MaxConnectionAgeGrace lets open calls on an aged connection finish
	// before it is closed: enough for the longest SayHelloStream (100
	// greetings 10 s apart).
	MaxConnectionAgeGrace = 20 * time.Minute
)

// Limits are the limits a server is built with. The zero value of a field
// means the constant of the same name above: what greeter-server runs with.
// Tests shorten them, each for its own server, so that tests which start
// servers can run in parallel.
type Limits struct {
	KeepaliveTime, KeepaliveTimeout     time.Duration
	ConnectionTimeout                   time.Duration
	MaxConnectionIdle, MaxConnectionAge time.Duration
	MaxConnectionAgeGrace               time.Duration
	MaxUnaryDuration, MaxStreamDuration time.Duration
	MaxConnections                      int
	TLSReloadInterval                   time.Duration
}

// withDefaults returns l with every zero field set to its constant.
func (l Limits) withDefaults() Limits {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&l.KeepaliveTime, KeepaliveTime}, {&l.KeepaliveTimeout, KeepaliveTimeout},
		{&l.ConnectionTimeout, ConnectionTimeout},
		{&l.MaxConnectionIdle, MaxConnectionIdle}, {&l.MaxConnectionAge, MaxConnectionAge},
		{&l.MaxConnectionAgeGrace, MaxConnectionAgeGrace},
		{&l.MaxUnaryDuration, MaxUnaryDuration}, {&l.MaxStreamDuration, MaxStreamDuration},
		{&l.TLSReloadInterval, TLSReloadInterval},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = MaxConnections
	}
	return l
}

// Services returns the names of the gRPC services greeter-server serves,
// besides health and reflection. Health reports a status for each of them
// and, for the server as a whole, for "".
func Services() []string {
	return []string{
		greeterv1.GreeterService_ServiceDesc.ServiceName,
		helloworld.Greeter_ServiceDesc.ServiceName, // trim:helloworld
	}
}

// Config holds what New and Run need to serve.
type Config struct {
	// Addr is the TCP address of the gRPC listener, such as
	// "localhost:50051": native gRPC only.
	Addr string
	// trim:http begin
	// HTTPAddr is the TCP address of the HTTP listener, such as
	// "localhost:8080": Connect, gRPC-Web, native gRPC, the page and
	// /healthz over HTTP/1.1 and HTTP/2 (see web.go). Empty turns it off.
	HTTPAddr string
	// trim:http end
	// TLS holds the certificate files; the zero value serves plaintext.
	TLS TLSFiles
	// MetricsAddr, if set, is the TCP address of the Prometheus /metrics
	// endpoint; metrics are recorded only then.
	MetricsAddr string
	// ShutdownTimeout bounds graceful shutdown: whatever is still open this
	// long after it starts, unary calls included, is cut.
	ShutdownTimeout time.Duration
	// StreamGrace is how long open streams may keep running after shutdown
	// starts before they are told to finish (they then end with
	// Unavailable); unary calls are not told. Run refuses a StreamGrace
	// longer than ShutdownTimeout; an equal one tells streams to finish at
	// the moment they are cut, so it should be shorter.
	StreamGrace time.Duration
	// Logger receives the server's start and stop lines and the access log.
	// Nil discards them.
	Logger *slog.Logger
	// Version is logged in the start line.
	Version string
	// DisableReflection leaves out the server reflection service, for
	// deployments that do not publish their schema. Clients then need the
	// proto files (grpcurl -proto, buf curl --schema) to call by name.
	DisableReflection bool
	// trim:tracing begin
	// Tracing, if not nil, traces every call but health checks (see
	// package telemetry) and adds trace ids to metrics as exemplars. Run
	// flushes it when it shuts down. Nil, the default, traces nothing.
	Tracing *telemetry.Tracing
	// trim:tracing end
	// AdminAddr, if set, is the TCP address of the admin listener: pprof
	// and channelz, for live debugging (see startAdmin). Never the public
	// port.
	AdminAddr string
	// Auth says who may call: bearer tokens from an OIDC issuer, and an
	// authorization policy (see package auth). The zero value lets every
	// caller call every method. Client certificates (TLS.ClientCA)
	// authenticate callers whether or not it is set.
	Auth AuthConfig
	// Limits shortens the server's limits; the zero value is
	// greeter-server's (the constants above). For tests.
	Limits Limits
	// trim:http begin
	// CORSOrigins are the origins ("https://app.example.com") whose pages
	// may call the API over Connect and gRPC-Web; none by default.
	CORSOrigins []string
	// trim:http end
}

// AuthConfig is the part of auth.Config that comes from flags.
type AuthConfig struct {
	// OIDCIssuer and OIDCAudience: a call must carry a bearer token from
	// this issuer for this audience (or a client certificate).
	OIDCIssuer, OIDCAudience string
	// PolicyFile is a gRPC authorization policy, reloaded when it changes.
	PolicyFile string
}

// errDraining ends the streams still open when the stream grace period of a
// shutdown is over.
var errDraining = status.Error(codes.Unavailable, "server is shutting down; retry the call")

// tooLong is the status of a call that reached its limit, MaxUnaryDuration
// or MaxStreamDuration.
func tooLong(limit time.Duration) error {
	return status.Errorf(codes.DeadlineExceeded, "the call was open longer than the server allows (%v); set a shorter deadline or open a new call", limit)
}

// healthWatch is the one method MaxStreamDuration does not bound.
const healthWatch = "/grpc.health.v1.Health/Watch"

// Server is greeter-server: the servers of its listeners.
type Server struct {
	grpc *grpc.Server
	// trim:http begin
	// webGRPC and web serve the HTTP listener; see web.go.
	webGRPC *grpc.Server
	web     *http.Server
	// trim:http end
	health    *health.Server
	metrics   *observe.Metrics
	drain     context.Context
	stopDrain context.CancelCauseFunc
	logger    *slog.Logger
	// tlsReload keeps the TLS files current; nil for plaintext. Shutdown
	// stops it.
	tlsReload *tlsReloader
	// tapLimits holds, by full method name, the longest life callContext
	// gives a call: unary and server-streaming methods, whose handlers
	// first wait for the one request. New fills it in; it is only read
	// afterwards.
	tapLimits map[string]callLimit
	// watchLimit is the life of a health Watch stream on the HTTP
	// listener (see httpLimits).
	watchLimit callLimit // trim:http
	// streamTooLong is the cause of client-streaming calls that reach
	// MaxStreamDuration.
	streamTooLong error
	// lim are the limits the server was built with (Config.Limits, with
	// the defaults filled in).
	lim Limits
	// guard authenticates and authorizes calls (auth.go); nil when
	// Config.Auth and client certificates are off, and every call is let
	// through.
	guard *auth.Guard
}

// New returns a server with the Greeter services (Services), health and reflection
// (unless cfg.DisableReflection) registered, the limits above, a protobuf codec that lets names which are
// not valid UTF-8 reach the name rule (see utf8Codec), and these
// interceptors: metrics (if
// cfg.MetricsAddr is set), panic recovery with the access log, and, for
// streams, the shutdown signal.
func New(cfg Config) (*Server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tlsFiles := cfg.TLS
	tlsFiles.clientCertOptional = cfg.Auth.OIDCIssuer != ""
	lim := cfg.Limits.withDefaults()
	tlsReload, err := tlsFiles.reloader(logger, lim.TLSReloadInterval)
	if err != nil {
		return nil, err
	}
	s := &Server{
		health:    health.NewServer(),
		logger:    logger,
		tlsReload: tlsReload,
		lim:       lim,
		tapLimits: map[string]callLimit{},
		// trim:http begin
		watchLimit: callLimit{lim.MaxConnectionAge + lim.MaxConnectionAgeGrace, status.Errorf(codes.Unavailable,
			"the health watch was open for the longest the server allows (%v); watch again", lim.MaxConnectionAge+lim.MaxConnectionAgeGrace)},
		// trim:http end
		streamTooLong: tooLong(lim.MaxStreamDuration),
	}
	s.drain, s.stopDrain = context.WithCancelCause(context.Background())
	authCfg := auth.Config{
		Issuer: cfg.Auth.OIDCIssuer, Audience: cfg.Auth.OIDCAudience, PolicyFile: cfg.Auth.PolicyFile,
		ClientCerts: cfg.TLS.ClientCA != "", Logger: logger,
	}
	if authCfg.Enabled() {
		if s.guard, err = auth.New(authCfg); err != nil {
			tlsReload.close()
			return nil, err
		}
	}

	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	if cfg.MetricsAddr != "" {
		s.metrics = observe.NewMetrics()
		// trim:tracing begin
		if cfg.Tracing != nil {
			s.metrics.TraceExemplars()
		}
		// trim:tracing end
		if s.guard != nil {
			s.metrics.Register(s.guard.Collector())
		}
		if tlsReload != nil {
			s.metrics.Register(tlsReload.expiryGauge())
		}
		unary = append(unary, s.metrics.UnaryInterceptor())
		stream = append(stream, s.metrics.StreamInterceptor())
	}
	unary = append(unary, observe.Unary(logger))
	stream = append(stream, observe.Stream(logger), s.drainStream)
	unary = append(unary, s.limitUnary)

	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(newUTF8Codec()),
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.MaxHeaderListSize(MaxHeaderListSize),
		grpc.ConnectionTimeout(lim.ConnectionTimeout),
		grpc.InTapHandle(s.callContext),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:                  lim.KeepaliveTime,
			Timeout:               lim.KeepaliveTimeout,
			MaxConnectionIdle:     lim.MaxConnectionIdle,
			MaxConnectionAge:      lim.MaxConnectionAge,
			MaxConnectionAgeGrace: lim.MaxConnectionAgeGrace,
		}),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}
	// trim:tracing begin
	if cfg.Tracing != nil {
		opts = append(opts, cfg.Tracing.ServerOption())
	}
	// trim:tracing end
	// grpc.Server.ServeHTTP takes TLS from the http.Server in front of it. // trim:http
	s.webGRPC = grpc.NewServer(opts...) // trim:http
	if tlsReload != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsReload.grpcConfig())))
	}
	s.grpc = grpc.NewServer(opts...)
	for _, g := range []*grpc.Server{
		s.grpc,
		s.webGRPC, // trim:http
	} {
		greeterv1.RegisterGreeterServiceServer(g, service.NewGreeterV1())
		helloworld.RegisterGreeterServer(g, service.NewHelloworld()) // trim:helloworld
		healthpb.RegisterHealthServer(g, s.health)
		if !cfg.DisableReflection {
			reflection.Register(g)
		}
	}
	// trim:http begin
	if s.web, err = s.newWebServer(s.webGRPC, cfg.CORSOrigins, tlsReload.httpConfig()); err != nil {
		s.close()
		return nil, err
	}
	// trim:http end
	for _, name := range Services() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if s.metrics != nil {
		s.metrics.Initialize(s.grpc)
		s.metrics.Initialize(s.webGRPC) // trim:http
	}
	for name, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			switch full := "/" + name + "/" + m.Name; {
			case full == healthWatch || m.IsClientStream:
			case m.IsServerStream:
				s.tapLimits[full] = callLimit{lim.MaxStreamDuration, s.streamTooLong}
			default:
				s.tapLimits[full] = callLimit{lim.MaxUnaryDuration, tooLong(lim.MaxUnaryDuration)}
			}
		}
	}
	return s, nil
}

// callContext is grpc-go's tap handle: it runs for every call before the
// request is read, and the context it returns is the call's own, the one a
// blocked read watches. It refuses callers the guard refuses (see auth.go),
// and bounds the life of unary and server-streaming
// calls (MaxUnaryDuration, MaxStreamDuration), also while the server still
// waits for their request, which no interceptor can: grpc-go then answers
// DEADLINE_EXCEEDED. Client-streaming calls are bounded by drainStream,
// which can say why. A client deadline that comes sooner does the job
// already, and then no timer is made. It runs on the connection's reading
// goroutine, so it does no more than build a context.
func (s *Server) callContext(ctx context.Context, info *tap.Info) (context.Context, error) {
	if s.guard != nil {
		var err error
		if ctx, err = s.authTap(ctx, info); err != nil {
			return nil, err
		}
	}
	limit, ok := s.tapLimits[info.FullMethodName]
	if !ok || endsWithin(ctx, limit.after) {
		return ctx, nil
	}
	ctx, stop := context.WithTimeoutCause(ctx, limit.after, limit.cause)
	// grpc-go cancels the call's context, this one's parent, when the call
	// ends, and that stops the timer: stop is not needed.
	_ = stop
	return ctx, nil
}

// callLimit is how long a call may live, and the status it ends with then.
type callLimit struct {
	after time.Duration
	cause error
}

// endsWithin reports whether ctx has a deadline at most d away.
func endsWithin(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= d
}

// drainStream runs every streaming call, whatever its method, with a context
// that ends when Shutdown tells open streams to finish (cause errDraining),
// and ends the call with that status, whatever the handler returned. A
// client-streaming call also gets a RecvMsg that returns as soon as that
// context ends, so that a handler blocked waiting for the client's next
// message sees it too, and its life is bounded here by MaxStreamDuration
// (the others are bounded by callContext).
func (s *Server) drainStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	callCtx, err := s.authPending(ss.Context())
	if err != nil {
		return err
	}
	ctx, finish := context.WithCancelCause(callCtx)
	defer finish(nil)
	stop := context.AfterFunc(s.drain, func() { finish(context.Cause(s.drain)) })
	defer stop()
	if !info.IsClientStream {
		return callStatus(ctx, handler(srv, &drainingStream{ServerStream: ss, ctx: ctx}))
	}
	if !endsWithin(ctx, s.lim.MaxStreamDuration) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, s.lim.MaxStreamDuration, s.streamTooLong)
		defer cancel()
	}
	rs := &receivingStream{drainingStream: drainingStream{ServerStream: ss, ctx: ctx}, done: make(chan struct{})}
	defer close(rs.done)
	return callStatus(ctx, handler(srv, rs))
}

// drainingStream is a ServerStream whose Context is ctx.
type drainingStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (d *drainingStream) Context() context.Context { return d.ctx }

// receivingStream is a drainingStream whose RecvMsg returns when ctx ends,
// even while grpc-go's own RecvMsg, which watches only the client's side of
// the call, still waits for the client's next message. A stream that waits
// for a message has one goroutine doing grpc-go's RecvMsg, started with its
// first and kept for the stream's life (stopped by done), fed the messages
// to receive into one at a time: no goroutine or channel is made per
// message. grpc-go's RecvMsg cannot be interrupted any other way: ending the
// context it watches would make it send its own status (CANCELLED) before
// the handler's.
type receivingStream struct {
	drainingStream
	into chan any   // the next message to receive into
	got  chan error // what grpc-go's RecvMsg returned
	done chan struct{}
}

// RecvMsg receives the client's next message into m, or returns the
// stream's status (callStatus) as soon as ctx ends. Once it has returned
// that way, the handler returns and the stream ends; the receiver may still
// decode a late message into m, which is never looked at.
func (d *receivingStream) RecvMsg(m any) error {
	if d.ctx.Err() != nil {
		return callStatus(d.ctx, d.ctx.Err())
	}
	if d.into == nil {
		d.into, d.got = make(chan any), make(chan error, 1)
		go d.receive()
	}
	select {
	case d.into <- m:
	case <-d.ctx.Done():
		return callStatus(d.ctx, d.ctx.Err())
	}
	select {
	case err := <-d.got:
		return err
	case <-d.ctx.Done():
		return callStatus(d.ctx, d.ctx.Err())
	}
}

// receive does grpc-go's RecvMsg for each message RecvMsg hands it, until
// the handler has returned (done). A RecvMsg it is blocked in then returns
// too, as grpc-go ends the stream.
func (d *receivingStream) receive() {
	for {
		select {
		case m := <-d.into:
			d.got <- d.ServerStream.RecvMsg(m)
		case <-d.done:
			return
		}
	}
}

// limitUnary returns the status that ended a unary call, as drainStream
// does for streams. Both first decide a call whose authentication waits
// for the issuer's keys (authPending).
func (s *Server) limitUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authPending(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	return resp, callStatus(ctx, err)
}

// callStatus returns err, or, when the call's context ended with a status
// as its cause (the server's own reasons: draining, a limit reached), that
// status.
func callStatus(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if st, ok := status.FromError(context.Cause(ctx)); ok {
		return st.Err()
	}
	return err
}

// Serve serves the gRPC listener: native gRPC on lis, with TLS if the
// server has it, until Shutdown. It returns nil once the server has stopped.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
	}
	return nil
}

// MetricsHandler serves the server's Prometheus metrics, or is nil when
// metrics are off.
func (s *Server) MetricsHandler() http.Handler {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.Handler()
}

// Shutdown stops the server in order: health reports NOT_SERVING, the
// listeners close and no new calls are accepted, in-flight unary calls
// finish; streams still open after streamGrace are told to finish (their
// contexts end and they return Unavailable); whatever is left after timeout
// is cut. It reports whether it had to cut calls. Once the server has
// stopped, it stops re-reading the TLS files.
func (s *Server) Shutdown(timeout, streamGrace time.Duration) (forced bool) {
	defer s.close()
	s.health.Shutdown()
	stopped := make(chan struct{})
	webCtx, cutWeb := context.WithCancel(context.Background()) // trim:http
	defer cutWeb()                                             // trim:http
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { s.shutdownWeb(webCtx) }) // trim:http
		wg.Go(s.grpc.GracefulStop)
		wg.Wait()
		close(stopped)
	}()
	defer s.stopDrain(nil)
	grace := time.NewTimer(streamGrace)
	defer grace.Stop()
	hard := time.NewTimer(timeout)
	defer hard.Stop()
	for {
		select {
		case <-stopped:
			return false
		case <-grace.C:
			s.logger.Info("telling open streams to finish")
			s.stopDrain(errDraining)
		case <-hard.C:
			// Tell streams to finish first (a no-op if they were told at
			// streamGrace) so that, when the two timers fire together, they
			// still end with Unavailable wherever they can.
			s.stopDrain(errDraining)
			cutWeb() // trim:http
			s.grpc.Stop()
			<-stopped
			return true
		}
	}
}

// Addrs are the addresses Run listens on.
type Addrs struct {
	// GRPC is the gRPC listener's address.
	GRPC net.Addr
	// HTTP is the HTTP listener's address, or nil if it is off. // trim:http
	HTTP net.Addr // trim:http
	// Metrics is the metrics listener's address, or nil if it is off.
	Metrics net.Addr
}

// Run listens on cfg.Addr (and cfg.MetricsAddr and cfg.AdminAddr, if set)
// and serves until ctx is done, then shuts down as Shutdown describes and
// returns. If ready is not nil, Run sends the listening addresses on it once
// it is serving.
// It listens on cfg.HTTPAddr too, unless that is empty. // trim:http
func Run(ctx context.Context, cfg Config, ready chan<- Addrs) error {
	if cfg.StreamGrace > cfg.ShutdownTimeout {
		return fmt.Errorf("--stream-grace (%v) must not be longer than --shutdown-timeout (%v): streams would be cut before they are told to finish", cfg.StreamGrace, cfg.ShutdownTimeout)
	}
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	// Shutdown stops it too; this is for the returns before serving.
	defer srv.close()
	logger := srv.logger
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// trim:http begin
	var hlis net.Listener
	if cfg.HTTPAddr != "" {
		if hlis, err = lc.Listen(ctx, "tcp", cfg.HTTPAddr); err != nil {
			lis.Close()
			return fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPAddr, err)
		}
	}
	// trim:http end
	closeListeners := func() {
		lis.Close()
		// trim:http begin
		if hlis != nil {
			hlis.Close()
		}
		// trim:http end
	}
	var metricsSrv *http.Server
	var metricsAddr net.Addr
	if cfg.MetricsAddr != "" {
		mlis, err := lc.Listen(ctx, "tcp", cfg.MetricsAddr)
		if err != nil {
			closeListeners()
			return fmt.Errorf("listen for metrics on %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		metricsAddr = mlis.Addr()
		go func() { _ = metricsSrv.Serve(mlis) }()
		logger.Info("metrics listening", "addr", mlis.Addr().String(), "path", "/metrics")
	}
	stopAdmin, err := startAdmin(ctx, cfg.AdminAddr, logger)
	if err != nil {
		closeListeners()
		closeMetrics(metricsSrv)
		return err
	}
	defer stopAdmin()

	addrs := Addrs{GRPC: lis.Addr(), Metrics: metricsAddr}
	start := []any{"addr", lis.Addr().String()}
	// trim:http begin
	if hlis != nil {
		addrs.HTTP = hlis.Addr()
		start = append(start, "http_addr", hlis.Addr().String(), "page", pageURL(cfg.HTTPAddr, hlis.Addr(), cfg.TLS.mode() != "off"))
	} else {
		start = append(start, "http_addr", "off")
	}
	// trim:http end
	start = append(start, "tls", cfg.TLS.mode())
	if srv.guard != nil {
		authn, policy := srv.guard.Describe()
		start = append(start, "auth", authn)
		if policy != "" {
			start = append(start, "policy", policy)
		}
	}
	logger.Info("greeter-server listening", append(start, "version", cfg.Version)...)
	for _, a := range []net.Addr{
		addrs.GRPC,
		addrs.HTTP, // trim:http
	} {
		if a != nil && cfg.TLS.mode() == "off" && !isLoopback(a) {
			logger.Warn("serving plaintext on a non-loopback address; anyone on the network can read and alter calls; set --tls-cert and --tls-key", "addr", a.String())
		}
	}
	// Every listener reports here; the first to fail ends the server.
	serveErr := make(chan error, 2)
	serving := 1
	conns := newConnLimit(srv.lim.MaxConnections, logger) // one cap for every listener
	go func() { serveErr <- srv.Serve(newCapListener(lis, "grpc", conns, srv.lim.KeepaliveTimeout, logger)) }()
	// trim:http begin
	if hlis != nil {
		serving++
		go func() {
			serveErr <- srv.ServeWeb(newCapListener(hlis, "http", conns, srv.lim.KeepaliveTimeout, logger))
		}()
	}
	// trim:http end
	if ready != nil {
		ready <- addrs
	}

	select {
	case err := <-serveErr:
		srv.Shutdown(0, 0)
		closeMetrics(metricsSrv)
		flushTraces(cfg.Tracing, 0, logger) // trim:tracing
		for range serving - 1 {
			err = errors.Join(err, <-serveErr)
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("greeter-server shutting down", "timeout", cfg.ShutdownTimeout, "stream_grace", cfg.StreamGrace)
	shutdownStart := time.Now() // trim:tracing
	if srv.Shutdown(cfg.ShutdownTimeout, cfg.StreamGrace) {
		logger.Warn("graceful shutdown timed out; open calls were cut")
	}
	closeMetrics(metricsSrv)
	flushTraces(cfg.Tracing, cfg.ShutdownTimeout-time.Since(shutdownStart), logger) // trim:tracing
	var errs []error
	for range serving {
		errs = append(errs, <-serveErr)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logger.Info("greeter-server stopped")
	return nil
}

// close stops re-reading the TLS files and the policy file.
func (s *Server) close() {
	s.tlsReload.close()
	if s.guard != nil {
		s.guard.Close()
	}
}

func closeMetrics(srv *http.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// trim:http begin

// pageURL is the URL of the greeting page, for the start line: https with
// TLS, the port the HTTP listener got (addr), and the host it was asked to
// listen on (listen, --http-addr) when that is a name, so that the URL
// matches a certificate issued for the name ("localhost:8443" gives
// https://localhost:8443/, not https://127.0.0.1:8443/). Otherwise it is
// the address listened on, where an unspecified one (":8080",
// "0.0.0.0:8080") is reached as localhost.
func pageURL(listen string, addr net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	_, port, _ := net.SplitHostPort(addr.String())
	host := "localhost"
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	if name, _, err := net.SplitHostPort(listen); err == nil && name != "" {
		if _, err := netip.ParseAddr(name); err != nil {
			host = name
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// trim:http end

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
