package root_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

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
		{name: "helloworld hello", args: []string{"--api", "helloworld", "hello", "-n", "Ada"}, wantOut: "Hello, Ada!\n"},
		{name: "helloworld stream", args: []string{"--api", "helloworld", "hello-stream", "-n", "Ada"}, wantOut: strings.Repeat("Hello, Ada!\n", 3)},
		{name: "helloworld chat", stdin: "ann\n", args: []string{"--api", "helloworld", "chat"}, wantOut: "Hello, ann!\n"},
		{name: "helloworld unimplemented", args: []string{"--api", "helloworld", "hello-again"}, wantErr: "Unimplemented", wantCode: 76},
		{name: "helloworld has no group", args: []string{"--api", "helloworld", "hello-group", "-n", "a"}, wantErr: "needs --api greeter.v1", wantCode: 2},
		{name: "helloworld stream count", args: []string{"--api", "helloworld", "hello-stream", "--count", "2"}, wantErr: "need --api greeter.v1", wantCode: 2},
		{name: "api from env", env: map[string]string{"GREETER_CLIENT_ADDR": addr, "GREETER_CLIENT_API": "helloworld"}, args: []string{"hello-again"}, wantCode: 76, wantErr: "Unimplemented"},
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
		{args: []string{"bench", "-n", "5", "--warmup", "0"}},
		{args: []string{"bench", "-n", "5", "--connections", "3"}},
		{args: []string{"--api", "helloworld", "hello", "--name", "Ann"}},
		{args: []string{"--api", "helloworld", "hello-stream"}},
		{args: []string{"--api", "helloworld", "chat"}, stdin: "Ann\n"},
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
// still says it cannot connect, with exit code 3.
func TestMain_UnreachableEveryCommand(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	for _, args := range [][]string{
		{"hello"}, {"hello-again"}, {"hello-stream"}, {"hello-group", "-n", "Ann"}, {"chat"}, {"health"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			out, errOut, code := run(t, "Ann\n", nil, append([]string{"--addr", addr}, args...)...)
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
