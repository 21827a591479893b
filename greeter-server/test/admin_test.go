package test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	channelzpb "google.golang.org/grpc/channelz/grpc_channelz_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

var adminRE = regexp.MustCompile(`msg="admin listening" addr=(\S+)`)

// TestAdmin runs greeter-server with --admin-addr and checks the admin
// surface for real: a pprof profile over HTTP and channelz's GetServers
// over gRPC, which sees the public server's calls, both on the admin port;
// and neither on the public port.
func TestAdmin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--admin-addr", "127.0.0.1:0")
	m := adminRE.FindStringSubmatch(s.Log())
	if m == nil {
		t.Fatalf("no admin listening line:\n%s", s.Log())
	}
	admin := strings.Trim(m[1], `"`)
	if strings.Contains(s.Log(), "non-loopback") {
		t.Errorf("warned about a loopback admin address:\n%s", s.Log())
	}
	s.checkServing(t) // one call on the public port, for channelz to count

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	get := func(addr, path string) (int, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	code, body, err := get(admin, "/debug/pprof/goroutine?debug=1")
	if err != nil || code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET /debug/pprof/goroutine on the admin port = %d, %v:\n%.300s", code, err, body)
	}
	if code, _, err := get(s.Addr, "/debug/pprof/goroutine?debug=1"); err == nil && code == http.StatusOK {
		t.Errorf("GET /debug/pprof/goroutine on the public port = %d, want no profile there", code)
	}

	servers := func(addr string) (*channelzpb.GetServersResponse, error) {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return channelzpb.NewChannelzClient(conn).GetServers(ctx, &channelzpb.GetServersRequest{})
	}
	resp, err := servers(admin)
	if err != nil {
		t.Fatalf("channelz GetServers on the admin port: %v", err)
	}
	var succeeded int64
	for _, srv := range resp.GetServer() {
		succeeded += srv.GetData().GetCallsSucceeded()
	}
	if succeeded < 1 {
		t.Errorf("channelz GetServers: %d calls succeeded over %d servers, want the public server's call counted: %v", succeeded, len(resp.GetServer()), resp)
	}
	if _, err := servers(s.Addr); status.Code(err) != codes.Unimplemented {
		t.Errorf("channelz GetServers on the public port: %v, want Unimplemented", err)
	}
}

// TestAdminNonLoopbackWarns checks the warning for an admin listener that
// other hosts can reach.
func TestAdminNonLoopbackWarns(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--admin-addr", "0.0.0.0:0")
	if !strings.Contains(s.Log(), "admin surface (pprof, channelz) on a non-loopback address") {
		t.Errorf("no warning for --admin-addr 0.0.0.0:0:\n%s", s.Log())
	}
}
