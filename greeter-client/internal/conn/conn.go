// Package conn turns greeter-client's global flags into what every command
// shares: a gRPC client connection, opened lazily the first time a command
// needs one, the metadata, bearer token and deadline of each call, and the
// output settings.
package conn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	// Registers the client side of grpc.health.v1 checking that
	// ServiceConfig's healthCheckConfig turns on.
	_ "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	// Registers gzip with grpc-go for --compress, here where connections
	// are built, rather than relying on another import to do it.
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/bearer"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
)

// Options are the global settings shared by every command.
type Options struct {
	// Addr is any gRPC target, such as "localhost:50051" or "dns:///host:port".
	Addr string
	// Timeout is the deadline of every call.
	Timeout time.Duration
	// ConnectTimeout bounds the wait for a connection.
	ConnectTimeout time.Duration

	// TLS turns on TLS; CA, Cert, Key and ServerName imply it.
	TLS        bool
	CA         string
	Cert, Key  string
	ServerName string

	// Headers are "key=value" metadata sent with every call.
	Headers []string

	// TokenFile names a file holding a bearer token, sent with every call
	// as "authorization: Bearer TOKEN" and read again when the file
	// changes (see TokenRecheck).
	TokenFile string
	// Token is a bearer token sent with every call. greeter-client takes it
	// from GREETER_CLIENT_TOKEN only, never from a flag, so that it does not
	// show in the process list. At most one of Token and TokenFile is set.
	Token string
	// InsecureToken allows sending the token without TLS to an address that
	// is not loopback; see CheckToken.
	InsecureToken bool

	// API names the API to call, as package greeter knows them: one of
	// greeter.APIs().
	API string
	// Output is "text" or "json".
	Output string
	// Verbose prints headers, trailers, status and timing on stderr.
	Verbose bool
	// Compress names the compressor of every request: "" (none) or
	// "gzip". The server answers compressed in kind.
	Compress string
}

// Compressors are the values Options.Compress may take besides "".
var Compressors = []string{gzip.Name}

