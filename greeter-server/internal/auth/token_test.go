package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
)

const audience = "greeter-server"

func newTestVerifier(t *testing.T, iss *authtest.Issuer) *verifier {
	t.Helper()
	v, err := newVerifier(iss.URL, audience, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.logger = discard
	return v
}

// TestVerifyGoodTokens: RS256 and ES256 tokens from the issuer are accepted
// and give their subject; the second time, the same token is remembered.
func TestVerifyGoodTokens(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	for _, k := range []*authtest.Key{iss.RSA, iss.EC} {
		tok := iss.Token(t, k, authtest.Claims{Subject: "ann-" + k.ID, Audience: []string{"other", audience}})
		got, err := v.verify(t.Context(), tok, true)
		if err != nil {
			t.Fatalf("%s: %v", k.ID, err)
		}
		if got.subject != "ann-"+k.ID {
			t.Errorf("%s: subject %q", k.ID, got.subject)
		}
		if _, ok := v.cache.get(sha(tok), time.Now()); !ok {
			t.Errorf("%s: a verified token is not remembered", k.ID)
		}
	}
	if n := iss.KeyFetches(); n != 1 {
		t.Errorf("the keys were fetched %d times for two tokens of known keys, want 1", n)
	}
}

// TestVerifyRefuses: each bad token is refused, for the right reason, with
// a message that never contains the token.
func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	rogue := authtest.NewRSAKey(t, "rogue")
	unknownKid := authtest.NewRSAKey(t, "rsa-1") // the same key id, another key
	good := authtest.Claims{Subject: "ann", Audience: []string{audience}}
	with := func(f func(*authtest.Claims)) authtest.Claims { c := good; f(&c); return c }
	tests := []struct {
		name, token, reason string
	}{
		{"expired", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Expiry = time.Now().Add(-2 * ClockSkew) })), reasonExpired},
		{"not yet valid", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.NotBefore = time.Now().Add(time.Hour) })), reasonNotYetValid},
		{"wrong audience", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Audience = []string{"another-service"} })), reasonAudience},
		{"wrong issuer", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Issuer = "https://evil.example" })), reasonIssuer},
		{"alg none", iss.UnsignedToken(t, good), reasonAlgorithm},
		{"HS256 with the public key", iss.HMACWithPublicKey(t, iss.RSA, good), reasonAlgorithm},
		{"a key the issuer never published", iss.Token(t, rogue, good), reasonUnknownKey},
		{"a known key id, another key", iss.Token(t, unknownKid, good), reasonSignature},
		{"garbage", "not-a-jwt", reasonMalformed},
		{"no claims, a bogus signature", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", reasonIssuer},
		{"no subject", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Subject = "" })), reasonMalformed},
		{"too large", iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Extra = map[string]any{"pad": strings.Repeat("x", MaxTokenBytes)} })), reasonTooLarge},
	}
	v := newTestVerifier(t, iss)
	for _, tt := range tests {
		_, err := v.verify(t.Context(), tt.token, true)
		var te *tokenError
		if !errors.As(err, &te) {
			t.Errorf("%s: err = %v, want a refusal", tt.name, err)
			continue
		}
		if te.reason != tt.reason {
			t.Errorf("%s: reason %q (%s), want %q", tt.name, te.reason, te.msg, tt.reason)
		}
		if len(tt.token) > 20 && strings.Contains(te.msg, tt.token[len(tt.token)-20:]) {
			t.Errorf("%s: the message repeats the token: %s", tt.name, te.msg)
		}
	}
}

