package test

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// startGreeterServer starts the greeter-server binary on a free loopback
// port until the test ends, and returns its gRPC address.
// Its HTTP listener takes any free loopback port: its default, // trim:http
// localhost:8080, would collide between parallel tests. // trim:http
func startGreeterServer(t *testing.T) string {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	var serverLog bytes.Buffer
	server := exec.Command(serverBin, "--addr", addr,
		"--http-addr", "127.0.0.1:0", // trim:http
		"--log-level", "warn")
	server.Env = environWithoutGreeter()
	server.Stderr = &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
	})
	waitListening(t, addr, &serverLog)
	return addr
}

// TestServerRules runs the greeter-client binary against the real
// greeter-server with requests that break the server's rules. The rules live
// in greeter-server alone; the client's in-process test server
// (internal/greetertest) has none, so this is where the client meets them:
// each refusal exits 67 (InvalidArgument) with the server's reason on one
// line of stderr, and stdout holds only the greetings that came before it.
// It also checks the defaults the server chooses for what the client leaves
// unset.
func TestServerRules(t *testing.T) {
	t.Parallel()
	addr := startGreeterServer(t)
	failed := func(method, reason string) string {
		return "greeter-client: " + method + " on " + addr + " failed: " + reason + " (InvalidArgument)\n"
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantOut  string
		wantErr  string // all of stderr
		wantCode int
	}{
		{name: "hello bad name", args: []string{"hello", "--name", " "}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHello", "invalid name: must not be only white space")},
		{name: "hello-again empty name", args: []string{"hello-again", "--name", ""}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloAgain", "invalid name: is required and must not be empty")},
		// trim:helloworld begin
		{name: "helloworld hello bad name", args: []string{"--api", "helloworld", "hello", "--name", " "}, wantCode: 67,
			wantErr: failed("helloworld.Greeter/SayHello", "invalid name: must not be only white space")},
		// trim:helloworld end
		{name: "hello-stream bad count", args: []string{"hello-stream", "--count", "101"}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloStream", "invalid count: must be from 1 to 100 (0 means 3), got 101")},
		{name: "hello-stream bad interval", args: []string{"hello-stream", "--interval", "1500us"}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloStream", "invalid interval: must be in whole milliseconds, got 1.5ms")},
		{name: "hello-stream default count", args: []string{"hello-stream", "-n", "Ada"}, wantOut: strings.Repeat("Hello, Ada!\n", 3)},
		{name: "hello-group empty stdin", args: []string{"hello-group"}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloGroup", "invalid name: a group holds between 1 and 1000 names; this call sent none")},
		{name: "hello-group bad name", args: []string{"hello-group", "-n", "Ann", "-n", "a\x01"}, wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloGroup", "invalid name: must not contain control characters, found U+0001")},
		{name: "chat bad name", stdin: "ann\n\x01\nbob\n", args: []string{"chat"}, wantOut: "Hello, ann!\n", wantCode: 67,
			wantErr: failed("greeter.v1.GreeterService/SayHelloChat", "invalid name: must not contain control characters, found U+0001")},
		// trim:helloworld begin
		{name: "helloworld chat bad name", stdin: "ann\n\x01\nbob\n", args: []string{"--api", "helloworld", "chat"}, wantOut: "Hello, ann!\n", wantCode: 67,
			wantErr: failed("helloworld.Greeter/SayHelloBidiStream", "invalid name: must not contain control characters, found U+0001")},
		// trim:helloworld end
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runClient(t, tt.stdin, append([]string{"--addr", addr}, tt.args...)...)
			if code != tt.wantCode || out != tt.wantOut || errOut != tt.wantErr {
				t.Errorf("greeter-client %q: exit code %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}