// ServiceConfig is the gRPC service configuration of every connection, unless
// the name resolver supplies its own (a DNS TXT record, for example):
//
//   - round_robin balances calls over every address the target resolves to,
//     so "dns:///greeter.prod.svc.cluster.local:50051" (a Kubernetes headless
//     Service) spreads load over all replicas and follows them as they come
//     and go;
//   - health checking (grpc.health.v1, the server's overall status) takes a
//     replica out of the rotation while it reports NOT_SERVING, such as when
//     it drains before shutting down; servers without the health service are
//     treated as healthy;
//   - calls that fail with UNAVAILABLE, such as one sent to a replica that
//     has just gone away or whose connection was found dead (see
//     KeepaliveTimeout), are retried up to three more times, with
//     exponential backoff; round_robin sends the retry to a replica that is
//     still ready;
//   - retries are throttled (retryThrottling, gRFC A6), so that a fleet
//     that fails most calls is not sent up to four times its load. Each
//     connection (a grpc.ClientConn, all its replicas together) keeps a
//     budget of tokens, full at maxTokens (100): every attempt that fails
//     with a retryable code costs one token, every call that succeeds
//     earns tokenRatio (1), and no call is retried while half the tokens
//     or more are spent.
//
// The throttle's values. tokenRatio 1: a success earns back what a failure
// costs, so retries stay on while at least about half the attempts succeed,
// such as while one replica in three answers every call with UNAVAILABLE
// (its calls are retried on the others), and stop when more fail: then the
// fleet, not a replica, is failing, and retries would only add load. Below
// that point they add at most about 0.9 times the load (1/2 + 1/4 + 1/8 at
// half failing), where they added up to 3 times; when every attempt fails,
// as when the whole fleet refuses, a connection retries after its first 49
// failed attempts and then tries each call once. (gRFC A6's example, 0.1,
// would stop retrying at about one failed attempt in eleven: one refusing
// replica of three would then fail a quarter of all calls.) maxTokens 100:
// the burst of failures retried in full. A replica's connection that dies,
// silent or reset, fails every call in flight on it at once, and up to 49 of
// them are all retried; bench in the fleet test keeps 16 calls in flight,
// and bench gives each of its --connections a budget of its own. After an
// outage, 50 successful calls turn retries back on.
//
// Retrying is only safe for a method that may run twice: a call whose
// connection died may have reached the server, and the retry runs it again.
// The retry policy therefore names each method it covers, never a whole
// service, so a method added later is not retried until someone has decided
// it may be. Every method named here is safe to repeat: a greeting reads its
// request and changes nothing on the server. A streaming call is retried only
// until its first response arrives (grpc-go then commits to the attempt),
// and a retried chat resends the messages already sent.
const ServiceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "healthCheckConfig": {"serviceName": ""},
  "retryThrottling": {"maxTokens": 100, "tokenRatio": 1},
  "methodConfig": [{
    "name": [
      {"service": "helloworld.Greeter", "method": "SayHello"},
      {"service": "helloworld.Greeter", "method": "SayHelloAgain"},
      {"service": "helloworld.Greeter", "method": "SayHelloStreamReply"},
      {"service": "helloworld.Greeter", "method": "SayHelloBidiStream"},
      {"service": "greeter.v1.GreeterService", "method": "SayHello"},
      {"service": "greeter.v1.GreeterService", "method": "SayHelloAgain"},
      {"service": "greeter.v1.GreeterService", "method": "SayHelloStream"},
      {"service": "greeter.v1.GreeterService", "method": "SayHelloGroup"},
      {"service": "greeter.v1.GreeterService", "method": "SayHelloChat"}
    ],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.05s",
      "maxBackoff": "1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// How a connection notices that its server has gone silent: a host that lost
// power, a partition, a NAT that dropped its state. No TCP reset arrives in
// any of these, and without these settings the connection would look alive
// for many minutes while every call sent on it waits for its deadline.
//
// Which setting does what when a replica goes silent:
//
//   - Calls in flight on it: TCP_USER_TIMEOUT. grpc-go sets KeepaliveTimeout
//     as the socket's TCP_USER_TIMEOUT whenever keepalive is on, so a
//     request the server's host has not acknowledged within 2 s closes the
//     connection; its calls fail with UNAVAILABLE, the retry policy (see
//     ServiceConfig) resends them, and round_robin sends them, and every
//     new call, to the replicas still connected. This is the whole of the
//     fleet test's "a silent replica costs a call at most about 2.3 s".
//     Pings play no part in it: grpc-go pings only after KeepaliveTime
//     without reading anything, and a connection that carries calls reads
//     their responses all the time.
//   - A quiet connection with a stream open (the health-check Watch that
//     ServiceConfig opens on every connection to a server with a health
//     service, or a stream with nothing to say): a ping after
//     KeepaliveTime of silence, unanswered for KeepaliveTimeout, so a
//     stream that waits for a server gone silent learns it within 5 min 2 s
//     (it was 12 s with pings every 10 s). Anything sent meanwhile, a call
//     or a message on the stream, falls under TCP_USER_TIMEOUT as above.
//   - A connection with no stream at all (a server without a health
//     service, between calls): no ping until a call starts. grpc-go then
//     pings at once if the connection has been quiet for KeepaliveTime, and
//     the call's own request is under TCP_USER_TIMEOUT: a dead connection
//     costs that call 2 s and a retry.
//   - The replica's return: reconnection attempts, at most ReconnectMaxDelay
//     apart.
//
// Health checking does not notice: a silent server sends no NOT_SERVING (its
// Watch only gives keepalive a stream to ping on). Nor does the call
// deadline: it ends the call that reaches it, and DEADLINE_EXCEEDED is
// never retried.
//
// Pings are kept within what servers allow by default. grpc-go's servers,
// and gRPC C-core's (Python, C++), unless configured otherwise, count as a
// strike every ping that comes less than 5 minutes after the previous one
// while a stream is open, and less than 2 hours after it while none is
// (EnforcementPolicy MinTime 5m, PermitWithoutStream false); the third
// strike in a row earns GOAWAY ENHANCE_YOUR_CALM "too_many_pings", which
// closes the connection and fails every stream on it. Strikes only reset
// when the server sends headers or data, so a quiet stream (the health
// Watch above) is exactly where frequent pings add up: with pings every
// 10 s such a server closes the connection within a minute
// (TestKeepaliveWithinDefaultPolicy checks it).
// greeter-client/test/keepalive_default_test.go shows it with real servers. // trim:helloworld
const (
	// KeepaliveTime is how long a connection with a stream open may hear
	// nothing from its server before it sends an HTTP/2 PING: 5 minutes,
	// the shortest interval a server with gRPC's default enforcement
	// accepts. grpc-go pings KeepaliveTime after the last frame it read,
	// the previous ping's acknowledgement included, so pings reach the
	// server at least KeepaliveTime apart however the network delays them.
	// Keepalive stays on, although pings are rare, because that is what
	// makes grpc-go set TCP_USER_TIMEOUT. (A NAT or load balancer that
	// drops flows idle for less than 5 minutes, such as Azure Load
	// Balancer's 4 by default, is not kept open by it; the next call there
	// costs KeepaliveTimeout and a retry, unless it answers with a reset.)
	KeepaliveTime = 5 * time.Minute
	// KeepalivePermitWithoutStream is false: a connection with no stream
	// open never pings, since a server with the default policy counts any
	// such ping within 2 hours of the last one as a strike. The first call
	// on such a connection checks it instead (see above).
	KeepalivePermitWithoutStream = false
	// KeepaliveTimeout is how long a PING may go unanswered before the
	// connection is closed, and, set by grpc-go as the socket's
	// TCP_USER_TIMEOUT, how long data sent may go unacknowledged: the time
	// after which the calls open on a silent server fail with UNAVAILABLE
	// and are retried on another replica, well within the default 10 s
	// deadline.
	//
	// It is a trade-off, set for a client near its servers (a data centre,
	// a region). Linux retransmits an unacknowledged segment after about
	// RTT + 200 ms, then after twice that, and so on; within 2 s that is 3
	// retransmissions on a LAN (at 0.2, 0.6, 1.4 s), 2 on a 150 ms path
	// (0.35, 1.05 s) and 1 on a 600 ms one (0.8 s). So 2 s without an
	// acknowledgement means a dead server nearby, but only a few losses in
	// a row on a lossy long-distance or mobile link, where it closes live
	// connections: their unary calls are retried, their streams fail. A
	// client far from its servers should set 10 to 20 s (gRPC's default is
	// 20 s) and accept that a silent replica then costs a call that long,
	// with deadlines longer than that plus a retry: nothing else moves
	// calls off a silent replica (with 20 s, the fleet test's calls wait
	// out a 6 s outage on it).
	KeepaliveTimeout = 2 * time.Second
	// ReconnectMaxDelay caps the backoff between attempts to reconnect to a
	// replica. grpc-go's default, 120 s, could leave a replica that has come
	// back without calls for two minutes. An attempt on an address that does
	// not answer lasts 20 s (MinConnectTimeout), with SYNs at 0, 1, 3, 7 and
	// 15 s; with this cap the longest stretch without a SYN is the 5 s after
	// the last one plus at most 6 s of backoff (5 s and 20% jitter), so a
	// replica that comes back gets calls again within about 11 s. While a
	// replica is down, each client tries it about every 25 s if it is silent,
	// and every 5 s if it refuses.
	ReconnectMaxDelay = 5 * time.Second
)

// KeepaliveParams returns the keepalive settings of every connection:
// KeepaliveTime, KeepaliveTimeout and KeepalivePermitWithoutStream.
func KeepaliveParams() keepalive.ClientParameters {
	return keepalive.ClientParameters{
		Time:                KeepaliveTime,
		Timeout:             KeepaliveTimeout,
		PermitWithoutStream: KeepalivePermitWithoutStream,
	}
}

// TokenRecheck is how often, at most, a call looks at --token-file for a
// new token: one os.Stat per second costs nothing, even under bench, and
// the kubelet replaces a projected service-account token long before it
// expires (at 80% of its lifetime), so a second's delay never sends an
// expired token.
const TokenRecheck = time.Second

// reconnectBackoff is grpc-go's default connection backoff with its maximum
// lowered to ReconnectMaxDelay.
var reconnectBackoff = func() backoff.Config {
	c := backoff.DefaultConfig
	c.MaxDelay = ReconnectMaxDelay
	return c
}()

// Factory builds connections from Options. It opens the shared connection
// on first use and closes it once.
type Factory struct {
	Options Options
	// DisableHealthCheck turns off ServiceConfig's health checking. The
	// health command sets it: it asks for the status itself, and must reach
	// a server that reports NOT_SERVING to say so.
	DisableHealthCheck bool
	// DialOptions are added to every connection's options (tests add
	// their own dialers and stats handlers here).
	// Tracing (see package telemetry) sets its stats handler here. // trim:tracing
	DialOptions []grpc.DialOption
	// Warn, if not nil, is told of a problem that does not stop the
	// command: a --token-file that could not be read again, while the
	// calls keep the token read before.
	Warn func(error)

	once      sync.Once
	conn      *grpc.ClientConn
	err       error
	mu        sync.Mutex
	connected bool

	tokenOnce  sync.Once
	tokenCreds credentials.PerRPCCredentials
	tokenErr   error
}

// Conn returns the shared client connection, creating it on first use and
// waiting up to ConnectTimeout for it to connect.
func (f *Factory) Conn(ctx context.Context) (*grpc.ClientConn, error) {
	f.once.Do(func() { f.conn, f.err = f.NewConn(ctx) })
	return f.conn, f.err
}

// Connected reports whether a connection made by f ever became ready, which
// tells "the server is unreachable" from "the server said Unavailable".
func (f *Factory) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

// NewConn opens a new connection, not shared, and waits for it like Conn.
// bench uses it to spread load over several connections.
func (f *Factory) NewConn(ctx context.Context) (*grpc.ClientConn, error) {
	cc, err := f.newClient(f.DisableHealthCheck)
	if err != nil {
		return nil, err
	}
	if err := f.waitReady(ctx, cc); err != nil {
		cc.Close()
		return nil, err
	}
	return cc, nil
}

// newClient returns a connection to Addr, not yet connected, with
// ServiceConfig, with or without its health checking.
func (f *Factory) newClient(disableHealthCheck bool) (*grpc.ClientConn, error) {
	creds, err := f.credentials()
	if err != nil {
		return nil, err
	}
	tokenCreds, err := f.tokenCredentials()
	if err != nil {
		return nil, err
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(ServiceConfig),
		grpc.WithKeepaliveParams(KeepaliveParams()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           reconnectBackoff,
			MinConnectTimeout: 20 * time.Second, // grpc-go's default
		}),
	}
	if tokenCreds != nil {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(tokenCreds))
	}
	if disableHealthCheck {
		dialOpts = append(dialOpts, grpc.WithDisableHealthCheck())
	}
	if f.Options.Compress != "" {
		dialOpts = append(dialOpts, grpc.WithDefaultCallOptions(grpc.UseCompressor(f.Options.Compress)))
	}
	dialOpts = append(dialOpts, f.DialOptions...)
	cc, err := grpc.NewClient(f.Options.Addr, dialOpts...)
	if err != nil {
		return nil, exitcode.Usagef("bad --addr %q: %v", f.Options.Addr, err)
	}
	return cc, nil
}

