package auth

import (
	"context"
	"errors"
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

// TestUnknownKeyIDsAreRateLimited: tokens naming key ids the issuer does
// not publish make the server fetch the keys at most once per
// KeyRefetchInterval, however many arrive.
func TestUnknownKeyIDsAreRateLimited(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newTestVerifier(t, iss)
	if _, err := v.verify(t.Context(), iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), true); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			k := authtest.NewECKey(t, "junk-"+string(rune('a'+i%26)))
			if _, err := v.verify(t.Context(), iss.Token(t, k, authtest.Claims{Subject: "eve", Audience: []string{audience}}), true); err == nil {
				t.Error("a token signed with a key the issuer never published was accepted")
			}
		})
	}
	wg.Wait()
	if n := iss.KeyFetches(); n > 2 {
		t.Errorf("200 tokens with unknown key ids made the server fetch the keys %d times, want at most 2 (one for the good token, at most one more)", n)
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
