package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The token verifier's deliberate numbers.
const (
	// MaxTokenBytes is the largest bearer token accepted. OIDC ID tokens and
	// Kubernetes service-account tokens are about 1 KiB; tokens that carry
	// group lists reach 4-6 KiB. A larger one is refused before it is
	// parsed.
	MaxTokenBytes = 8 << 10
	// ClockSkew is how far the server's clock and the issuer's may disagree:
	// a token is accepted up to this long after its expiry and before its
	// not-before time.
	ClockSkew = 30 * time.Second
	// KeyRefetchInterval is the least time between two fetches of the
	// issuer's keys. A token that names a key id the server does not have
	// makes it fetch the keys again, at most this often, so tokens with made-up
	// key ids cannot make the server hammer the issuer. A key the issuer
	// rotates in is picked up within this long of its first token.
	KeyRefetchInterval = 10 * time.Second
	// KeyMaxAge is how old the cached keys may grow before they are fetched
	// again, in the background, so that keys the issuer withdrew stop
	// working.
	KeyMaxAge = time.Hour
	// FetchTimeout bounds one fetch of the discovery document or the keys.
	FetchTimeout = 5 * time.Second
	// TokenCacheSize is how many verified tokens are remembered, so that a
	// caller that sends the same token again pays no signature check.
	TokenCacheSize = 10000
	// TokenCacheTTL bounds how long a verified token is remembered (never
	// past its expiry either), so that tokens signed by a key the issuer
	// has withdrawn stop working within KeyMaxAge plus this.
	TokenCacheTTL = 10 * time.Minute
	// maxDocumentBytes bounds the discovery document and the key set.
	maxDocumentBytes = 1 << 20
)

// signingAlgorithms are the algorithms a token may be signed with: RSA and
// ECDSA, as OIDC issuers and Kubernetes use. "none" and the HMAC
// algorithms never are: an HMAC key would be a shared secret, and a token
// "signed" with an issuer's public key as one is a forgery.
var signingAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
}

// Why a token is refused: the reason label of the refusal counter and the
// audit log, and the start of the message the caller gets.
const (
	reasonNoCredentials   = "no_credentials"
	reasonNotBearer       = "not_bearer"
	reasonMalformed       = "malformed_token"
	reasonTooLarge        = "token_too_large"
	reasonAlgorithm       = "bad_algorithm"
	reasonIssuer          = "wrong_issuer"
	reasonAudience        = "wrong_audience"
	reasonExpired         = "expired"
	reasonNotYetValid     = "not_yet_valid"
	reasonUnknownKey      = "unknown_key"
	reasonSignature       = "bad_signature"
	reasonKeysUnavailable = "keys_unavailable"
	reasonPolicy          = "policy_denied"
)

// tokenError is why a token was refused: a reason (see above) and a
// message for the caller that never repeats the token.
type tokenError struct {
	reason, msg string
}

func (e *tokenError) Error() string { return e.msg }

func refuse(reason, format string, args ...any) *tokenError {
	return &tokenError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// errNeedKeys means that a token names a key the server does not have, and
// only fetching the issuer's keys can decide it: verify was told not to
// wait for the network.
var errNeedKeys = errors.New("the token's key must be fetched")

// verifier checks bearer tokens issued by one OIDC issuer for one audience:
// signature against the issuer's published keys (discovery, then its JWKS),
// issuer, audience, expiry and not-before. It remembers the tokens it has
// verified.
type verifier struct {
	issuer, audience string
	client           *http.Client
	logger           *slog.Logger
	now              func() time.Time

	keysMu    sync.RWMutex
	jwksURI   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time // of the last fetch tried, good or bad
	goodAt    time.Time // of the last good fetch
	fetching  chan struct{}
	fetchErr  error

	cache *tokenCache
}

// newVerifier returns a verifier for tokens from issuer to audience. It
// fetches nothing yet: the first token does, so a server whose issuer is
// down at start still starts, and refuses tokens until the keys arrive.
func newVerifier(issuer, audience string, logger *slog.Logger) (*verifier, error) {
	if err := checkIssuerURL(issuer); err != nil {
		return nil, err
	}
	if audience == "" {
		return nil, errors.New("--oidc-audience must be set with --oidc-issuer: the audience tokens must be issued for (the server's own name), so a token meant for another service is refused")
	}
	return &verifier{
		issuer:   issuer,
		audience: audience,
		client:   &http.Client{Timeout: FetchTimeout, CheckRedirect: sameSchemeRedirect},
		logger:   logger,
		now:      time.Now,
		cache:    newTokenCache(TokenCacheSize),
	}, nil
}

// checkIssuerURL accepts https:// issuers, and http:// ones only on a
// loopback address (an issuer started by a test or a local development
// setup): keys fetched over plaintext from anywhere else could be replaced
// by anyone on the path, who could then sign their own tokens.
func checkIssuerURL(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--oidc-issuer %q is not an issuer URL such as https://accounts.example.com", issuer)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("--oidc-issuer %q: plain http:// is allowed only on a loopback address; use https://", issuer)
	default:
		return fmt.Errorf("--oidc-issuer %q: want an https:// URL", issuer)
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeKeyURL reports whether keys may be fetched from u: over https, or
// over http from a loopback address.
func safeKeyURL(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())
}

// sameSchemeRedirect follows only a few redirects, only within the scheme
// the request started with, and never from https to http or off loopback
// (safeKeyURL).
func sameSchemeRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != via[0].URL.Scheme || !safeKeyURL(req.URL) {
		return fmt.Errorf("redirect from %s to %s refused", via[0].URL.Redacted(), req.URL.Redacted())
	}
	return nil
}

