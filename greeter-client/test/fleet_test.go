//go:build linux

package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	fleetTests  = flag.Bool("fleet", false, "run the fleet tests: replicas on separate network hosts, cut off, crashed and restarted (root; scripts/test-fleet.sh)")
	fleetOutage = flag.Duration("fleet.outage", 6*time.Second, "how long the silent replica stays cut off")
	fleetRounds = flag.Int("fleet.rounds", 1, "how many times the rolling restart replaces every replica")
	fleetRate   = flag.Int("fleet.rate", 2000, "calls a second bench makes (0: as many as it can)")
)

// The fleet's settings.
const (
	fleetName = "greeter.test"
	fleetPort = "50051"
	// fleetHTTPPort is every replica's HTTP listener, on its host's address // trim:http
	// as in a pod (the client never calls it). // trim:http
	fleetHTTPPort = "8080" // trim:http
	// fleetCallTimeout is the deadline of each call bench makes, the
	// client's default.
	fleetCallTimeout = 10 * time.Second
	// fleetHealWithin is how soon a replica that is back must get calls.
	fleetHealWithin = 30 * time.Second
)

// fleet is three greeter-server replicas on three hosts and a client host
// on which one name, greeter.test, resolves to all three.
type fleet struct {
	lab      *netLab
	client   *netHost
	replicas []*fleetReplica
}

// fleetReplica is one replica's host and its current server process.
type fleetReplica struct {
	host    *netHost
	metrics *http.Client
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited; then err is set
	err     error
	log     *bytes.Buffer
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	if !*fleetTests {
		t.Skip("SKIP: the fleet tests make network namespaces as root; scripts/test-fleet.sh runs them (go test -fleet)")
	}
	f := &fleet{lab: newNetLab(t)}
	var hosts strings.Builder
	for i := range 3 {
		fmt.Fprintf(&hosts, "%s%d %s\n", netLabSubnet, 11+i, fleetName)
	}
	f.client = f.lab.host("client", 10, hosts.String())
	for i := range 3 {
		h := f.lab.host(fmt.Sprintf("replica%d", i+1), 11+i, "")
		r := &fleetReplica{host: h, metrics: h.httpClient()}
		f.replicas = append(f.replicas, r)
		r.start(t)
	}
	return f
}

