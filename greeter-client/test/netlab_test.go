//go:build linux

package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netLabPrefix starts the name of every network namespace a netLab makes,
// followed by the process ID of the test that made it, so a later run can
// tell its own namespaces from those a killed run left behind.
// scripts/test-fleet.sh removes whatever is left with this prefix.
const netLabPrefix = "greeterlab"

// netLabSubnet is the lab's network: 198.51.100.0/24 is TEST-NET-2, reserved
// for documentation and never routed, and it exists only inside the lab's
// namespaces.
const netLabSubnet = "198.51.100."

// netLab is a small network of hosts on one machine. Each host is a Linux
// network namespace with one interface, eth0, joined by a veth pair to a
// bridge; the bridge lives in a namespace of its own, the switch, so the
// machine's own network is never touched. A host can be cut off silently:
// the switch drops every frame to and from it, with no reset and no ICMP,
// as when a node loses power or a link dies.
type netLab struct {
	t      *testing.T
	prefix string // of every namespace: netLabPrefix, the PID, "-"
	sw     string // the switch namespace

	mu    sync.Mutex
	procs []*exec.Cmd
}

// netHost is one host of a netLab.
type netHost struct {
	lab  *netLab
	name string
	ns   string // its network namespace
	IP   string
	port string // its veth's name in the switch
}

// newNetLab makes a lab, or skips the test, saying why, where this machine
// cannot: it needs root, iproute2 (ip) and nftables (nft). Everything it
// makes is removed when the test ends, also when it fails; a run that was
// killed is cleaned up by the next one.
func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: the network-fault tests need root to make network namespaces (scripts/test-fleet.sh runs them as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: the network-fault tests need %s on PATH (iproute2 and nftables; scripts/test-fleet.sh installs them): %v", tool, err)
		}
	}
	removeStaleNetLabs(t)
	l := &netLab{t: t, prefix: fmt.Sprintf("%s%d-", netLabPrefix, os.Getpid())}
	l.sw = l.prefix + "switch"
	if out, err := exec.Command("ip", "netns", "add", l.sw).CombinedOutput(); err != nil {
		t.Skipf("SKIP: this machine cannot make network namespaces (ip netns add: %v: %s)", err, bytes.TrimSpace(out))
	}
	t.Cleanup(l.close)
	onInterrupt(l.close)
	l.ip(l.sw, "link", "set", "lo", "up")
	l.ip(l.sw, "link", "add", "br0", "type", "bridge")
	l.ip(l.sw, "link", "set", "br0", "up")
	return l
}

// ip runs "ip -n ns args...", or the test fails.
func (l *netLab) ip(ns string, args ...string) {
	l.t.Helper()
	l.must(exec.Command("ip", append([]string{"-n", ns}, args...)...))
}

func (l *netLab) must(cmd *exec.Cmd) {
	l.t.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("%s: %v: %s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
}

// host adds a host with address 198.51.100.N, its own loopback, and
// /etc/netns files that make names resolve through hosts alone (no DNS
// server is asked: resolv.conf points at the host's own loopback).
func (l *netLab) host(name string, n int, hosts string) *netHost {
	l.t.Helper()
	h := &netHost{lab: l, name: name, ns: l.prefix + name, IP: netLabSubnet + strconv.Itoa(n), port: "p-" + name}
	l.must(exec.Command("ip", "netns", "add", h.ns))
	etc := filepath.Join("/etc/netns", h.ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		l.t.Fatal(err)
	}
	for file, text := range map[string]string{
		"hosts":       "127.0.0.1 localhost\n" + hosts,
		"resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
	} {
		if err := os.WriteFile(filepath.Join(etc, file), []byte(text), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	l.must(exec.Command("ip", "link", "add", "eth0", "netns", h.ns, "type", "veth", "peer", "name", h.port, "netns", l.sw))
	l.ip(l.sw, "link", "set", h.port, "master", "br0", "up")
	l.ip(h.ns, "link", "set", "lo", "up")
	l.ip(h.ns, "addr", "add", h.IP+"/24", "dev", "eth0")
	l.ip(h.ns, "link", "set", "eth0", "up")
	return h
}

// close kills every process the lab started and removes its namespaces and
// their /etc/netns files. It is safe to call more than once.
func (l *netLab) close() {
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	l.mu.Unlock()
	for _, p := range procs {
		if p.Process != nil {
			_ = p.Process.Kill()
		}
	}
	removeNetLab(l.prefix)
}

// removeNetLab kills what still runs in the namespaces whose names start
// with prefix, and removes them and their /etc/netns files.
func removeNetLab(prefix string) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		ns, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if ns == "" || !strings.HasPrefix(ns, prefix) {
			continue
		}
		pids, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, pid := range strings.Fields(string(pids)) {
			// This test process is listed too when a thread of it has
			// joined the namespace (dialContext); it is not to be killed.
			if n, err := strconv.Atoi(pid); err == nil && n != os.Getpid() {
				_ = unix.Kill(n, unix.SIGKILL)
			}
		}
		_ = exec.Command("ip", "netns", "delete", ns).Run()
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
}

// removeStaleNetLabs removes the labs of test processes that no longer run.
func removeStaleNetLabs(t *testing.T) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		ns, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(ns, netLabPrefix)
		if !ok {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(pid); err == nil && n != os.Getpid() && unix.Kill(n, 0) != nil {
			t.Logf("removing the network namespaces of an earlier run (process %d)", n)
			removeNetLab(netLabPrefix + pid + "-")
		}
	}
}

// start runs a program on h; the lab kills it at the end if it still runs.
// ip netns exec replaces itself with the program, so signals sent to the
// returned command reach the program.
func (h *netHost) start(stdout, stderr io.Writer, bin string, args ...string) *exec.Cmd {
	h.lab.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns, bin}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = environWithoutGreeter()
	if err := cmd.Start(); err != nil {
		h.lab.t.Fatal(err)
	}
	h.lab.mu.Lock()
	h.lab.procs = append(h.lab.procs, cmd)
	h.lab.mu.Unlock()
	return cmd
}

// cut makes the switch drop every frame to and from h, silently.
func (h *netHost) cut() {
	h.lab.t.Helper()
	rules := fmt.Sprintf(`table bridge cut_%[1]s {
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "%[2]s" drop
		oifname "%[2]s" drop
	}
}
`, h.name, h.port)
	cmd := exec.Command("ip", "netns", "exec", h.lab.sw, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	h.lab.must(cmd)
}

// heal undoes cut.
func (h *netHost) heal() {
	h.lab.t.Helper()
	h.lab.must(exec.Command("ip", "netns", "exec", h.lab.sw, "nft", "delete", "table", "bridge", "cut_"+h.name))
}

// dialContext dials addr from inside h's network namespace. The socket is
// made on a thread that has joined the namespace; that thread is never
// unlocked, so the Go runtime ends it instead of reusing it. The connection
// then works from any goroutine.
func (h *netHost) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", h.ns))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("join network namespace %s: %w", h.ns, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// httpClient makes HTTP requests from inside h's namespace.
func (h *netHost) httpClient() *http.Client {
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DialContext: h.dialContext, DisableKeepAlives: true},
	}
}

// checkSilent fails the test unless a TCP connection from h to addr gets no
// answer at all within a second: no handshake, no reset, no ICMP error.
func (h *netHost) checkSilent(addr string) {
	h.lab.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := h.dialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
		h.lab.t.Fatalf("from %s, %s still answers: the partition is not in place", h.name, addr)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
		h.lab.t.Fatalf("from %s, %s fails with %v: the partition is not silent (want no answer at all)", h.name, addr, err)
	}
}