// verified is what a verified token says about its caller.
type verified struct {
	subject string
	expiry  time.Time
}

// verify checks raw, the token after "Bearer ". A remembered token costs a
// hash and a map lookup. Otherwise the claims are checked before the
// signature, so that expired or misdirected tokens cost no signature check.
// If the token names a key the server does not have, verify fetches the
// keys again (at most once per KeyRefetchInterval) when wait is true, and
// returns errNeedKeys when it is false.
func (v *verifier) verify(ctx context.Context, raw string, wait bool) (verified, error) {
	if len(raw) > MaxTokenBytes {
		return verified{}, refuse(reasonTooLarge, "the bearer token is larger than the %d bytes the server accepts", MaxTokenBytes)
	}
	now := v.now()
	sum := tokenSum(raw)
	if got, ok := v.cache.get(sum, now); ok {
		return got, nil
	}
	tok, err := jwt.ParseSigned(raw, signingAlgorithms)
	if err != nil {
		if strings.Contains(err.Error(), "unexpected signature algorithm") {
			return verified{}, refuse(reasonAlgorithm, "the bearer token is not signed with an algorithm the server accepts (RS256, ES256 and the other RSA and ECDSA ones)")
		}
		return verified{}, refuse(reasonMalformed, "the bearer token is not a signed JWT")
	}
	if len(tok.Headers) != 1 {
		return verified{}, refuse(reasonMalformed, "the bearer token must have exactly one signature")
	}
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return verified{}, refuse(reasonMalformed, "the bearer token's claims are not valid JSON")
	}
	if err := v.checkClaims(claims, now); err != nil {
		return verified{}, err
	}
	keys, err := v.keysFor(ctx, tok.Headers[0], wait)
	if err != nil {
		return verified{}, err
	}
	verifiedSig := false
	for i := range keys {
		if tok.Claims(&keys[i], &claims) == nil {
			verifiedSig = true
			break
		}
	}
	if !verifiedSig {
		return verified{}, refuse(reasonSignature, "the bearer token's signature does not verify with the issuer's key %s", clip(tok.Headers[0].KeyID))
	}
	got := verified{subject: claims.Subject, expiry: claims.Expiry.Time()}
	v.cache.put(sum, got, now)
	return got, nil
}

