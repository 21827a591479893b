package conn_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

const sayHelloMethod = greeterv1.GreeterService_SayHello_FullMethodName

// TestCheckToken: a token is sent in plaintext only to a loopback address,
// unless InsecureToken says so; over TLS it goes anywhere.
func TestCheckToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		opts conn.Options
		want bool // whether the token may be sent
	}{
		{addr: "localhost:50051", want: true},
		{addr: "LOCALHOST:50051", want: true},
		{addr: "localhost", want: true},
		{addr: "127.0.0.1:50051", want: true},
		{addr: "127.3.4.5:50051", want: true},
		{addr: "[::1]:50051", want: true},
		{addr: "[::ffff:127.0.0.1]:50051", want: true},
		{addr: "dns:///localhost:50051", want: true},
		{addr: "dns:localhost:50051", want: true},
		{addr: "dns://8.8.8.8/127.0.0.1:50051", want: true},
		{addr: "passthrough:///localhost:50051", want: true},
		{addr: "passthrough:///127.0.0.1:50051", want: true},
		{addr: "unix:///run/greeter.sock", want: true},
		{addr: "unix:greeter.sock", want: true},
		{addr: "unix-abstract:greeter", want: true},

		{addr: "greeter.example.com:443"},
		{addr: "dns:///greeter.example.com:443"},
		{addr: "10.0.0.1:50051"},
		{addr: "[2001:db8::1]:50051"},
		{addr: "0.0.0.0:50051"},
		{addr: "localhost.example.com:50051"},
		{addr: "my-localhost:50051"},
		// localhost as a DNS server of the target's choice answers it.
		{addr: "dns://8.8.8.8/localhost:50051"},
		{addr: "xds:///greeter"},
		{addr: "passthrough:///greeter.example.com:50051"},

		{addr: "greeter.example.com:443", opts: conn.Options{TLS: true}, want: true},
		{addr: "greeter.example.com:443", opts: conn.Options{CA: "ca.pem"}, want: true},
		{addr: "greeter.example.com:443", opts: conn.Options{ServerName: "greeter"}, want: true},
		{addr: "greeter.example.com:443", opts: conn.Options{InsecureToken: true}, want: true},
	}
	for _, tt := range tests {
		o := tt.opts
		o.Addr, o.Token = tt.addr, "secret"
		err := o.CheckToken()
		if got := err == nil; got != tt.want {
			t.Errorf("CheckToken(%q, TLS %v, InsecureToken %v) = %v, want allowed %v", tt.addr, o.UseTLS(), o.InsecureToken, err, tt.want)
		}
		if err == nil {
			continue
		}
		if exitcode.Code(err) != exitcode.Usage {
			t.Errorf("CheckToken(%q): exit code %d, want %d", tt.addr, exitcode.Code(err), exitcode.Usage)
		}
		for _, want := range []string{tt.addr, "without TLS", "--tls", "--insecure-token"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("CheckToken(%q) = %q, want it to say %q", tt.addr, err, want)
			}
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckToken(%q) = %q, which repeats the token", tt.addr, err)
		}
		// Without a token there is nothing to guard.
		o.Token = ""
		if err := o.CheckToken(); err != nil {
			t.Errorf("CheckToken(%q) without a token = %v, want nil", tt.addr, err)
		}
	}
}

func TestCheckToken_Sources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts    conn.Options
		wantErr string
	}{
		{opts: conn.Options{Token: "a", TokenFile: "f"}, wantErr: "give the bearer token one way only"},
		{opts: conn.Options{Token: " \n"}, wantErr: "bad GREETER_CLIENT_TOKEN: the token is empty"},
		{opts: conn.Options{Token: "sec ret"}, wantErr: "bad GREETER_CLIENT_TOKEN: the token has byte 0x20"},
		{opts: conn.Options{Token: "secret\n"}},
	}
	for _, tt := range tests {
		tt.opts.Addr = "localhost:50051"
		err := tt.opts.CheckToken()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckToken(%+v) = %v, want nil", tt.opts, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.Code(err) != exitcode.Usage):
			t.Errorf("CheckToken(%+v) = %v, want a usage error saying %q", tt.opts, err, tt.wantErr)
		}
	}
}

// TestToken_Plaintext: over plaintext to loopback the token is sent with
// every call, health checking's included.
func TestToken_Plaintext(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{Token: "secret"}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Token: "secret\n"}}
	t.Cleanup(func() { f.Close() })
	if err := sayHello(f); err != nil {
		t.Fatalf("SayHello with a token over plaintext to %s: %v", addr, err)
	}
	for _, method := range []string{sayHelloMethod, "/grpc.health.v1.Health/Watch"} {
		if got := auth.Seen(method); len(got) == 0 || got[0] != "Bearer secret" {
			t.Errorf("%s: authorization %q, want [Bearer secret]", method, got)
		}
	}
}

// TestToken_TLS: over TLS the token is sent, and the credentials require
// TLS (grpc-go checks the connection's security level before each call).
func TestToken_TLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	auth := &greetertest.Auth{Token: "secret"}
	addr := greetertest.Start(t, append(auth.ServerOptions(), grpc.Creds(credentials.NewTLS(p.serverTLS)))...)
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second,
		CA: p.caFile, Cert: p.clientCert, Key: p.clientKey, TokenFile: writeToken(t, "secret\n")}}
	t.Cleanup(func() { f.Close() })
	if err := sayHello(f); err != nil {
		t.Fatalf("SayHello with a token over TLS: %v", err)
	}
	if got := auth.Seen(sayHelloMethod); len(got) != 1 || got[0] != "Bearer secret" {
		t.Errorf("authorization %q, want [Bearer secret]", got)
	}
}

