package test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
	"github.com/greeter-go/greeter/greeter-server/internal/testproc"
)

const audience = "greeter-server"

// policyFor allows the subjects in allowed to call the greeter.v1 API and
// denies mallory whatever else it says.
func policyFor(name string, allowed ...string) string {
	return fmt.Sprintf(`{"name": %q,
  "deny_rules": [{"name": "no-mallory", "request": {"headers": [{"key": "x-jwt-subject", "values": ["mallory"]}]}}],
  "allow_rules": [{"name": "greeters", "request": {"paths": ["/greeter.v1.GreeterService/*"], "headers": [{"key": "x-jwt-subject", "values": [%s]}]}}]}`,
		name, `"`+strings.Join(allowed, `", "`)+`"`)
}

// writeFile replaces path's content as Kubernetes updates a mounted
// ConfigMap: a new file renamed over the old one.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// hello calls SayHello on addr (either listener, native gRPC) with md and
// returns the status code.
func hello(t *testing.T, conn *grpc.ClientConn, md metadata.MD) codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 10*time.Second)
	defer cancel()
	_, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ann"})
	return status.Code(err)
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withToken(token string, kv ...string) metadata.MD {
	return metadata.Pairs(append([]string{"authorization", "Bearer " + token}, kv...)...)
}

