package root_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/root"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// run runs greeter-client with args, stdin and environment env, and returns
// its stdout, stderr and exit code.
func run(t *testing.T, stdin string, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	code := root.Main(context.Background(), ios, args, func(k string) string { return env[k] })
	return out.String(), errOut.String(), code
}

func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func TestMain_Commands(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	env := map[string]string{"GREETER_CLIENT_ADDR": addr}
	tests := []struct {
		name     string
		stdin    string
		env      map[string]string
		args     []string
		wantOut  string
		wantErr  string // a substring of stderr; "" means stderr is empty
		wantCode int
	}{
		{name: "hello", args: []string{"hello", "--name", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "hello default name", args: []string{"hello"}, wantOut: "Hello, world!\n"},
		{name: "hello-again", args: []string{"hello-again", "-n", "Ada"}, wantOut: "Hello again, Ada!\n"},
		{name: "hello-stream", args: []string{"hello-stream", "-n", "Ada", "--count", "2", "--interval", "1ms"}, wantOut: "Hello, Ada!\nHello, Ada!\n"},
		{name: "hello-stream default count", args: []string{"hello-stream", "-n", "Ada"}, wantOut: strings.Repeat("Hello, Ada!\n", 3)},
		{name: "hello-group flags", args: []string{"hello-group", "-n", "Ann", "-n", "Bob"}, wantOut: "Hello, Ann and Bob!\n"},
		{name: "hello-group stdin", stdin: "Ann\n\nBob\r\nCy\n", args: []string{"hello-group"}, wantOut: "Hello, Ann, Bob and Cy!\n"},
		{name: "chat", stdin: "ann\nbob\n", args: []string{"chat"}, wantOut: "Hello, ann!\nHello, bob!\n"},
		{name: "chat no input", args: []string{"chat"}},
		{name: "health", args: []string{"health"}, wantOut: "SERVING\n"},
		{name: "health service", args: []string{"health", "--service", "greeter.v1.GreeterService"}, wantOut: "SERVING\n"},
		{name: "health unhealthy", args: []string{"health", "-s", greetertest.UnhealthyService}, wantOut: "NOT_SERVING\n", wantErr: "is NOT_SERVING", wantCode: 4},
		{name: "health unknown service", args: []string{"health", "-s", "nope"}, wantErr: "NotFound", wantCode: 69},
		{name: "gzip", args: []string{"--compress", "gzip", "hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "unknown compressor", args: []string{"--compress", "br", "hello"}, wantErr: "--compress must be gzip", wantCode: 2},
		{name: "unknown API", args: []string{"--api", "greeter.v0", "hello"}, wantErr: "--api must be greeter.v1", wantCode: 2},
		// trim:helloworld begin
		{name: "helloworld hello", args: []string{"--api", "helloworld", "hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "helloworld stream", args: []string{"--api", "helloworld", "hello-stream", "-n", "Ada"}, wantOut: strings.Repeat("Hello, Ada!\n", 3)},
		{name: "helloworld chat", stdin: "ann\n", args: []string{"--api", "helloworld", "chat"}, wantOut: "Hello, ann!\n"},
		{name: "helloworld unimplemented", args: []string{"--api", "helloworld", "hello-again"}, wantErr: "Unimplemented", wantCode: 76},
		{name: "helloworld has no group", args: []string{"--api", "helloworld", "hello-group", "-n", "a"}, wantErr: "needs --api greeter.v1", wantCode: 2},
		{name: "helloworld stream count", args: []string{"--api", "helloworld", "hello-stream", "--count", "2"}, wantErr: "need --api greeter.v1", wantCode: 2},
		{name: "api from env", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_API": "helloworld"}, args: []string{"hello-again"}, wantCode: 76, wantErr: "Unimplemented"},
		// trim:helloworld end
		{name: "flag beats env", env: map[string]string{"GREETER_CLIENT_ADDR": "127.0.0.1:1"}, args: []string{"--addr", addr, "hello"}, wantOut: "Hello, world!\n"},
		{name: "legacy env still works", env: map[string]string{"GREETER_ADDR": addr}, args: []string{"hello"}, wantOut: "Hello, world!\n",
			wantErr: "greeter-client: warning: $GREETER_ADDR is deprecated and stops working in the release after next; rename it $GREETER_CLIENT_ADDR\n"},
		{name: "new env beats legacy env", env: map[string]string{"GREETER_ADDR": "127.0.0.1:1", "GREETER_CLIENT_ADDR": addr}, args: []string{"hello"}, wantOut: "Hello, world!\n"},
		{name: "flag beats legacy env", env: map[string]string{"GREETER_ADDR": "127.0.0.1:1"}, args: []string{"--addr", addr, "hello"}, wantOut: "Hello, world!\n"},
		{name: "bad legacy env", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_TIMEOUT": "soon"}, args: []string{"hello"}, wantErr: "invalid $GREETER_TIMEOUT", wantCode: 2},
		{name: "server env not read", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_SERVER_ADDR": "127.0.0.1:1", "GREETER_SERVER_TIMEOUT": "soon"}, args: []string{"hello"}, wantOut: "Hello, world!\n"},
		{name: "unknown flag", args: []string{"hello", "--nme", "x"}, wantErr: "unknown flag: --nme", wantCode: 2},
		{name: "unknown command", args: []string{"helo"}, wantErr: `did you mean "hello"`, wantCode: 2},
		{name: "extra argument", args: []string{"hello", "Ada"}, wantErr: "unknown command \"Ada\"", wantCode: 2},
		{name: "bad output", args: []string{"-o", "yaml", "hello"}, wantErr: "--output must be text or json", wantCode: 2},
		{name: "zero timeout", args: []string{"--timeout", "0s", "hello"}, wantErr: "every call has a deadline", wantCode: 2},
		{name: "bad env", env: map[string]string{"GREETER_CLIENT_TIMEOUT": "soon"}, args: []string{"hello"}, wantErr: "invalid $GREETER_CLIENT_TIMEOUT", wantCode: 2},
		{name: "bad env output", env: map[string]string{"GREETER_CLIENT_OUTPUT": "yaml"}, args: []string{"hello"}, wantErr: "$GREETER_CLIENT_OUTPUT must be text or json", wantCode: 2},
		{name: "zero timeout from env", env: map[string]string{"GREETER_CLIENT_TIMEOUT": "0s"}, args: []string{"hello"}, wantErr: "$GREETER_CLIENT_TIMEOUT must be more than 0", wantCode: 2},
		{name: "bad header", args: []string{"-H", "novalue", "hello"}, wantErr: "want key=value", wantCode: 2},
		{name: "cert without key", args: []string{"--cert", "c.pem", "hello"}, wantErr: "--cert and --key go together", wantCode: 2},
		{name: "missing ca", args: []string{"--ca", "/nonexistent/ca.pem", "hello"}, wantErr: "read --ca", wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env
			if tt.env != nil {
				e = tt.env
			}
			out, errOut, code := run(t, tt.stdin, e, tt.args...)
			if code != tt.wantCode {
				t.Errorf("greeter-client %v: exit code %d, want %d (stderr %q)", tt.args, code, tt.wantCode, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("greeter-client %v: stdout %q, want %q", tt.args, out, tt.wantOut)
			}
			if tt.wantErr == "" && errOut != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("greeter-client %v: stderr %q, want it to contain %q", tt.args, errOut, tt.wantErr)
			}
			if tt.wantCode != 0 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("greeter-client %v: stderr %q, want one line", tt.args, errOut)
			}
		})
	}
}

func TestMain_JSON(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	tests := []struct {
		args  []string
		stdin string
		want  []map[string]any
	}{
		{args: []string{"hello", "-n", "Ada"}, want: []map[string]any{{"message": "Hello, Ada!"}}},
		{args: []string{"hello-stream", "-n", "Ada", "-c", "2"}, want: []map[string]any{
			{"message": "Hello, Ada!", "sequence": 1.0}, {"message": "Hello, Ada!", "sequence": 2.0}}},
		{args: []string{"hello-group", "-n", "Ann", "-n", "Bob"}, want: []map[string]any{{"message": "Hello, Ann and Bob!", "count": 2.0}}},
		{args: []string{"chat"}, stdin: "ann\nbob\n", want: []map[string]any{{"message": "Hello, ann!"}, {"message": "Hello, bob!"}}},
		{args: []string{"health"}, want: []map[string]any{{"status": "SERVING"}}},
	}
	for _, tt := range tests {
		out, errOut, code := run(t, tt.stdin, map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_OUTPUT": "json"}, tt.args...)
		if code != 0 {
			t.Fatalf("greeter-client %v: exit code %d, stderr %q", tt.args, code, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(tt.want) {
			t.Fatalf("greeter-client %v: %d lines of JSON, want %d: %q", tt.args, len(lines), len(tt.want), out)
		}
		for i, line := range lines {
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("greeter-client %v: line %q is not JSON: %v", tt.args, line, err)
			}
			for k, v := range tt.want[i] {
				if got[k] != v {
					t.Errorf("greeter-client %v: line %d: %s = %v, want %v", tt.args, i, k, got[k], v)
				}
			}
		}
	}
}

func TestMain_Verbose(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	out, errOut, code := run(t, "", nil, "--addr", addr, "-v", "-H", greetertest.EchoHeader+"=42", "hello", "-n", "Ada")
	if code != 0 || out != "Hello, Ada!\n" {
		t.Fatalf("hello -v: exit code %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, want := range []string{"> greeter.v1.GreeterService/SayHello on " + addr, "> x-echo: 42", "< header x-echo: 42", "< status OK in "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("hello -v: stderr %q, want it to contain %q", errOut, want)
		}
	}
}

func TestMain_HeaderEnv(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	env := map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_VERBOSE": "true", "GREETER_CLIENT_HEADER": greetertest.EchoHeader + "=1," + greetertest.EchoHeader + "=2"}
	_, errOut, code := run(t, "", env, "hello")
	if code != 0 || !strings.Contains(errOut, "< header x-echo: 1,2") {
		t.Errorf("hello with GREETER_CLIENT_HEADER: exit code %d, stderr %q, want both values echoed", code, errOut)
	}
}

func TestMain_Interrupted(t *testing.T) {
	t.Parallel()
	addr := greetertest.Start(t)
	ios, _, out, errOut := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came before the call
	code := root.Main(ctx, ios, []string{"--addr", addr, "hello"}, func(string) string { return "" })
	if code != 130 || out.Len() != 0 || errOut.String() != "greeter-client: interrupted\n" {
		t.Errorf("interrupted hello: exit code %d, stdout %q, stderr %q; want 130, nothing, interrupted", code, out, errOut)
	}
}

func TestMain_Unreachable(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	out, errOut, code := run(t, "", nil, "--addr", addr, "hello")
	if code != 3 {
		t.Errorf("hello against %s: exit code %d, want 3", addr, code)
	}
	if out != "" {
		t.Errorf("hello against %s: stdout %q, want nothing", addr, out)
	}
	for _, want := range []string{addr, "connection refused", "--addr"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("hello against %s: stderr %q, want it to contain %q", addr, errOut, want)
		}
	}
}

func TestMain_Version(t *testing.T) {
	t.Parallel()
	out, errOut, code := run(t, "", nil, "version")
	if code != 0 || !strings.Contains(out, "greeter-client ") || !strings.Contains(out, "greeter-api ") {
		t.Errorf("version: exit code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestMain_NotServing runs every command against a server that is up but
// reports NOT_SERVING: client-side health checking keeps calls off it, and
// each command must say so with exit code 4, not "cannot connect".
func TestMain_NotServing(t *testing.T) {
	t.Parallel()
	addr := greetertest.StartNotServing(t)
	wantErr := "server at " + addr + " is up but not serving (health: NOT_SERVING)"
	tests := []struct {
		args    []string
		stdin   string
		wantOut string
		wantErr string
	}{
		{args: []string{"hello", "--name", "Ann"}},
		{args: []string{"hello-again", "--name", "Ann"}},
		{args: []string{"hello-stream", "--name", "Ann"}},
		{args: []string{"hello-group", "--name", "Ann", "--name", "Bob"}},
		{args: []string{"hello-group"}, stdin: "Ann\n"},
		{args: []string{"chat"}, stdin: "Ann\n"},
		{args: []string{"bench", "--total", "5", "--warmup", "0"}},
		{args: []string{"bench", "--total", "5", "--connections", "3"}},
		// trim:helloworld begin
		{args: []string{"--api", "helloworld", "hello", "--name", "Ann"}},
		{args: []string{"--api", "helloworld", "hello-stream"}},
		{args: []string{"--api", "helloworld", "chat"}, stdin: "Ann\n"},
		// trim:helloworld end
		// health asks for itself, without health checking.
		{args: []string{"health"}, wantOut: "NOT_SERVING\n", wantErr: "server is NOT_SERVING"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			if tt.wantErr == "" {
				tt.wantErr = wantErr
			}
			start := time.Now()
			out, errOut, code := run(t, tt.stdin, nil, append([]string{"--addr", addr}, tt.args...)...)
			if code != exitcode.Unhealthy {
				t.Errorf("exit code %d, want %d (stderr %q)", code, exitcode.Unhealthy, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErr) || strings.Contains(errOut, "cannot connect") {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
			// The default --connect-timeout is 5s; the answer comes at once.
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("took %s, want well under --connect-timeout", elapsed)
			}
		})
	}
}

// TestMain_UnreachableEveryCommand: where nothing listens, every command
// that calls the server (every command but version and bench, which has its
// own report) still says it cannot connect, with exit code 3. Commands that
// read names read "Ann" from stdin.
func TestMain_UnreachableEveryCommand(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	for _, command := range commands(t) {
		if command == "version" || command == "bench" {
			continue
		}
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := run(t, "Ann\n", nil, "--addr", addr, command)
			if code != exitcode.Connect || out != "" {
				t.Errorf("exit code %d, stdout %q, want %d and nothing (stderr %q)", code, out, exitcode.Connect, errOut)
			}
			for _, want := range []string{"cannot connect to " + addr, "connection refused", "check that the server is running there"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q, want it to contain %q", errOut, want)
				}
			}
		})
	}
}

// TestMain_Token runs the commands with a bearer token against a server
// that checks it: the token reaches the server from either source, on every
// command, and the refusals have their exit codes and say what to check.
func TestMain_Token(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{Token: "s3cret", Deny: []string{greeterv1.GreeterService_SayHelloAgain_FullMethodName}}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	// A server that answers health checks without a token, as one whose
	// kubelet probes carry none, refuses the call itself.
	openAuth := &greetertest.Auth{Token: "s3cret", ExemptHealth: true}
	openHealthAddr := greetertest.Start(t, openAuth.ServerOptions()...)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongFile := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrongFile, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "bad")
	if err := os.WriteFile(badFile, []byte("s3cret\nmore\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withToken := map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_TOKEN": "s3cret"}
	tests := []struct {
		name     string
		stdin    string
		env      map[string]string
		args     []string
		wantOut  string
		wantErr  []string // substrings of stderr; none means stderr is empty
		wantCode int
	}{
		{name: "env token", env: withToken, args: []string{"hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "token file", args: []string{"--addr", addr, "--token-file", tokenFile, "hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "token file from env", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_TOKEN_FILE": tokenFile}, args: []string{"hello"}, wantOut: "Hello, world!\n"},
		{name: "hello-stream", env: withToken, args: []string{"hello-stream", "-n", "Ada", "-c", "1"}, wantOut: "Hello, Ada!\n"},
		{name: "hello-group", env: withToken, args: []string{"hello-group", "-n", "Ann", "-n", "Bob"}, wantOut: "Hello, Ann and Bob!\n"},
		{name: "chat", env: withToken, stdin: "ann\n", args: []string{"chat"}, wantOut: "Hello, ann!\n"},
		{name: "health", env: withToken, args: []string{"health"}, wantOut: "SERVING\n"},
		{name: "bench", env: withToken, args: []string{"-o", "json", "bench", "--total", "5", "--warmup", "1", "--concurrency", "2", "--connections", "2"}, wantOut: `"status_codes":{"OK":5}`},
		{name: "helloworld", env: withToken, args: []string{"--api", "helloworld", "hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"}, // trim:helloworld

		{name: "no token", args: []string{"--addr", addr, "hello"}, wantCode: 80,
			wantErr: []string{"no bearer token (Unauthenticated)", "needs a valid bearer token", "--token-file", "GREETER_CLIENT_TOKEN"}},
		{name: "no token health", args: []string{"--addr", addr, "health"}, wantCode: 80,
			wantErr: []string{"grpc.health.v1.Health/Check on " + addr + " failed: no bearer token (Unauthenticated)", "needs a valid bearer token"}},
		{name: "no token, health open", args: []string{"--addr", openHealthAddr, "hello"}, wantCode: 80,
			wantErr: []string{"greeter.v1.GreeterService/SayHello on " + openHealthAddr + " failed: no bearer token (Unauthenticated)", "not expired", "audience"}},
		{name: "wrong token", args: []string{"--addr", openHealthAddr, "--token-file", wrongFile, "hello"}, wantCode: 80,
			wantErr: []string{"bearer token not valid (Unauthenticated)"}},
		{name: "denied method", env: withToken, args: []string{"hello-again"}, wantCode: 71,
			wantErr: []string{"SayHelloAgain on " + addr + " failed: policy allows test-caller only SayHello (PermissionDenied)", "you are authenticated", "authorization policy", "identity"}},

		{name: "both sources", env: withToken, args: []string{"--token-file", tokenFile, "hello"}, wantCode: 2,
			wantErr: []string{"both --token-file (or GREETER_CLIENT_TOKEN_FILE) and GREETER_CLIENT_TOKEN are set"}},
		{name: "both sources from env", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_TOKEN": "s3cret", "GREETER_CLIENT_TOKEN_FILE": tokenFile}, args: []string{"hello"}, wantCode: 2,
			wantErr: []string{"give the bearer token one way only"}},
		{name: "missing file", args: []string{"--addr", addr, "--token-file", filepath.Join(dir, "missing"), "hello"}, wantCode: 1,
			wantErr: []string{"read --token-file", filepath.Join(dir, "missing")}},
		{name: "empty file", args: []string{"--addr", addr, "--token-file", emptyFile, "hello"}, wantCode: 1,
			wantErr: []string{"read --token-file: " + emptyFile + ": the token is empty"}},
		{name: "two lines in file", args: []string{"--addr", addr, "--token-file", badFile, "hello"}, wantCode: 1,
			wantErr: []string{badFile, "byte 0x0a"}},
		{name: "bad env token", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_TOKEN": "s3cret\x01"}, args: []string{"hello"}, wantCode: 2,
			wantErr: []string{"bad GREETER_CLIENT_TOKEN", "byte 0x01"}},
		{name: "token and authorization header", env: withToken, args: []string{"-H", "authorization=Bearer x", "hello"}, wantCode: 2,
			wantErr: []string{"give only one"}},

		{name: "plaintext to a remote host", env: map[string]string{"GREETER_CLIENT_TOKEN": "s3cret"}, args: []string{"--addr", "greeter.example.com:50051", "hello"}, wantCode: 2,
			wantErr: []string{"refusing to send the bearer token to greeter.example.com:50051 without TLS", "--tls", "--insecure-token"}},
		{name: "plaintext to a remote IP", args: []string{"--addr", "10.1.2.3:50051", "--token-file", tokenFile, "chat"}, stdin: "ann\n", wantCode: 2,
			wantErr: []string{"refusing to send the bearer token to 10.1.2.3:50051 without TLS"}},
		// --insecure-token gets past the guard: what follows is dialing a
		// name that cannot resolve (.invalid, RFC 2606).
		{name: "insecure token", env: map[string]string{"GREETER_CLIENT_TOKEN": "s3cret", "GREETER_CLIENT_INSECURE_TOKEN": "true"},
			args: []string{"--addr", "greeter.invalid:50051", "--connect-timeout", "1s", "hello"}, wantCode: 3, wantErr: []string{"cannot connect to greeter.invalid:50051"}},
		// Over TLS the guard lets it through; the handshake then fails
		// against this plaintext server.
		{name: "tls to a remote host", env: map[string]string{"GREETER_CLIENT_TOKEN": "s3cret"},
			args: []string{"--addr", "greeter.invalid:50051", "--tls", "--connect-timeout", "1s", "hello"}, wantCode: 3, wantErr: []string{"cannot connect to greeter.invalid:50051"}},
		{name: "plaintext to localhost", env: map[string]string{"GREETER_CLIENT_TOKEN": "s3cret"}, args: []string{"--addr", "localhost:" + port(t, addr), "hello"}, wantOut: "Hello, world!\n"},
		// A legacy name is read only for the flags that had one.
		{name: "no legacy token file", env: map[string]string{"GREETER_CLIENT_ADDR": openHealthAddr, "GREETER_TOKEN_FILE": tokenFile}, args: []string{"hello"}, wantCode: 80,
			wantErr: []string{"no bearer token (Unauthenticated)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := run(t, tt.stdin, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("greeter-client %v: exit code %d, want %d (stderr %q)", tt.args, code, tt.wantCode, errOut)
			}
			if tt.wantOut != "" && !strings.Contains(out, tt.wantOut) || tt.wantOut == "" && out != "" {
				t.Errorf("greeter-client %v: stdout %q, want %q", tt.args, out, tt.wantOut)
			}
			if len(tt.wantErr) == 0 && errOut != "" {
				t.Errorf("greeter-client %v: stderr %q, want nothing", tt.args, errOut)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(errOut, want) {
					t.Errorf("greeter-client %v: stderr %q, want it to contain %q", tt.args, errOut, want)
				}
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("greeter-client %v: stderr %q, want at most one line", tt.args, errOut)
			}
			if strings.Contains(out+errOut, "s3cret") {
				t.Errorf("greeter-client %v: the token appears in the output: stdout %q, stderr %q", tt.args, out, errOut)
			}
		})
	}
}

// TestMain_TokenVerbose: --verbose says a token is sent, never which.
func TestMain_TokenVerbose(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{Token: "s3cret"}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	out, errOut, code := run(t, "", map[string]string{"GREETER_CLIENT_TOKEN": "s3cret"}, "--addr", addr, "-v", "hello")
	if code != 0 || out != "Hello, world!\n" {
		t.Fatalf("hello -v with a token: exit code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "> authorization: Bearer <redacted>\n") || strings.Contains(errOut, "s3cret") {
		t.Errorf("hello -v with a token: stderr %q, want the authorization redacted", errOut)
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
