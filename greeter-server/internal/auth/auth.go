// Package auth decides who is calling greeter-server and whether they may:
// authentication by bearer token (a JWT from an OIDC issuer: an identity
// provider, a Kubernetes cluster's service-account issuer, a cloud's
// workload identity) and by client certificate (mutual TLS), and
// authorization by a gRPC authorization policy file (see Policy), reloaded
// when it changes.
//
// Package serve asks a Guard about every call, on every listener, before
// the call's request is read: in grpc-go's tap handle on the gRPC listener.
// In an HTTP handler on the HTTP listener. // trim:http
// A refusal is one status,
// UNAUTHENTICATED (no, bad or expired credentials) or PERMISSION_DENIED (a
// known caller the policy refuses), one log line and one count.
//
// Tokens are verified with go-jose (github.com/go-jose/go-jose/v4), the
// JOSE library under coreos/go-oidc and Kubernetes' own token code. go-oidc
// itself was not used: its key set fetches the issuer's keys again for
// every token with an unknown key id, with no rate limit, and its expiry
// check has no clock-skew allowance; replacing both leaves only its
// discovery, which is a few lines here.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// SubjectHeader is the request header through which a verified token's
// subject reaches the policy: the policy sees the subject under this name,
// never a value the client sent, and the server removes any value the
// client sent from the call's headers, so neither the policy nor the
// service can be told a name by the caller. The service finds the verified
// subject in the call's context (FromContext).
const SubjectHeader = "x-jwt-subject"

// PolicyCheckInterval is how often the policy file is checked for changes.
var PolicyCheckInterval = 5 * time.Second

// Config says how a Guard authenticates and authorizes.
type Config struct {
	// Issuer is the OIDC issuer URL whose bearer tokens authenticate
	// callers; empty turns bearer tokens off.
	Issuer string
	// Audience is the audience ("aud") a token must be issued for.
	Audience string
	// ClientCerts is whether the server verifies client certificates
	// (--tls-client-ca); a verified certificate then authenticates.
	ClientCerts bool
	// PolicyFile is the authorization policy's file; empty allows every
	// authenticated caller (or, with no authentication, every caller).
	PolicyFile string
	// Logger receives refusals, policy reloads and key fetches.
	Logger *slog.Logger
}

// Enabled reports whether cfg asks for any authentication or
// authorization; without, the server needs no Guard.
func (cfg Config) Enabled() bool {
	return cfg.Issuer != "" || cfg.Audience != "" || cfg.ClientCerts || cfg.PolicyFile != ""
}

// Guard authenticates and authorizes calls. Its methods are safe for
// concurrent use.
type Guard struct {
	tokens      *verifier // nil without an issuer
	clientCerts bool
	policy      atomic.Pointer[Policy]
	policyFile  string
	logger      *slog.Logger
	refusals    *prometheus.CounterVec
	audit       *auditLog
	stop        chan struct{}
	stopped     sync.WaitGroup
}

// New returns a Guard for cfg. It reads the policy file now, and refuses a
// policy that does not parse; it fetches nothing from the issuer yet.
func New(cfg Config) (*Guard, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	g := &Guard{
		clientCerts: cfg.ClientCerts,
		policyFile:  cfg.PolicyFile,
		logger:      logger,
		audit:       newAuditLog(logger),
		stop:        make(chan struct{}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "greeter_server_auth_refusals_total",
			Help: "Calls refused by authentication (no, bad or expired credentials) or authorization (policy_denied), by reason.",
		}, []string{"reason"}),
	}
	for _, r := range []string{reasonNoCredentials, reasonPolicy} {
		g.refusals.WithLabelValues(r)
	}
	if cfg.Issuer != "" || cfg.Audience != "" {
		if cfg.Issuer == "" {
			return nil, errors.New("--oidc-audience needs --oidc-issuer: the issuer whose tokens to accept")
		}
		var err error
		if g.tokens, err = newVerifier(cfg.Issuer, cfg.Audience, logger); err != nil {
			return nil, err
		}
		for _, r := range []string{reasonMalformed, reasonExpired, reasonSignature, reasonAudience} {
			g.refusals.WithLabelValues(r)
		}
	}
	if cfg.PolicyFile != "" {
		p, sum, err := readPolicy(cfg.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("--authz-policy: %w", err)
		}
		g.policy.Store(p)
		g.stopped.Add(1)
		go g.watchPolicy(p, sum)
	}
	g.stopped.Add(1)
	go g.audit.run(g.stop, &g.stopped)
	return g, nil
}

// Close stops watching the policy file.
func (g *Guard) Close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.stopped.Wait()
}

// Describe says, for the start line, how callers are authenticated
// ("oidc", "mtls", "oidc+mtls", or "none") and which policy is in force
// ("" for none).
func (g *Guard) Describe() (authn, policy string) {
	var how []string
	if g.tokens != nil {
		how = append(how, "oidc")
	}
	if g.clientCerts {
		how = append(how, "mtls")
	}
	authn = "none"
	if len(how) > 0 {
		authn = strings.Join(how, "+")
	}
	if p := g.policy.Load(); p != nil {
		policy = p.name
	}
	return authn, policy
}