// TestBearerTokens runs the real binary against a real OIDC issuer on
// loopback (discovery and JWKS over HTTP, RSA and EC keys) and checks, on
// both listeners: good tokens of either key are accepted; every bad token
// is refused UNAUTHENTICATED, counted by reason and logged without the
// token; a forged x-jwt-subject counts for nothing; health needs no token;
// a key rotated in during the test works once the server refetches (which
// it does at most once per 10 s, however many unknown key ids arrive); and
// with the issuer down, keys already fetched keep working.
func TestBearerTokens(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	writeFile(t, policy, policyFor("greeter", "ann", "bob"))
	metricsAddr := freeAddr(t)
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy,
		"--metrics-addr", metricsAddr, "--log-level", "debug")
	conns := map[string]*grpc.ClientConn{
		"gRPC listener": dial(t, srv.Addr),
		"HTTP listener": dial(t, srv.HTTPAddr), // trim:http
	}
	good := authtest.Claims{Subject: "ann", Audience: []string{audience}}
	with := func(f func(*authtest.Claims)) authtest.Claims { c := good; f(&c); return c }
	rogue := authtest.NewRSAKey(t, "rogue")
	impostor := authtest.NewRSAKey(t, iss.RSA.ID) // a published key's id on another key

	accepted := map[string]string{
		"RS256":                 iss.Token(t, iss.RSA, good),
		"ES256":                 iss.Token(t, iss.EC, with(func(c *authtest.Claims) { c.Subject = "bob" })),
		"expired, within skew":  iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Expiry = time.Now().Add(-auth.ClockSkew / 3) })),
		"one audience of three": iss.Token(t, iss.EC, with(func(c *authtest.Claims) { c.Audience = []string{"a", audience, "b"} })),
	}
	refused := map[string]struct {
		token, reason string
	}{
		"expired":               {iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Expiry = time.Now().Add(-time.Hour) })), "expired"},
		"not yet valid":         {iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.NotBefore = time.Now().Add(time.Hour) })), "not_yet_valid"},
		"wrong audience":        {iss.Token(t, iss.EC, with(func(c *authtest.Claims) { c.Audience = []string{"another-service"} })), "wrong_audience"},
		"wrong issuer":          {iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Issuer = "https://accounts.example.com" })), "wrong_issuer"},
		"alg none":              {iss.UnsignedToken(t, good), "bad_algorithm"},
		"HS256, the public key": {iss.HMACWithPublicKey(t, iss.RSA, good), "bad_algorithm"},
		"never published":       {iss.Token(t, rogue, good), "unknown_key"},
		"a published key's id":  {iss.Token(t, impostor, good), "bad_signature"},
		"garbage":               {"not.a.token", "malformed_token"},
		"too large":             {iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Extra = map[string]any{"pad": strings.Repeat("p", auth.MaxTokenBytes)} })), "token_too_large"},
	}
	for where, conn := range conns {
		for name, tok := range accepted {
			if got := hello(t, conn, withToken(tok)); got != codes.OK {
				t.Errorf("%s: %s token: %v, want OK", where, name, got)
			}
		}
		for name, bad := range refused {
			if got := hello(t, conn, withToken(bad.token)); got != codes.Unauthenticated {
				t.Errorf("%s: %s token: %v, want Unauthenticated", where, name, got)
			}
		}
		if got := hello(t, conn, metadata.MD{}); got != codes.Unauthenticated {
			t.Errorf("%s: no token: %v, want Unauthenticated", where, got)
		}
		// A forged subject: no token, or mallory's token naming ann.
		if got := hello(t, conn, metadata.Pairs("x-jwt-subject", "ann")); got != codes.Unauthenticated {
			t.Errorf("%s: x-jwt-subject without a token: %v, want Unauthenticated", where, got)
		}
		mallory := iss.Token(t, iss.RSA, with(func(c *authtest.Claims) { c.Subject = "mallory" }))
		if got := hello(t, conn, withToken(mallory, "x-jwt-subject", "ann")); got != codes.PermissionDenied {
			t.Errorf("%s: mallory naming herself ann: %v, want PermissionDenied", where, got)
		}
		// A token beyond the header limit: the call fails, the server stays.
		huge := strings.Repeat("h", 40<<10)
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), withToken(huge)), 10*time.Second)
		_, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ann"})
		cancel()
		// grpc-go's client will not send more header bytes than the server
		// advertises (MaxHeaderListSize); the call fails before it leaves.
		if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "header list size") {
			t.Errorf("%s: a 40 KiB token: %v, want the client's refusal to send it (header list size)", where, err)
		}
		resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("%s: health without a token: %v, %v", where, resp, err)
		}
	}
	select {
	case <-srv.Exited():
		t.Fatalf("greeter-server exited:\n%s", srv.Log())
	default:
	}
	if got := hello(t, dial(t, srv.Addr), withToken(accepted["RS256"])); got != codes.OK {
		t.Errorf("a fresh connection after the bad tokens: %v", got)
	}

	// Every refusal has its log line (written from a goroutine of its own,
	// so wait for each) and its count, and no line holds a token.
	for _, bad := range refused {
		srv.WaitFor(t, regexp.MustCompile(`call refused.*reason=`+bad.reason), 10*time.Second)
	}
	log := srv.Log()
	for name, bad := range refused {
		if !strings.Contains(log, "reason="+bad.reason) {
			t.Errorf("no refusal logged for the %s token (reason=%s)", name, bad.reason)
		}
		if len(bad.token) > 24 && strings.Contains(log, bad.token[len(bad.token)-24:]) {
			t.Errorf("the log holds the %s token", name)
		}
		if n := metric(t, "http://"+metricsAddr+"/metrics", fmt.Sprintf(`greeter_server_auth_refusals_total{reason=%q}`, bad.reason)); n < float64(len(conns)) {
			t.Errorf("greeter_server_auth_refusals_total{reason=%q} = %v after %d %s tokens, one on each listener", bad.reason, n, len(conns), name)
		}
	}
	if !regexp.MustCompile(`msg=rpc method=/greeter.v1.GreeterService/SayHello code=OK .*subject=bob`).MatchString(log) {
		t.Errorf("no access log line names the subject bob:\n%s", log)
	}

	// Rotation: the issuer replaces its RSA key. A token of the new key is
	// refused until the server may fetch the keys again, then accepted; the
	// burst of tokens naming the unknown key makes it fetch at most a few
	// times.
	before := iss.KeyFetches()
	rotated := authtest.NewRSAKey(t, "rsa-2")
	iss.Publish(rotated, iss.EC)
	fresh := iss.Token(t, rotated, with(func(c *authtest.Claims) { c.Subject = "bob" }))
	deadline := time.Now().Add(3 * auth.KeyRefetchInterval)
	calls := 0
	for hello(t, conns["gRPC listener"], withToken(fresh)) != codes.OK {
		if calls++; time.Now().After(deadline) {
			t.Fatalf("a token of the rotated key was still refused after %v:\n%s", 3*auth.KeyRefetchInterval, srv.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fetched := iss.KeyFetches() - before; fetched > 3 {
		t.Errorf("%d calls with an unknown key id made the server fetch the keys %d times", calls, fetched)
	}
	// trim:http begin
	if got := hello(t, conns["HTTP listener"], withToken(fresh)); got != codes.OK {
		t.Errorf("HTTP listener: a token of the rotated key: %v", got)
	}
	// trim:http end

	// The issuer goes down: keys already fetched keep working.
	iss.SetDown(true)
	later := iss.Token(t, iss.EC, with(func(c *authtest.Claims) { c.Subject = "bob" }))
	for where, conn := range conns {
		if got := hello(t, conn, withToken(later)); got != codes.OK {
			t.Errorf("%s: issuer down, a new token of a fetched key: %v, want OK", where, got)
		}
	}
}

// TestBearerTokensIssuerDownAtStart: a server whose issuer is down when it
// starts still starts and serves health, and refuses every token (fails
// closed) until it can fetch the keys.
func TestBearerTokensIssuerDownAtStart(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	iss.SetDown(true)
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience)
	conn := dial(t, srv.Addr)
	tok := iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}})
	if got := hello(t, conn, withToken(tok)); got != codes.Unauthenticated {
		t.Errorf("issuer down, no keys: %v, want Unauthenticated", got)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health with the issuer down: %v, %v", resp, err)
	}
	iss.SetDown(false)
	deadline := time.Now().Add(3 * auth.KeyRefetchInterval)
	for hello(t, conn, withToken(tok)) != codes.OK {
		if time.Now().After(deadline) {
			t.Fatalf("still refused %v after the issuer came back:\n%s", 3*auth.KeyRefetchInterval, srv.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPolicyReloadUnderLoad changes the policy file while authorized
// callers call as fast as they can on both listeners: no authorized call
// fails, a change that refuses bob comes into force, a broken file keeps the
// last good policy (with a warning), and a broken file at the start stops
// the server from starting.
func TestPolicyReloadUnderLoad(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	policy := filepath.Join(t.TempDir(), "policy.json")
	writeFile(t, policy, "{not json")
	cmd := startFailing(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy)
	if !strings.Contains(cmd, "--authz-policy") {
		t.Errorf("a broken policy at the start: %q, want an error naming --authz-policy", cmd)
	}

	writeFile(t, policy, policyFor("v1", "ann", "bob"))
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy)
	ann := withToken(iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}))
	bob := withToken(iss.Token(t, iss.EC, authtest.Claims{Subject: "bob", Audience: []string{audience}}))
	conns := []*grpc.ClientConn{
		dial(t, srv.Addr),
		dial(t, srv.HTTPAddr), // trim:http
	}
	if got := hello(t, conns[0], bob); got != codes.OK {
		t.Fatalf("bob under policy v1: %v", got)
	}

	ctx, stop := context.WithCancel(context.Background())
	var ok atomic.Int64
	var failMu sync.Mutex
	failures := map[codes.Code]int{}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if got := hello(t, conns[i%len(conns)], ann); got == codes.OK {
					ok.Add(1)
				} else {
					failMu.Lock()
					failures[got]++
					failMu.Unlock()
				}
			}
		})
	}
	for v := 2; v <= 4; v++ {
		writeFile(t, policy, policyFor(fmt.Sprint("v", v), "ann", "bob"))
		srv.WaitFor(t, regexp.MustCompile(fmt.Sprintf(`authorization policy reloaded" policy=v%d `, v)), 30*time.Second)
	}
	writeFile(t, policy, policyFor("ann-only", "ann"))
	srv.WaitFor(t, regexp.MustCompile(`authorization policy reloaded" policy=ann-only `), 30*time.Second)
	for i, conn := range conns {
		if got := hello(t, conn, bob); got != codes.PermissionDenied {
			t.Errorf("conn %d: bob under policy ann-only: %v, want PermissionDenied", i, got)
		}
	}
	// A broken file keeps the last good policy, ann-only: bob stays
	// refused, as he would not be if the server had dropped the policy
	// (without one, every authenticated caller may call every method).
	writeFile(t, policy, `{"name": "broken"}`)
	srv.WaitFor(t, regexp.MustCompile(`authorization policy file is broken`), 30*time.Second)
	stop()
	wg.Wait()
	if len(failures) > 0 || ok.Load() < 100 {
		t.Errorf("ann's calls while the policy changed: %d OK, failed %v", ok.Load(), failures)
	}
	for i, conn := range conns {
		if got := hello(t, conn, bob); got != codes.PermissionDenied {
			t.Errorf("conn %d: bob after a broken file (ann-only still in force): %v, want PermissionDenied", i, got)
		}
		if got := hello(t, conn, ann); got != codes.OK {
			t.Errorf("conn %d: ann after a broken file (ann-only still in force): %v, want OK", i, got)
		}
	}
}