// checkClaims checks what the token says about itself: issuer, audience,
// expiry (required) and not-before, with ClockSkew either way.
func (v *verifier) checkClaims(c jwt.Claims, now time.Time) error {
	switch err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: jwt.Audience{v.audience}, Time: now}, ClockSkew); {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return refuse(reasonIssuer, "the bearer token was issued by %s, not by %q", clip(c.Issuer), v.issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		aud := "none"
		if len(c.Audience) > 0 {
			aud = clip(c.Audience[0])
			if len(c.Audience) > 1 {
				aud += fmt.Sprintf(" and %d more", len(c.Audience)-1)
			}
		}
		return refuse(reasonAudience, "the bearer token is for audience %s, not for %q", aud, v.audience)
	case errors.Is(err, jwt.ErrExpired):
		return refuse(reasonExpired, "the bearer token expired at %s", c.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return refuse(reasonNotYetValid, "the bearer token is not valid yet (check the clocks of the issuer and the server)")
	case err != nil:
		return refuse(reasonMalformed, "the bearer token's claims are not valid: %s", clip(err.Error()))
	}
	if c.Expiry == nil {
		return refuse(reasonMalformed, "the bearer token has no expiry (exp)")
	}
	if c.Subject == "" {
		return refuse(reasonMalformed, "the bearer token names no subject (sub)")
	}
	return nil
}

// keysFor returns the issuer's keys that may have signed a token with
// header h: the one its key id names, or, for a token that names none,
// every key for its algorithm. If the server has none, only fetching the
// keys again can tell; with wait, keysFor does that (at most once per
// KeyRefetchInterval) and waits for it. Without wait, it returns
// errNeedKeys while a fetch is under way or allowed, for the caller to ask
// again where it may wait, and otherwise refuses the token at once: a
// stream of tokens naming made-up keys is refused where it arrives.
func (v *verifier) keysFor(ctx context.Context, h jose.Header, wait bool) ([]jose.JSONWebKey, error) {
	keys, goodAt := v.cachedKeys()
	if fit := fitting(keys, h); len(fit) > 0 {
		if v.now().Sub(goodAt) > KeyMaxAge {
			_ = v.refresh(ctx, false) // in the background; the old keys serve meanwhile
		}
		return fit, nil
	}
	var err error
	if wait {
		err = v.refresh(ctx, true)
		keys, _ = v.cachedKeys()
		if fit := fitting(keys, h); len(fit) > 0 {
			return fit, nil
		}
	} else {
		if v.mayFetch() {
			_ = v.refresh(ctx, false)
			return nil, errNeedKeys
		}
		err = v.lastFetchErr()
	}
	if len(keys) == 0 {
		return nil, refuse(reasonKeysUnavailable, "the server cannot verify bearer tokens yet: it has none of the issuer's keys (%v)", err)
	}
	if h.KeyID == "" {
		return nil, refuse(reasonUnknownKey, "the bearer token names no key id, and the issuer publishes no key for its algorithm %s", clip(h.Algorithm))
	}
	return nil, refuse(reasonUnknownKey, "the bearer token was signed with key %s, which the issuer does not publish", clip(h.KeyID))
}

func (v *verifier) cachedKeys() ([]jose.JSONWebKey, time.Time) {
	v.keysMu.RLock()
	defer v.keysMu.RUnlock()
	return v.keys, v.goodAt
}

// mayFetch reports whether a fetch of the keys is under way or allowed.
func (v *verifier) mayFetch() bool {
	v.keysMu.RLock()
	defer v.keysMu.RUnlock()
	return v.fetching != nil || v.now().Sub(v.fetchedAt) >= KeyRefetchInterval
}

func (v *verifier) lastFetchErr() error {
	v.keysMu.RLock()
	defer v.keysMu.RUnlock()
	return v.fetchErr
}

// fitting returns the keys that may have signed a token with header h:
// those for its algorithm (or for any) with its key id, if it names one.
func fitting(keys []jose.JSONWebKey, h jose.Header) []jose.JSONWebKey {
	var fit []jose.JSONWebKey
	for _, k := range keys {
		if (k.Algorithm == "" || k.Algorithm == h.Algorithm) && (h.KeyID == "" || k.KeyID == h.KeyID) {
			fit = append(fit, k)
		}
	}
	return fit
}

// clip quotes a value the caller chose, such as a claim, for a message or
// the log, cut to 64 bytes, so a refusal never repeats much of what it was
// sent.
func clip(v string) string {
	const most = 64
	if len(v) > most {
		return strconv.Quote(v[:most]) + "..."
	}
	return strconv.Quote(v)
}

// refresh fetches the issuer's keys unless the last fetch was less than
// KeyRefetchInterval ago or one is under way. With wait, it waits for the
// fetch it started or found (or for ctx to end), and returns its error. A
// failed fetch keeps the keys the server has.
func (v *verifier) refresh(ctx context.Context, wait bool) error {
	v.keysMu.Lock()
	done := v.fetching
	if done == nil {
		if v.now().Sub(v.fetchedAt) < KeyRefetchInterval {
			err := v.fetchErr
			v.keysMu.Unlock()
			return err
		}
		done = make(chan struct{})
		v.fetching = done
		v.fetchedAt = v.now()
		go v.fetch(done) //nolint:gosec // shared by every caller that waits for it: one caller's context must not end it
	}
	v.keysMu.Unlock()
	if !wait {
		return nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	v.keysMu.RLock()
	defer v.keysMu.RUnlock()
	return v.fetchErr
}

// fetch gets the discovery document (until it has it once) and then the
// key set, and publishes the keys.
func (v *verifier) fetch(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*FetchTimeout)
	defer cancel()
	keys, jwksURI, err := v.download(ctx)
	v.keysMu.Lock()
	if err == nil {
		v.keys, v.jwksURI, v.goodAt = keys, jwksURI, v.now()
	}
	v.fetchErr = err
	v.fetching = nil
	close(done)
	had := len(v.keys)
	v.keysMu.Unlock()
	if err != nil {
		v.logger.Warn("cannot fetch the OIDC issuer's keys; tokens signed with keys the server has still work", "issuer", v.issuer, "keys_held", had, "err", err)
		return
	}
	v.logger.Info("fetched the OIDC issuer's keys", "issuer", v.issuer, "keys", len(keys))
}

func (v *verifier) download(ctx context.Context) ([]jose.JSONWebKey, string, error) {
	v.keysMu.RLock()
	jwksURI := v.jwksURI
	v.keysMu.RUnlock()
	if jwksURI == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		discovery := strings.TrimSuffix(v.issuer, "/") + "/.well-known/openid-configuration"
		if err := v.getJSON(ctx, discovery, &doc); err != nil {
			return nil, "", fmt.Errorf("OIDC discovery: %w", err)
		}
		// OIDC Discovery 1.0, section 4.3: the document must name the
		// issuer it was fetched for, exactly.
		if doc.Issuer != v.issuer {
			return nil, "", fmt.Errorf("OIDC discovery: %s names issuer %q, not %q", discovery, doc.Issuer, v.issuer)
		}
		if u, err := url.Parse(doc.JWKSURI); err != nil || !safeKeyURL(u) {
			return nil, "", fmt.Errorf("OIDC discovery: jwks_uri %q is not an https:// URL", doc.JWKSURI)
		}
		jwksURI = doc.JWKSURI
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, jwksURI, &set); err != nil {
		return nil, "", fmt.Errorf("key set: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, k := range set.Keys {
		// Only public signing keys: never a shared secret, never a key
		// published for encryption.
		if k.Use == "enc" || !k.Valid() || !k.IsPublic() {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, "", fmt.Errorf("%s holds no public signing keys", jwksURI)
	}
	return keys, jwksURI, nil
}

func (v *verifier) getJSON(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: larger than %d bytes", url, maxDocumentBytes)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// hashBufs hold tokens while they are hashed: converting the token to
// bytes would allocate a copy of it on every call.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// tokenSum is the SHA-256 of a token, the key it is remembered by.
func tokenSum(raw string) [sha256.Size]byte {
	bp := hashBufs.Get().(*[]byte)
	*bp = append((*bp)[:0], raw...)
	sum := sha256.Sum256(*bp)
	hashBufs.Put(bp)
	return sum
}

// tokenCache remembers verified tokens by the SHA-256 of the token: at most
// size of them, each until its expiry or TokenCacheTTL, whichever comes
// first.
type tokenCache struct {
	mu      sync.RWMutex
	size    int
	entries map[[sha256.Size]byte]cached
}

type cached struct {
	verified
	until time.Time
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{size: size, entries: make(map[[sha256.Size]byte]cached)}
}

func (c *tokenCache) get(sum [sha256.Size]byte, now time.Time) (verified, bool) {
	c.mu.RLock()
	e, ok := c.entries[sum]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return verified{}, false
	}
	return e.verified, true
}

// put remembers v. When the cache is full, it first drops the entries that
// have run out, and then, if that freed nothing, an eighth of the rest
// (Go's map order makes them a fair sample).
func (c *tokenCache) put(sum [sha256.Size]byte, v verified, now time.Time) {
	until := now.Add(TokenCacheTTL)
	if end := v.expiry.Add(ClockSkew); end.Before(until) {
		until = end
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.size-c.size/8 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[sum] = cached{verified: v, until: until}
}