// start runs a new server process on r's host and waits until it listens.
// The streams still open at shutdown (the client's health watch) are told to
// finish after 1 s, so a replica stops about a second after SIGTERM.
func (r *fleetReplica) start(t *testing.T) {
	t.Helper()
	r.log = &bytes.Buffer{}
	r.cmd = r.host.start(nil, r.log, serverBin,
		"--addr", net.JoinHostPort(r.host.IP, fleetPort),
		"--http-addr", net.JoinHostPort(r.host.IP, fleetHTTPPort), // trim:http
		"--metrics-addr", "127.0.0.1:9090",
		"--log-level", "warn", "--stream-grace", "1s", "--shutdown-timeout", "5s")
	r.exited = make(chan struct{})
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := r.metrics.Get("http://127.0.0.1:9090/metrics")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-r.exited:
			t.Fatalf("greeter-server on %s exited: %v: %s", r.host.name, r.err, r.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("greeter-server on %s is not serving after 20s: %v: %s", r.host.name, err, r.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// handled returns how many SayHello calls r's current process has answered.
func (r *fleetReplica) handled(t *testing.T) int {
	t.Helper()
	return sayHelloOK(t, r.metrics, "http://127.0.0.1:9090/metrics")
}

// waitCalls waits until r has answered more than n calls and returns how
// long that took, or fails the test after within.
func (r *fleetReplica) waitCalls(t *testing.T, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if r.handled(t) > n {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s answered no call within %s (it had answered %d)", r.host.name, within, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counts returns every replica's handled count.
func (f *fleet) counts(t *testing.T) []int {
	t.Helper()
	var n []int
	for _, r := range f.replicas {
		n = append(n, r.handled(t))
	}
	return n
}

// fleetBench is one `greeter-client bench` run on the client host, through
// the one name.
type fleetBench struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	exited         chan struct{}
	err            error
}

// benchReport is what the tests read of bench's JSON report.
type benchReport struct {
	Calls       int            `json:"calls"`
	Failed      int            `json:"failed"`
	StatusCodes map[string]int `json:"status_codes"`
	Latency     struct {
		P99 float64 `json:"p99_ms"`
		Max float64 `json:"max_ms"`
	} `json:"latency"`
	Duration float64 `json:"duration_s"`
}

func (r benchReport) String() string {
	return fmt.Sprintf("%d calls in %.1fs, %d failed %v, p99 %.1f ms, max %.1f ms", r.Calls, r.Duration, r.Failed, r.StatusCodes, r.Latency.P99, r.Latency.Max)
}

// startBench starts bench with 16 workers at -fleet.rate calls a second on
// one channel (one connection to each replica), and waits until every
// replica has answered its calls. It runs until stop.
func (f *fleet) startBench(t *testing.T) *fleetBench {
	t.Helper()
	before := f.counts(t)
	b := &fleetBench{exited: make(chan struct{})}
	b.cmd = f.client.start(&b.stdout, &b.stderr, clientBin,
		"--addr", "dns:///"+net.JoinHostPort(fleetName, fleetPort), "--timeout", fleetCallTimeout.String(), "--output", "json",
		"bench", "-d", "10m", "--concurrency", "16", "--rate", strconv.Itoa(*fleetRate), "--warmup", "0")
	go func() { b.err = b.cmd.Wait(); close(b.exited) }()
	for i, r := range f.replicas {
		r.waitCalls(t, before[i], 20*time.Second)
	}
	return b
}

// stop interrupts bench as Ctrl-C would (the calls in flight finish) and
// returns its report.
func (b *fleetBench) stop(t *testing.T) benchReport {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(fleetCallTimeout + 10*time.Second):
		t.Fatalf("bench did not stop after SIGINT: %s", b.stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(b.err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("interrupted bench exited with %v, want 130: %s", b.err, b.stderr.String())
	}
	var rep benchReport
	if err := json.Unmarshal(b.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("bench printed %q, not its JSON report (%v); stderr: %s", b.stdout.String(), err, b.stderr.String())
	}
	return rep
}

// checkReport fails the test if any call failed or took longer than half
// the call timeout.
func checkReport(t *testing.T, rep benchReport) {
	t.Helper()
	if rep.Calls == 0 || rep.Failed != 0 {
		t.Errorf("bench: %s; want no failed call", rep)
	}
	if limit := fleetCallTimeout / 2; rep.Latency.Max > float64(limit.Milliseconds()) {
		t.Errorf("bench: %s; want every call well within its %s deadline (under %s)", rep, fleetCallTimeout, limit)
	}
}

// TestFleet runs three greeter-server replicas on three network hosts and
// drives `greeter-client bench` at all of them through one name while a
// replica goes silent and comes back, crashes, and while every replica is
// replaced one after another. No call may fail.
func TestFleet(t *testing.T) {
	f := newFleet(t)

	t.Run("silent replica and heal", func(t *testing.T) {
		b := f.startBench(t)
		victim := f.replicas[1]
		victim.host.cut()
		cutAt := time.Now()
		f.client.checkSilent(net.JoinHostPort(victim.host.IP, fleetPort))
		// Let the client notice, then measure what the others answer.
		time.Sleep(3 * time.Second)
		during := f.counts(t)
		time.Sleep(*fleetOutage - time.Since(cutAt))
		after := f.counts(t)
		victim.host.heal()
		outage := time.Since(cutAt)
		for i, r := range f.replicas {
			if r != victim && after[i]-during[i] < 100 {
				t.Errorf("%s answered %d calls while %s was cut off, want the others to carry the load", r.host.name, after[i]-during[i], victim.host.name)
			}
		}
		healed := victim.waitCalls(t, after[1], fleetHealWithin)
		time.Sleep(time.Second)
		rep := b.stop(t)
		checkReport(t, rep)
		t.Logf("%s cut off silently for %s; the others answered %v calls in its last %s; it answered calls again %s after the partition healed; bench: %s",
			victim.host.name, outage.Round(100*time.Millisecond), sub(after, during), (outage - 3*time.Second).Round(100*time.Millisecond), healed.Round(100*time.Millisecond), rep)
	})

	t.Run("crash", func(t *testing.T) {
		b := f.startBench(t)
		victim := f.replicas[2]
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-victim.exited
		time.Sleep(time.Second)
		victim.start(t)
		back := victim.waitCalls(t, 0, fleetHealWithin)
		rep := b.stop(t)
		checkReport(t, rep)
		t.Logf("%s killed (SIGKILL) and restarted after 1s; answered calls again %s after its restart; bench: %s", victim.host.name, back.Round(100*time.Millisecond), rep)
	})

	t.Run("rolling restart", func(t *testing.T) {
		b := f.startBench(t)
		for round := range *fleetRounds {
			for _, r := range f.replicas {
				start := time.Now()
				if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				select {
				case <-r.exited:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s did not stop within 10s of SIGTERM: %s", r.host.name, r.log)
				}
				if r.err != nil {
					t.Errorf("%s exited with %v after SIGTERM, want 0: %s", r.host.name, r.err, r.log)
				}
				stopped := time.Since(start)
				r.start(t)
				back := r.waitCalls(t, 0, fleetHealWithin)
				t.Logf("round %d: %s stopped %s after SIGTERM; the new process answered calls %s after it started", round+1, r.host.name, stopped.Round(10*time.Millisecond), back.Round(10*time.Millisecond))
			}
		}
		rep := b.stop(t)
		checkReport(t, rep)
		t.Logf("rolling restart of every replica, %d round(s); bench: %s", *fleetRounds, rep)
	})
}

func sub(a, b []int) []int {
	d := make([]int, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}