// trim:http begin

// TestConnectRefusals: over plain HTTP/1.1, as curl calls, Connect answers
// a call with no token 401 with WWW-Authenticate: Bearer, one with a bad
// token 401 saying why, and one the policy refuses 403.
func TestConnectRefusals(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	policy := filepath.Join(t.TempDir(), "policy.json")
	writeFile(t, policy, policyFor("greeter", "ann"))
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy)
	c := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + srv.HTTPAddr + "/greeter.v1.GreeterService/SayHello"
	body := []byte(`{"name": "Ann"}`)
	for _, tc := range []struct {
		desc, token string
		status      int
		want        string
	}{
		{"no token", "", 401, `"unauthenticated"`},
		{"expired", iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}, Expiry: time.Now().Add(-time.Hour)}), 401, "expired"},
		{"bob", iss.Token(t, iss.RSA, authtest.Claims{Subject: "bob", Audience: []string{audience}}), 403, `"permission_denied"`},
		{"ann", iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}}), 200, "Hello, Ann!"},
	} {
		headers := []string{"Content-Type", "application/json"}
		if tc.token != "" {
			headers = append(headers, "Authorization", "Bearer "+tc.token)
		}
		a, err := post(c, url, body, headers...)
		if err != nil {
			t.Fatal(err)
		}
		if a.status != tc.status || !strings.Contains(string(a.body), tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.desc, a.status, a.body, tc.status, tc.want)
		}
		if challenge := a.header.Get("WWW-Authenticate"); (tc.status == 401) != strings.HasPrefix(challenge, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", tc.desc, challenge)
		}
	}
}