// Collector is the refusal counter, for the server's metrics registry.
func (g *Guard) Collector() prometheus.Collector { return g.refusals }

// Open reports whether method is open to every caller, with no credentials
// and no policy: the health service, which probes and load balancers call
// without a token.
func Open(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/")
}

// Call is what the Guard sees of a call before its request is read.
type Call struct {
	// Method is the full method name: /package.Service/Method.
	Method string
	// Header holds the request headers.
	Header Header
	// AuthInfo is the connection's TLS state; nil for plaintext.
	AuthInfo credentials.AuthInfo
	// Peer is the caller's address, for the log.
	Peer net.Addr
}

// Caller is who made a call.
type Caller struct {
	// Principal is the identity the verified client certificate names
	// (see Principal), or "".
	Principal string
	// Subject is the verified bearer token's subject ("sub"), or "".
	Subject string
}

type callerKey struct{}

// NewContext returns ctx carrying c. c is a pointer so that a call whose
// caller is decided after its context was made (see ErrNeedKeys) can have it
// filled in then, and what reads it at the call's end (the access log) sees
// it.
func NewContext(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// FromContext returns the caller a Guard let through, if ctx carries one.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	if !ok || c == nil {
		return Caller{}, false
	}
	return *c, true
}

// ErrNeedKeys is returned by Check, when told not to wait, for a token
// signed with a key the server has not fetched yet: the caller should ask
// again, with wait, where blocking on the network is harmless.
var ErrNeedKeys = errNeedKeys

// Check decides whether c may proceed, and who its caller is. It returns a
// status error, UNAUTHENTICATED or PERMISSION_DENIED, to refuse it, after
// logging and counting the refusal. Without wait it never blocks on the
// network and returns ErrNeedKeys instead (see ErrNeedKeys).
//
// A caller is authenticated by a valid bearer token or, with client
// certificates on, by a verified certificate; a token that is sent is
// always checked, even beside a certificate. Once any authentication is
// configured, a call with neither is refused. Then the policy, if any,
// decides, with the token's subject as SubjectHeader.
func (g *Guard) Check(ctx context.Context, c Call, wait bool) (Caller, error) {
	caller := Caller{Principal: Principal(c.AuthInfo)}
	if Open(c.Method) {
		return caller, nil
	}
	if g.tokens != nil {
		switch auth := c.Header.Values("authorization"); {
		case len(auth) > 1:
			return caller, g.refuse(c, caller, refuse(reasonMalformed, "more than one authorization header"))
		case len(auth) == 1:
			raw, ok := bearer(auth[0])
			if !ok {
				return caller, g.refuse(c, caller, refuse(reasonNotBearer, "the authorization header is not a bearer token: send authorization: Bearer <JWT>"))
			}
			v, err := g.tokens.verify(ctx, raw, wait)
			if errors.Is(err, errNeedKeys) {
				return caller, err
			}
			if err != nil {
				return caller, g.refuse(c, caller, err)
			}
			caller.Subject = v.subject
		}
	}
	if (g.tokens != nil || g.clientCerts) && caller.Subject == "" && caller.Principal == "" {
		what := "a bearer token (authorization: Bearer <JWT>)"
		if g.clientCerts {
			what = "a client certificate"
			if g.tokens != nil {
				what += " or " + "a bearer token (authorization: Bearer <JWT>)"
			}
		}
		return caller, g.refuse(c, caller, refuse(reasonNoCredentials, "this server needs %s", what))
	}
	if p := g.policy.Load(); p != nil {
		allowed, rule := p.decide(request{method: c.Method, header: subjectHeader{c.Header, caller.Subject}, authInfo: c.AuthInfo})
		if !allowed {
			return caller, g.deny(c, caller, p.name, rule)
		}
	}
	return caller, nil
}