// TestUnknownKeyIDsAreRateLimited: a burst of tokens naming key ids the
// issuer does not publish makes the server fetch the keys exactly once
// when a fetch is allowed, and not at all within KeyRefetchInterval of the
// last; without waiting, such a token is refused at once unless a fetch
// is under way or allowed.
func TestUnknownKeyIDsAreRateLimited(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	var clockMu sync.Mutex
	clock := time.Now()
	v.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true); err != nil {
		t.Fatal(err)
	}
	junk := make([]string, 100)
	for i := range junk {
		junk[i] = iss.Token(t, authtest.NewECKey(t, fmt.Sprint("junk-", i)), authtest.Claims{Subject: "eve", Audience: []string{audience}})
	}
	burst := func() {
		var wg sync.WaitGroup
		for _, tok := range junk {
			wg.Go(func() {
				if _, err := v.verify(t.Context(), tok, true); err == nil {
					t.Error("a token signed with a key the issuer never published was accepted")
				}
			})
		}
		wg.Wait()
	}
	burst()
	if n := iss.KeyFetches(); n != 1 {
		t.Errorf("100 unknown key ids within KeyRefetchInterval of the first fetch: %d fetches, want 1", n)
	}
	if _, err := v.verify(t.Context(), junk[0], false); !isRefusal(err, reasonUnknownKey) {
		t.Errorf("without waiting, no fetch allowed: err = %v, want an %s refusal at once", err, reasonUnknownKey)
	}
	clockMu.Lock()
	clock = clock.Add(KeyRefetchInterval)
	clockMu.Unlock()
	burst()
	if n := iss.KeyFetches(); n != 2 {
		t.Errorf("100 unknown key ids once a fetch was allowed: %d fetches in all, want 2", n)
	}
}

func isRefusal(err error, reason string) bool {
	var te *tokenError
	return errors.As(err, &te) && te.reason == reason
}

// TestKeysGrowOld: keys fetched more than KeyMaxAge ago are fetched again
// in the background on their next use, so a key the issuer withdrew stops
// verifying new tokens.
func TestKeysGrowOld(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	var clockMu sync.Mutex
	clock := time.Now()
	v.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true); err != nil {
		t.Fatal(err)
	}
	iss.Publish(iss.EC) // the RSA key is withdrawn
	clockMu.Lock()
	clock = clock.Add(KeyMaxAge + time.Second)
	clockMu.Unlock()
	// The old keys still serve this one, and it starts the refetch.
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "bob", Audience: []string{audience}}), true); err != nil {
		t.Fatalf("a token of a cached key past KeyMaxAge: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "cy", Audience: []string{audience}}), false)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a withdrawn key still verifies new tokens 10 s after its keys grew old")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := iss.KeyFetches(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// TestRefusalsClipClaims: a refusal repeats no more than a few dozen bytes
// of what the token claims.
func TestRefusalsClipClaims(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	long := strings.Repeat("i", 5000)
	for _, c := range []authtest.Claims{
		{Subject: "ann", Audience: []string{audience}, Issuer: long},
		{Subject: "ann", Audience: []string{long, long}},
	} {
		_, err := v.verify(t.Context(), iss.Token(t, iss.RSA, c), true)
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("err = %.300v (%d bytes), want a refusal of at most 200", err, len(fmt.Sprint(err)))
		}
	}
}

// TestKeyRotation: a key the issuer rotates in works at its first token
// (once KeyRefetchInterval has passed since the last fetch); a withdrawn
// one stops working once the keys are fetched again.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	clock := time.Now()
	v.now = func() time.Time { return clock }
	old := iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}})
	if _, err := v.verify(t.Context(), old, true); err != nil {
		t.Fatal(err)
	}
	rotated := authtest.NewRSAKey(t, "rsa-2")
	iss.Publish(rotated, iss.EC)
	clock = clock.Add(KeyRefetchInterval)
	if _, err := v.verify(t.Context(), iss.Token(t, rotated, authtest.Claims{Subject: "bob", Audience: []string{audience}}), true); err != nil {
		t.Fatalf("a token of the rotated-in key: %v", err)
	}
	// The old token is remembered until TokenCacheTTL; a new token of the
	// withdrawn key is not.
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "cy", Audience: []string{audience}}), true); err == nil {
		t.Error("a new token of a withdrawn key was accepted")
	}
	clock = clock.Add(TokenCacheTTL)
	if _, err := v.verify(t.Context(), old, true); err == nil {
		t.Error("a remembered token of a withdrawn key was still accepted after TokenCacheTTL")
	}
}

