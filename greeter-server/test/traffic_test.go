package test

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// readUntilClosed reads what the server sends on conn until it closes the
// connection, failing the test if it neither closes nor answers within 10 s.
func readUntilClosed(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept the connection open for 10s without closing it (read %q)", got)
	}
	return got
}

func TestNonGRPCTraffic(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	t.Run("random bytes", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		junk := make([]byte, 64<<10)
		_, _ = rand.Read(junk)
		_, _ = conn.Write(junk) // the server may close before it has read it all
		readUntilClosed(t, conn)
		srv.checkServing(t)
	})

	t.Run("HTTP/1.1 request", func(t *testing.T) {
		// The gRPC listener speaks native gRPC only: grpc-go closes it.
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"))
		if got := readUntilClosed(t, conn); strings.HasPrefix(string(got), "HTTP/1.1 200") {
			t.Errorf("HTTP/1.1 GET / to the gRPC listener = %.200q, want the connection closed", got)
		}
		// trim:http begin
		// The HTTP listener serves the page.
		hconn, err := net.Dial("tcp", srv.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer hconn.Close()
		_, _ = hconn.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"))
		got := readUntilClosed(t, hconn)
		if !strings.HasPrefix(string(got), "HTTP/1.1 200") || !strings.Contains(string(got), "<form") {
			t.Errorf("HTTP/1.1 GET / to the HTTP listener = %.200q, want 200 with the greeting page", got)
		}
		// trim:http end
		srv.checkServing(t)
	})

	// trim:http begin
	t.Run("malformed HTTP/1.1 request", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost localhost\r\n\r\n"))
		got := readUntilClosed(t, conn)
		if !strings.HasPrefix(string(got), "HTTP/1.1 400") {
			t.Errorf("malformed HTTP/1.1 request = %.200q, want 400 and the connection closed", got)
		}
		srv.checkServing(t)
	})
	// trim:http end

	t.Run("TLS hello to a plaintext port", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}) // no verification: the handshake is meant to fail
		if err := tc.Handshake(); err == nil {
			t.Error("TLS handshake with a plaintext port succeeded")
		} else {
			t.Logf("TLS handshake failed as expected: %v", err)
		}
		srv.checkServing(t)
	})

	t.Run("a client that connects and never speaks", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		srv.checkServing(t)
	})
}

var idleConns = flag.Int("idle.conns", 2000, "how many idle connections TestIdleConnections holds open")

// TestIdleConnections holds thousands of idle HTTP/2 connections open and
// checks that the server still serves, then that it serves after they go.
func TestIdleConnections(t *testing.T) {
	t.Parallel()
	n := *idleConns
	srv := startServer(t)
	before := rssKiB(t, srv.Cmd.Process.Pid)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
			t.Fatal(err)
		}
		if err := http2.NewFramer(c, c).WriteSettings(); err != nil {
			t.Fatal(err)
		}
	}
	srv.checkServing(t)
	// Let the server settle on the connections it has accepted before reading its memory.
	time.Sleep(500 * time.Millisecond)
	after := rssKiB(t, srv.Cmd.Process.Pid)
	t.Logf("%d idle connections: server RSS %d KiB -> %d KiB (%.1f KiB each; race detector %v)",
		n, before, after, float64(after-before)/float64(n), raceEnabled)
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	srv.checkServing(t)
}

// rssKiB returns the resident set size of process pid, from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kib
		}
	}
	return 0
}