// HealthCheckService is the service whose status ServiceConfig's health
// checking watches: "", the server's overall status.
const HealthCheckService = ""

// probeLead is the longest a health probe may take at the end of
// ConnectTimeout; see waitReady.
const probeLead = time.Second

// waitReady waits until cc is ready, or has failed to connect (the first
// call then fails fast and says why), or ConnectTimeout has passed.
//
// A connection whose server is up but reports NOT_SERVING never becomes
// ready either: health checking keeps every call off it (grpc-go puts the
// subchannel in TRANSIENT_FAILURE as soon as the server's Watch answers
// NOT_SERVING). To tell that from a server that cannot be reached,
// waitReady then asks the server itself (see probeHealth) and returns a
// *exitcode.NotServingError if it answers with a status other than
// SERVING. It asks when cc fails and, while cc is still connecting (a fleet
// with one silent replica and the others NOT_SERVING, say), probeLead
// before ConnectTimeout ends, so that an unreachable server is still
// reported after ConnectTimeout, not later.
func (f *Factory) waitReady(ctx context.Context, cc *grpc.ClientConn) error {
	timeout := f.Options.ConnectTimeout
	if timeout <= 0 {
		timeout = f.Options.Timeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	probe := func() error { return nil }
	if !f.DisableHealthCheck {
		probed := make(chan error, 1)
		lateProbe := time.AfterFunc(timeout-min(probeLead, timeout/2), func() { probed <- f.probeHealth(wctx) })
		defer lateProbe.Stop()
		probe = func() error {
			if lateProbe.Stop() {
				return f.probeHealth(wctx)
			}
			return <-probed // it ends by wctx's deadline at the latest
		}
	}
	cc.Connect()
	for {
		s := cc.GetState()
		switch s {
		case connectivity.Ready:
			f.mu.Lock()
			f.connected = true
			f.mu.Unlock()
			return nil
		case connectivity.TransientFailure:
			return probe()
		}
		if !cc.WaitForStateChange(wctx, s) {
			if ctx.Err() == context.Canceled {
				return ctx.Err()
			}
			if err := probe(); err != nil {
				return err
			}
			return &exitcode.ConnectError{Addr: f.Options.Addr, Err: fmt.Errorf("no connection within --connect-timeout %s", timeout)}
		}
	}
}

// probeHealth calls grpc.health.v1.Health/Check for HealthCheckService on
// a connection of its own, without health checking, so that it reaches a
// server that reports NOT_SERVING. It returns a *exitcode.NotServingError
// if the server answers with any status but SERVING, and nil otherwise: no
// answer (the server cannot be reached, or has no health service, which
// health checking counts as serving), or SERVING.
//
// A server that refuses the check as Unauthenticated or PermissionDenied
// refuses health checking's Watch too, which keeps every call off it; the
// refusal is returned as a *exitcode.CallError, so that the user reads the
// server's reason and what to check rather than "cannot connect".
func (f *Factory) probeHealth(ctx context.Context) error {
	cc, err := f.newClient(true)
	if err != nil {
		return nil
	}
	defer cc.Close()
	if md, err := f.Metadata(); err == nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: HealthCheckService})
	if code := status.Code(err); code == codes.Unauthenticated || code == codes.PermissionDenied {
		return &exitcode.CallError{Method: strings.TrimPrefix(healthpb.Health_Check_FullMethodName, "/"), Addr: f.Options.Addr, Err: err}
	}
	if err != nil || resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
		return nil
	}
	return &exitcode.NotServingError{Addr: f.Options.Addr, Status: resp.GetStatus().String()}
}

