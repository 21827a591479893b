package test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPJSON calls the real binary the way curl does: an HTTP/1.1 POST of
// JSON to the HTTP listener (the README's example).
func TestHTTPJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	client := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		desc, contentType, body string
		wantStatus              int
		wantInBody              string
	}{
		{"greeting", "application/json", `{"name":"Ann"}`, 200, `{"message":"Hello, Ann!"}`},
		{"broken rule", "application/json", `{"name":"   "}`, 400, `"code":"invalid_argument"`},
		{"malformed JSON", "application/json", `{"name":"Ann"`, 400, `"code":"invalid_argument"`},
		{"wrong content type", "text/plain", `name=Ann`, 415, "unsupported content type"},
	}
	for _, tt := range tests {
		resp, err := client.Post("http://"+s.HTTPAddr+"/greeter.v1.GreeterService/SayHello", tt.contentType, strings.NewReader(tt.body))
		if err != nil {
			t.Fatalf("%s: POST: %v", tt.desc, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || resp.Proto != "HTTP/1.1" || !bytes.Contains(body, []byte(tt.wantInBody)) {
			t.Errorf("%s: POST %s = %d over %s: %s; want %d over HTTP/1.1 with %s", tt.desc, tt.body, resp.StatusCode, resp.Proto, body, tt.wantStatus, tt.wantInBody)
		}
		if tt.wantStatus == 400 && tt.desc == "broken rule" && !bytes.Contains(body, []byte("name")) {
			t.Errorf("%s: error %s does not name the field", tt.desc, body)
		}
	}
	s.checkServing(t)
}

// TestBufCurl calls the real binary with buf curl (the pinned buf, through
// scripts/buf): server streaming over the Connect protocol, and unary over
// gRPC-Web, with the schema from proto/.
func TestBufCurl(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	tests := []struct {
		protocol, method, body string
		want                   []string
	}{
		{"connect", "greeter.v1.GreeterService/SayHelloStream", `{"name":"Ann","count":2,"interval":"0.1s"}`, []string{`"sequence": 1`, `"sequence": 2`, `"message": "Hello, Ann!"`}},
		{"grpcweb", "helloworld.Greeter/SayHello", `{"name":"Ann"}`, []string{`"message": "Hello, Ann!"`}}, // trim:helloworld
		{"connect", "greeter.v1.GreeterService/SayHello", `{"name":""}`, []string{"invalid_argument", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.protocol+" "+tt.method, func(t *testing.T) {
			t.Parallel()
			bufCurl(t, root, s.HTTPAddr, tt.protocol, tt.method, tt.body, tt.want)
		})
	}
}

func bufCurl(t *testing.T, root, addr, protocol, method, body string, want []string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "scripts/buf"), "curl", "--schema", "proto", "--protocol", protocol,
		"--timeout", "10s", "-d", body, "http://"+addr+"/"+method)
	out, err := cmd.CombinedOutput()
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("buf curl --protocol %s %s -d %s = %v:\n%s\nwant it to contain %s", protocol, method, body, err, out, w)
		}
	}
}