// bearer returns the token of an "authorization: Bearer TOKEN" value.
func bearer(v string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// subjectHeader is a call's headers as the policy sees them: SubjectHeader
// is the verified token's subject, never what the client sent.
type subjectHeader struct {
	Header
	subject string
}

func (h subjectHeader) Values(key string) []string {
	if key == SubjectHeader {
		if h.subject == "" {
			return nil
		}
		return []string{h.subject}
	}
	return h.Header.Values(key)
}

// refuse logs and counts an authentication refusal and returns its status.
func (g *Guard) refuse(c Call, caller Caller, err error) error {
	var te *tokenError
	if !errors.As(err, &te) {
		te = &tokenError{reason: reasonMalformed, msg: err.Error()}
	}
	g.refusals.WithLabelValues(te.reason).Inc()
	g.logRefusal(c, caller, te.reason, te.msg)
	return status.Error(codes.Unauthenticated, te.msg)
}

// deny logs and counts a policy refusal and returns its status. The caller
// learns that the policy refused it, not which rule: that is in the log.
func (g *Guard) deny(c Call, caller Caller, policy, rule string) error {
	g.refusals.WithLabelValues(reasonPolicy).Inc()
	why := fmt.Sprintf("policy %q: no allow rule matches", policy)
	if rule != "" {
		why = fmt.Sprintf("policy %q: deny rule %q matches", policy, rule)
	}
	g.logRefusal(c, caller, reasonPolicy, why)
	who := "this caller"
	switch {
	case caller.Subject != "":
		who = fmt.Sprintf("subject %q", caller.Subject)
	case caller.Principal != "":
		who = fmt.Sprintf("principal %q", caller.Principal)
	}
	return status.Errorf(codes.PermissionDenied, "the server's authorization policy does not allow %s to call %s", who, clipMethod(c.Method))
}

// logRefusal queues the one log line of a refusal: never the token, and
// no more of the method name than clip keeps.
func (g *Guard) logRefusal(c Call, caller Caller, reason, detail string) {
	attrs := []slog.Attr{slog.String("method", clipMethod(c.Method)), slog.String("reason", reason), slog.String("detail", detail)}
	if c.Peer != nil {
		attrs = append(attrs, slog.String("peer", c.Peer.String()))
	}
	if caller.Principal != "" {
		attrs = append(attrs, slog.String("principal", caller.Principal))
	}
	if caller.Subject != "" {
		attrs = append(attrs, slog.String("subject", caller.Subject))
	}
	g.audit.log(attrs)
}

// clipMethod cuts a method name the caller chose to what a real one needs.
func clipMethod(m string) string {
	const most = 256
	if len(m) > most {
		return m[:most] + "..."
	}
	return m
}

// AuditQueue is how many refusal log lines may wait to be written.
const AuditQueue = 1024

// auditLog writes refusal log lines from a goroutine of its own: a refusal
// on the gRPC listener is decided in grpc-go's tap handle, on the
// connection's reading goroutine with the transport's lock held, which
// must not wait for a slow log destination. Lines that find the queue full
// are dropped and counted, and the count is logged once the queue drains.
type auditLog struct {
	logger  *slog.Logger
	lines   chan []slog.Attr
	dropped atomic.Int64
}

func newAuditLog(logger *slog.Logger) *auditLog {
	return &auditLog{logger: logger, lines: make(chan []slog.Attr, AuditQueue)}
}

func (a *auditLog) log(attrs []slog.Attr) {
	select {
	case a.lines <- attrs:
	default:
		a.dropped.Add(1)
	}
}

func (a *auditLog) run(stop <-chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	for {
		select {
		case attrs := <-a.lines:
			a.logger.LogAttrs(context.Background(), slog.LevelInfo, "call refused", attrs...)
			if len(a.lines) == 0 {
				if n := a.dropped.Swap(0); n > 0 {
					a.logger.Warn("refusals came faster than they could be logged; their lines were dropped (greeter_server_auth_refusals_total counts every one)", "dropped", n)
				}
			}
		case <-stop:
			for {
				select {
				case attrs := <-a.lines:
					a.logger.LogAttrs(context.Background(), slog.LevelInfo, "call refused", attrs...)
				default:
					return
				}
			}
		}
	}
}

// readPolicy reads and parses the policy file.
func readPolicy(path string) (*Policy, [sha256.Size]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, [sha256.Size]byte{}, err
	}
	sum := sha256.Sum256(data)
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, sum, fmt.Errorf("%s: %w", path, err)
	}
	return p, sum, nil
}

// watchPolicy checks the policy file every PolicyCheckInterval and, when its
// content changed, puts the new policy in force. A file that cannot be read
// or parsed leaves the last good policy in force, with a warning each time
// it is checked, until it is fixed.
func (g *Guard) watchPolicy(current *Policy, good [sha256.Size]byte) {
	defer g.stopped.Done()
	tick := time.NewTicker(PolicyCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
		p, sum, err := readPolicy(g.policyFile)
		switch {
		case err != nil:
			g.logger.Warn("authorization policy file is broken; the last good policy stays in force", "policy", current.name, "err", err)
		case sum != good:
			good, current = sum, p
			g.policy.Store(p)
			g.logger.Info("authorization policy reloaded", "policy", p.name, "file", g.policyFile)
		}
	}
}

// Principal returns who the verified client certificate of a mutual TLS
// connection names: its SPIFFE ID (a spiffe:// URI SAN), else its first DNS
// SAN, else its subject. It returns "" when the call came without one
// (plaintext, TLS without client certificates). The same on both
// listeners: grpc-go's TLS credentials and grpc.Server.ServeHTTP both
// report the connection's TLS state as credentials.TLSInfo, and the HTTP
// listener's Guard reads it from the request the same way.
func Principal(info credentials.AuthInfo) string {
	tlsInfo, ok := info.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.VerifiedChains) == 0 || len(tlsInfo.State.VerifiedChains[0]) == 0 {
		return ""
	}
	cert := tlsInfo.State.VerifiedChains[0][0]
	for _, u := range cert.URIs {
		if u.Scheme == "spiffe" {
			return u.String()
		}
	}
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames[0]
	}
	return cert.Subject.String()
}