// trim:http end

// startFailing runs greeter-server with args, expects it to exit non-zero
// within 30 s, and returns what it wrote.
func startFailing(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"--addr", "127.0.0.1:0"}
	base = append(base, "--http-addr", "") // trim:http
	cmd := exec.CommandContext(ctx, serverBin, append(base, args...)...)
	cmd.Env = testproc.EnvironWithoutGreeter()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("greeter-server %v started; want it to refuse:\n%s", args, out)
	}
	return string(out)
}

// TestClientWithToken runs the real greeter-client against the real server:
// with a token file it is let through on both listeners; with a token for a
// subject the policy refuses it exits 71, and without a token 80, saying
// what to set. (Its unit tests cover a token file rotated under a running
// client.)
func TestClientWithToken(t *testing.T) {
	t.Parallel()
	client := buildClient(t)
	iss := authtest.NewIssuer(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	writeFile(t, policy, policyFor("greeter", "ann"))
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy)
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}})+"\n")
	for _, addr := range []string{
		srv.Addr,
		srv.HTTPAddr, // trim:http
	} {
		if err := runClient(client, "Hello, Ada!\n", "--addr", addr, "--token-file", tokenFile, "hello", "--name", "Ada"); err != nil {
			t.Error(err)
		}
	}
	run := func(args ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, client, append([]string{"--addr", srv.Addr}, args...)...)
		cmd.Env = testproc.EnvironWithoutGreeter()
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run("hello", "--name", "Ada"); code != 80 || !strings.Contains(out, "--token-file") {
		t.Errorf("no token: exit %d, %q; want 80 naming --token-file", code, out)
	}
	writeFile(t, tokenFile, iss.Token(t, iss.EC, authtest.Claims{Subject: "bob", Audience: []string{audience}}))
	if code, out := run("--token-file", tokenFile, "hello", "--name", "Ada"); code != 71 || !strings.Contains(out, "policy") {
		t.Errorf("bob's token: exit %d, %q; want 71 naming the policy", code, out)
	}
}

