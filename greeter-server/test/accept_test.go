//go:build linux

package test

import (
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/sys/unix"
)

// openFDs returns how many file descriptors process pid has open, and one
// more than the highest of them: the least RLIMIT_NOFILE that holds them.
func openFDs(t *testing.T, pid int) (count, least int) {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Skipf("cannot count the server's file descriptors: %v", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			least = max(least, fd+1)
		}
	}
	return len(entries), least
}

// TestAcceptOutOfFileDescriptors runs the server out of file descriptors
// for real: it lowers the running server's RLIMIT_NOFILE to just above what
// it has open and holds more connections to each listener than it can
// accept. The server must stay up and say once per listener that accepting
// failed; once the limit is back and the connections are gone, it must
// serve on every listener again, and say so.
//
// Only the soft limit is lowered: raising a hard limit back takes
// CAP_SYS_RESOURCE, which even root may lack in a container, while the soft
// one is all accept(2) checks, and the server never raises it itself (Go
// does so once, at start).
func TestAcceptOutOfFileDescriptors(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	addrs := []string{srv.Addr}
	listeners := []string{"grpc"}
	// trim:http begin
	if srv.HTTPAddr == "" {
		t.Fatalf("the server has no HTTP listener; log:\n%s", srv.Log())
	}
	addrs = append(addrs, srv.HTTPAddr)
	listeners = append(listeners, "http")
	// trim:http end
	pid := srv.Cmd.Process.Pid
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &old); err != nil {
		t.Skipf("prlimit refused reading the server's RLIMIT_NOFILE: %v", err)
	}
	count, least := openFDs(t, pid)
	limit := uint64(least + 3)
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: old.Max}, nil); err != nil {
		t.Skipf("prlimit refused lowering the server's RLIMIT_NOFILE: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &old, nil); err != nil {
				t.Errorf("raising the server's RLIMIT_NOFILE back to %d: %v", old.Cur, err)
			}
			restored = true
		}
	}
	t.Cleanup(restore)
	// Descriptors below the limit that are free: the server can accept
	// that many connections, all told.
	free := int(limit) - count
	t.Logf("the server has %d file descriptors open, the highest %d; RLIMIT_NOFILE lowered from %d to %d, leaving %d free", count, least-1, old.Cur, limit, free)

	// Each connection speaks HTTP/2, which every listener does, so that those
	// the server accepts stay open: it closes one that says nothing once the
	// handshake timeout has passed, which would free a descriptor.
	var held []net.Conn
	closeHeld := func() {
		for _, c := range held {
			c.Close()
		}
		held = nil
	}
	t.Cleanup(closeHeld)
	for range free + 5 {
		for _, addr := range addrs {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatalf("connection %d: %v", len(held)+1, err)
			}
			held = append(held, c)
			if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
				t.Fatal(err)
			}
			if err := http2.NewFramer(c, nil).WriteSettings(); err != nil {
				t.Fatal(err)
			}
		}
	}
	failed := func(listener string) *regexp.Regexp {
		return regexp.MustCompile(`accepting connections failed.* listener=` + listener + ` .*too many open files`)
	}
	for _, listener := range listeners {
		srv.WaitFor(t, failed(listener), 20*time.Second)
	}
	select {
	case <-srv.Exited():
		t.Fatalf("greeter-server exited when it ran out of file descriptors:\n%s", srv.Log())
	default:
	}

	// The limit first: connections closed while it is still low would free
	// descriptors for some of the connections waiting to be accepted, and
	// not for others, and the server would run out again.
	restore()
	closeHeld()
	srv.checkServing(t)
	// trim:http begin
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + srv.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz after the descriptors were back: %v; log:\n%s", err, srv.Log())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "SERVING" {
		t.Errorf("GET /healthz after the descriptors were back = %d %q, want 200 SERVING", resp.StatusCode, body)
	}
	// trim:http end
	for _, listener := range listeners {
		srv.WaitFor(t, regexp.MustCompile(`accepting connections again.* listener=`+listener+` `), 10*time.Second)
		var n int
		for line := range strings.Lines(srv.Log()) {
			if failed(listener).MatchString(line) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the server logged %d times that accepting failed on the %s listener, for one stretch out of descriptors, want once; log:\n%s", n, listener, srv.Log())
		}
	}
}