// TestIssuerDown: with the issuer down, keys already fetched keep working;
// with none fetched, every token is refused (fails closed).
func TestIssuerDown(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true); err != nil {
		t.Fatal(err)
	}
	iss.SetDown(true)
	if _, err := v.verify(t.Context(), iss.Token(t, iss.EC, authtest.Claims{Subject: "bob", Audience: []string{audience}}), true); err != nil {
		t.Errorf("issuer down, key cached: %v", err)
	}

	cold := newTestVerifier(t, iss)
	_, err := cold.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true)
	var te *tokenError
	if !errors.As(err, &te) || te.reason != reasonKeysUnavailable {
		t.Errorf("issuer down, no keys: err = %v, want a %s refusal", err, reasonKeysUnavailable)
	}
	iss.SetDown(false)
	cold.fetchedAt = time.Time{} // as if KeyRefetchInterval had passed
	if _, err := cold.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true); err != nil {
		t.Errorf("issuer back: %v", err)
	}
}

// TestVerifyWithoutWaiting: without wait, a token whose key the server
// does not have yet is not decided (errNeedKeys) and nothing is fetched
// on the caller's goroutine.
func TestVerifyWithoutWaiting(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	tok := iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}})
	if _, err := v.verify(t.Context(), tok, false); !errors.Is(err, errNeedKeys) {
		t.Fatalf("err = %v, want errNeedKeys", err)
	}
	if n := iss.KeyFetches(); n > 1 {
		t.Errorf("%d fetches started by one token", n)
	}
	if _, err := v.verify(t.Context(), tok, true); err != nil {
		t.Fatal(err)
	}
	if _, err := v.verify(t.Context(), iss.Token(t, iss.EC, authtest.Claims{Subject: "bob", Audience: []string{audience}}), false); err != nil {
		t.Errorf("a known key without waiting: %v", err)
	}
}

func TestIssuerURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://accounts.example.com", "https://kubernetes.default.svc.cluster.local", "http://127.0.0.1:5556/dex", "http://localhost:8080", "http://[::1]:80"} {
		if err := checkIssuerURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://issuer.example.com", "ftp://x", "accounts.example.com", "https://", "https://x/?a=b"} {
		if err := checkIssuerURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache(64)
	now := time.Now()
	for i := range 1000 {
		var sum [32]byte
		sum[0], sum[1] = byte(i), byte(i>>8)
		c.put(sum, verified{subject: "x", expiry: now.Add(time.Hour)}, now)
		if len(c.entries) > 64 {
			t.Fatalf("%d entries in a cache of 64", len(c.entries))
		}
	}
	var sum [32]byte
	c.put(sum, verified{subject: "soon", expiry: now.Add(time.Second)}, now)
	if _, ok := c.get(sum, now.Add(time.Second+ClockSkew)); ok {
		t.Error("a token is remembered past its expiry (and the clock skew)")
	}
}

// TestCheckStatus: Guard.Check answers UNAUTHENTICATED for bad
// credentials, never naming the token, and lets health through.
func TestCheckStatus(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	g, err := New(Config{Issuer: iss.URL, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	call := func(method string, header MD) error {
		_, err := g.Check(context.Background(), Call{Method: method, Header: header}, true)
		return err
	}
	if err := call("/greeter.v1.GreeterService/SayHello", MD{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	if err := call("/greeter.v1.GreeterService/SayHello", MD{"authorization": {"Basic YW5uOnB3"}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("basic auth: %v", err)
	}
	if err := call("/grpc.health.v1.Health/Check", MD{}); err != nil {
		t.Errorf("health without a token: %v", err)
	}
	tok := iss.Token(t, iss.EC, authtest.Claims{Subject: "ann", Audience: []string{audience}})
	if err := call("/greeter.v1.GreeterService/SayHello", MD{"authorization": {"Bearer " + tok}}); err != nil {
		t.Errorf("good token: %v", err)
	}
	if err := call("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", MD{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection without a token: %v", err)
	}
}