// TestToken_InsecureToken dials a name that is not loopback (a manual
// resolver maps it to the test server): the token is refused without
// InsecureToken, before anything is dialed, and sent with it.
func TestToken_InsecureToken(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{Token: "secret"}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	for _, insecureToken := range []bool{false, true} {
		r := manual.NewBuilderWithScheme("test")
		r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: addr}}})
		f := &conn.Factory{
			Options:     conn.Options{Addr: "test:///greeter.example.com", Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Token: "secret", InsecureToken: insecureToken},
			DialOptions: []grpc.DialOption{grpc.WithResolvers(r)},
		}
		t.Cleanup(func() { f.Close() })
		err := sayHello(f)
		if insecureToken {
			if err != nil {
				t.Errorf("SayHello with InsecureToken: %v", err)
			}
			continue
		}
		if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "--insecure-token") {
			t.Errorf("SayHello without InsecureToken = %v, want a usage error naming --insecure-token", err)
		}
		if got := auth.Seen(sayHelloMethod); len(got) != 0 {
			t.Errorf("without InsecureToken the server saw calls: %q", got)
		}
	}
	if got := auth.Seen(sayHelloMethod); len(got) != 1 || got[0] != "Bearer secret" {
		t.Errorf("authorization %q, want [Bearer secret]", got)
	}
}

// TestToken_FileRotation uses the Factory as the commands do: a token file
// replaced mid-session (the kubelet's symbolic link swap) is sent by the
// calls after TokenRecheck.
func TestToken_FileRotation(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	dir := t.TempDir()
	for _, step := range []struct{ dir, token string }{{"..1", "first"}, {"..2", "second"}} {
		if err := os.Mkdir(filepath.Join(dir, step.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, step.dir, "token"), []byte(step.token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	link("..1")
	path := filepath.Join(dir, "token")
	if err := os.Symlink(filepath.Join("..data", "token"), path); err != nil {
		t.Fatal(err)
	}
	var warned atomic.Int32
	f := &conn.Factory{
		Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, TokenFile: path},
		Warn:    func(error) { warned.Add(1) },
	}
	t.Cleanup(func() { f.Close() })
	if err := sayHello(f); err != nil {
		t.Fatal(err)
	}
	link("..2")
	// The file is looked at once per TokenRecheck, so the calls made within
	// it may still send the first token; after it, every call sends the new.
	deadline := time.Now().Add(TokenRecheckBound)
	for {
		if err := sayHello(f); err != nil {
			t.Fatal(err)
		}
		seen := auth.Seen(sayHelloMethod)
		if seen[len(seen)-1] == "Bearer second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("authorization after rotation %q, want Bearer second within %s", seen, TokenRecheckBound)
		}
		time.Sleep(50 * time.Millisecond) // poll, not a test of timing
	}
	seen := auth.Seen(sayHelloMethod)
	if seen[0] != "Bearer first" {
		t.Errorf("authorization before rotation %q, want Bearer first", seen[0])
	}
	for i, got := range seen[1:] {
		if got != "Bearer first" && got != "Bearer second" || got == "Bearer first" && seen[i] == "Bearer second" {
			t.Errorf("authorizations %q: want Bearer first, then only Bearer second", seen)
			break
		}
	}
	if n := warned.Load(); n != 0 {
		t.Errorf("%d warnings, want none", n)
	}
}

// TokenRecheckBound is how long TestToken_FileRotation waits for the new
// token: TokenRecheck with room for a slow machine.
const TokenRecheckBound = conn.TokenRecheck + 5*time.Second

func TestToken_FileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing"), empty} {
		f := &conn.Factory{Options: conn.Options{Addr: "localhost:1", Timeout: time.Second, ConnectTimeout: time.Second, TokenFile: path}}
		_, err := f.Conn(context.Background())
		if err == nil || !strings.Contains(err.Error(), "--token-file") || !strings.Contains(err.Error(), path) || exitcode.Code(err) != exitcode.Error {
			t.Errorf("Conn with --token-file %s = %v, want an error naming it, exit code 1", path, err)
		}
	}
}

func TestToken_HeaderConflict(t *testing.T) {
	t.Parallel()
	f := &conn.Factory{Options: conn.Options{Token: "secret", Headers: []string{"Authorization=Bearer other"}}}
	if _, err := f.Metadata(); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "give only one") {
		t.Errorf("Metadata with a token and -H authorization = %v, want a usage error", err)
	}
	f.Options.Token = ""
	if _, err := f.Metadata(); err != nil {
		t.Errorf("Metadata with -H authorization alone = %v, want nil", err)
	}
}

// TestToken_RefusedHealth: a server that refuses even its health checks
// without a valid token is reported as refusing (80), not as unreachable.
func TestToken_RefusedHealth(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{Token: "secret"}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	for _, token := range []string{"", "wrong"} {
		f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Token: token}}
		t.Cleanup(func() { f.Close() })
		start := time.Now()
		_, err := f.Conn(context.Background())
		if got := exitcode.Code(err); got != exitcode.StatusBase+16 {
			t.Errorf("Conn with token %q = %v (exit code %d), want Unauthenticated (80)", token, err, got)
		}
		if err != nil && !strings.Contains(err.Error(), "Health/Check on "+addr) {
			t.Errorf("Conn with token %q = %v, want it to name the health check", token, err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("Conn with token %q took %s, want well under --connect-timeout", token, elapsed)
		}
	}
}

// writeToken writes content to a token file and returns its path.
func writeToken(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
