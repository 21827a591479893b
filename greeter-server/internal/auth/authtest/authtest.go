// Package authtest is a real OIDC issuer for tests: discovery and a JWKS on
// loopback HTTP, real RSA and ECDSA keys that can be rotated during a test,
// and tokens signed by them, well-formed or deliberately bad.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is one signing key of the issuer.
type Key struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	private   crypto.Signer
}

// NewRSAKey returns a new 2048-bit RSA key for RS256.
func NewRSAKey(t testing.TB, id string) *Key {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Algorithm: jose.RS256, private: k}
}

// NewECKey returns a new P-256 key for ES256.
func NewECKey(t testing.TB, id string) *Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Algorithm: jose.ES256, private: k}
}

func (k *Key) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.private.Public(), KeyID: k.ID, Algorithm: string(k.Algorithm), Use: "sig"}
}

// Issuer is an OIDC issuer on loopback.
type Issuer struct {
	// URL is the issuer URL: tokens carry it as "iss", and discovery is at
	// URL + "/.well-known/openid-configuration".
	URL string
	// RSA and EC are the keys it starts with, both published.
	RSA, EC *Key

	mu        sync.Mutex
	published []*Key
	down      atomic.Bool
	fetches   atomic.Int64
	srv       *httptest.Server
}

// NewIssuer starts an issuer that publishes an RSA key ("rsa-1") and an EC
// key ("ec-1"). It stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{RSA: NewRSAKey(t, "rsa-1"), EC: NewECKey(t, "ec-1")}
	iss.published = []*Key{iss.RSA, iss.EC}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if iss.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		iss.fetches.Add(1)
		if iss.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		iss.mu.Lock()
		var set jose.JSONWebKeySet
		for _, k := range iss.published {
			set.Keys = append(set.Keys, k.public())
		}
		iss.mu.Unlock()
		writeJSON(w, set)
	})
	iss.srv = httptest.NewServer(mux)
	iss.URL = iss.srv.URL
	t.Cleanup(iss.srv.Close)
	return iss
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Publish replaces the keys the issuer publishes: a rotation.
func (iss *Issuer) Publish(keys ...*Key) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = keys
}

// SetDown makes the issuer answer 503 to everything (down) or serve again.
func (iss *Issuer) SetDown(down bool) { iss.down.Store(down) }

// KeyFetches is how many times the key set was asked for.
func (iss *Issuer) KeyFetches() int64 { return iss.fetches.Load() }

// Claims are the claims of a token; Token fills in what is left empty.
type Claims struct {
	Subject   string
	Issuer    string // default: the issuer's URL
	Audience  []string
	Expiry    time.Time // default: an hour from now
	NotBefore time.Time // default: none
	// Extra are more claims, such as padding to make a token large.
	Extra map[string]any
}

// Token returns a token for c signed with k.
func (iss *Issuer) Token(t testing.TB, k *Key, c Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(iss.claims(c)).Claims(c.Extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (iss *Issuer) claims(c Claims) jwt.Claims {
	if c.Issuer == "" {
		c.Issuer = iss.URL
	}
	if c.Expiry.IsZero() {
		c.Expiry = time.Now().Add(time.Hour)
	}
	out := jwt.Claims{Subject: c.Subject, Issuer: c.Issuer, Audience: c.Audience, Expiry: jwt.NewNumericDate(c.Expiry), IssuedAt: jwt.NewNumericDate(time.Now().Add(-time.Minute))}
	if !c.NotBefore.IsZero() {
		out.NotBefore = jwt.NewNumericDate(c.NotBefore)
		out.IssuedAt = nil
	}
	return out
}

// UnsignedToken returns a token for c with "alg": "none" and no signature.
func (iss *Issuer) UnsignedToken(t testing.TB, c Claims) string {
	t.Helper()
	header := b64(t, map[string]string{"alg": "none", "typ": "JWT"})
	return header + "." + b64(t, iss.claims(c)) + "."
}

// HMACWithPublicKey returns a token for c "signed" with HS256, using k's
// public key as the HMAC secret: the classic algorithm-confusion forgery.
func (iss *Issuer) HMACWithPublicKey(t testing.TB, k *Key, c Claims) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.private.Public())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: der, KeyID: k.ID}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(iss.claims(c)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(base64.URLEncoding.EncodeToString(data), "=")
}