// trim:http begin

// TestProxyAuth puts HAProxy, pooling its upstream connections, in front of
// a server with tokens and a policy, and sends, one after another and all at
// once, callers it must let through and callers it must refuse, in gRPC and
// Connect: each call is decided on its own, whatever the pooled connection
// carried before, and a forged x-jwt-subject counts for nothing through the
// proxy either. Runs where TestProxy runs (scripts/test-proxy.sh).
func TestProxyAuth(t *testing.T) {
	t.Parallel()
	if os.Getenv(proxyEnv) != "require" {
		t.Skipf("SKIPPED: the proxy test runs with $%s=require; scripts/test-proxy.sh (run by scripts/test.sh) installs haproxy and sets it", proxyEnv)
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("$%s=require, but haproxy is not on PATH", proxyEnv)
	}
	cfg, err := filepath.Abs(proxyConfig)
	if err != nil {
		t.Fatal(err)
	}
	iss := authtest.NewIssuer(t)
	policy := filepath.Join(t.TempDir(), "policy.json")
	writeFile(t, policy, policyFor("greeter", "ann"))
	srv := startServer(t, "--oidc-issuer", iss.URL, "--oidc-audience", audience, "--authz-policy", policy)
	p := startProxy(t, haproxy, cfg, srv.HTTPAddr)
	ann := iss.Token(t, iss.RSA, authtest.Claims{Subject: "ann", Audience: []string{audience}})
	bob := iss.Token(t, iss.EC, authtest.Claims{Subject: "bob", Audience: []string{audience}})
	conn := dial(t, p.addr)
	web := newProxyClient(t, false)
	connect := func(headers ...string) int {
		a, err := post(web, "http://"+p.addr+"/greeter.v1.GreeterService/SayHello", []byte(`{"name":"Ann"}`),
			append([]string{"Content-Type", "application/json"}, headers...)...)
		if err != nil {
			t.Errorf("Connect through the proxy: %v", err)
		}
		return a.status
	}
	check := func(round int) {
		for _, c := range []struct {
			desc string
			got  func() any
			want any
		}{
			{"gRPC, ann", func() any { return hello(t, conn, withToken(ann)) }, codes.OK},
			{"gRPC, no token", func() any { return hello(t, conn, metadata.MD{}) }, codes.Unauthenticated},
			{"gRPC, bob naming himself ann", func() any { return hello(t, conn, withToken(bob, "x-jwt-subject", "ann")) }, codes.PermissionDenied},
			{"Connect, ann", func() any { return connect("Authorization", "Bearer "+ann) }, 200},
			{"Connect, no token", func() any { return connect() }, 401},
			{"Connect, bob naming himself ann", func() any { return connect("Authorization", "Bearer "+bob, "X-Jwt-Subject", "ann") }, 403},
		} {
			if got := c.got(); got != c.want {
				t.Errorf("round %d, %s through the proxy: %v, want %v", round, c.desc, got, c.want)
			}
		}
	}
	check(0)
	var wg sync.WaitGroup
	for round := 1; round <= 4; round++ {
		wg.Go(func() { check(round) })
	}
	wg.Wait()
	if t.Failed() {
		t.Logf("haproxy log:\n%s\nserver log:\n%s", p.log.String(), srv.Log())
	}
}

// trim:http end