// UseTLS reports whether connections use TLS: --tls, or any flag that
// only TLS uses.
func (o *Options) UseTLS() bool {
	return o.TLS || o.CA != "" || o.Cert != "" || o.Key != "" || o.ServerName != ""
}

func (f *Factory) credentials() (credentials.TransportCredentials, error) {
	o := f.Options
	if !o.UseTLS() {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{ServerName: o.ServerName, MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("read --ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read --ca %s: no PEM certificate in it", o.CA)
		}
	}
	if (o.Cert == "") != (o.Key == "") {
		return nil, exitcode.Usagef("--cert and --key go together: give both for mutual TLS, or neither")
	}
	if o.Cert != "" {
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("load --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(cfg), nil
}

// HasToken reports whether a bearer token is sent with every call.
func (o *Options) HasToken() bool { return o.Token != "" || o.TokenFile != "" }

// CheckToken checks how the bearer token is given, before anything is read
// or sent. The token comes from one place only: TokenFile and Token together
// are a usage error, not a silent choice of one. And it is sent in plaintext
// only to a loopback address (see isLoopback) unless InsecureToken says
// otherwise: anyone on the path of a plaintext connection can read the
// token and replay it for as long as it is valid.
func (o *Options) CheckToken() error {
	if o.Token != "" && o.TokenFile != "" {
		return exitcode.Usagef("both --token-file (or GREETER_CLIENT_TOKEN_FILE) and GREETER_CLIENT_TOKEN are set: give the bearer token one way only")
	}
	if o.Token != "" {
		if _, err := bearer.Parse(o.Token); err != nil {
			return exitcode.Usagef("bad GREETER_CLIENT_TOKEN: %v", err)
		}
	}
	if o.HasToken() && !o.UseTLS() && !o.InsecureToken && !isLoopback(o.Addr) {
		return exitcode.Usagef("refusing to send the bearer token to %s without TLS: anyone on the path could read and replay it; use TLS (--tls, with --ca if a private CA signed the server's certificate), or, on a network you trust, pass --insecure-token (or GREETER_CLIENT_INSECURE_TOKEN=true)", o.Addr)
	}
	return nil
}

// isLoopback reports whether every address target can reach is on this
// host, as grpc-go parses target: a unix socket, or a host that is
// "localhost" or a loopback IP address (127.0.0.0/8, ::1), resolved by the
// system. Any other name counts as remote, even one that resolves to a
// loopback address today: DNS can change its answer. So does "localhost"
// looked up at a DNS server named in the target (dns://server/localhost),
// and any resolver but dns, passthrough and unix.
func isLoopback(target string) bool {
	u, err := url.Parse(target)
	if err != nil || resolver.Get(u.Scheme) == nil {
		// grpc-go's default scheme; "localhost:50051" parses as scheme
		// "localhost", which no resolver has.
		if u, err = url.Parse("dns:///" + target); err != nil {
			return false
		}
	}
	endpoint := u.Path
	if endpoint == "" {
		endpoint = u.Opaque
	}
	endpoint = strings.TrimPrefix(endpoint, "/")
	switch u.Scheme {
	case "unix", "unix-abstract":
		return true
	case "dns", "passthrough":
	default:
		return false
	}
	host := endpoint
	if h, _, err := net.SplitHostPort(endpoint); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	return strings.EqualFold(host, "localhost") && (u.Scheme != "dns" || u.Host == "")
}

// tokenCredentials returns the per-RPC credentials that send the bearer
// token, or nil if there is none. The first call checks the token (see
// CheckToken) and reads --token-file; every connection shares the result.
//
// Over TLS the credentials require it, a second guard in grpc-go; over
// plaintext that CheckToken allowed they must not, or grpc-go would refuse
// the connection.
func (f *Factory) tokenCredentials() (credentials.PerRPCCredentials, error) {
	f.tokenOnce.Do(func() { f.tokenCreds, f.tokenErr = f.newTokenCredentials() })
	return f.tokenCreds, f.tokenErr
}

func (f *Factory) newTokenCredentials() (credentials.PerRPCCredentials, error) {
	o := &f.Options
	if err := o.CheckToken(); err != nil {
		return nil, err
	}
	switch {
	case o.Token != "":
		token, err := bearer.Parse(o.Token)
		if err != nil {
			return nil, exitcode.Usagef("bad GREETER_CLIENT_TOKEN: %v", err)
		}
		return bearer.New(func() string { return token }, o.UseTLS()), nil
	case o.TokenFile != "":
		warn := func(err error) {
			if f.Warn != nil {
				f.Warn(fmt.Errorf("cannot read --token-file again (%w); the calls keep the token read before", err))
			}
		}
		file, err := bearer.ReadFile(o.TokenFile, TokenRecheck, warn)
		if err != nil {
			return nil, fmt.Errorf("read --token-file: %w", err)
		}
		return bearer.New(file.Token, o.UseTLS()), nil
	}
	return nil, nil
}

// Metadata parses Headers.
func (f *Factory) Metadata() (metadata.MD, error) {
	md := metadata.MD{}
	for _, h := range f.Options.Headers {
		k, v, ok := strings.Cut(h, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, exitcode.Usagef("bad --header %q: want key=value", h)
		}
		if k == "authorization" && f.Options.HasToken() {
			return nil, exitcode.Usagef("--header authorization and a bearer token (--token-file or GREETER_CLIENT_TOKEN) both set authorization: give only one")
		}
		md.Append(k, v)
	}
	return md, nil
}

// CallContext returns ctx with the deadline of one call and the metadata of
// --header.
func (f *Factory) CallContext(ctx context.Context) (context.Context, context.CancelFunc, error) {
	md, err := f.Metadata()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(ctx, md), f.Options.Timeout)
	return ctx, cancel, nil
}

// Close closes the shared connection if one was opened.
func (f *Factory) Close() error {
	if f.conn == nil {
		return nil
	}
	return f.conn.Close()
}
