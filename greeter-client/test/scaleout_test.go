package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// replica is one greeter-server process of the scale-out test.
type replica struct {
	ip          string
	metricsAddr string
	cmd         *exec.Cmd
	log         *bytes.Buffer
}

// freePort returns a TCP port that was free on all of ips a moment ago.
func freePort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 20 {
		lis, err := net.Listen("tcp", ips[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := lis.Addr().(*net.TCPAddr).Port
		free := true
		var others []net.Listener
		for _, ip := range ips[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			others = append(others, l)
		}
		lis.Close()
		for _, l := range others {
			l.Close()
		}
		if free {
			return port
		}
	}
	t.Fatal("no port free on every address")
	return 0
}

// handled returns how many SayHello calls a replica's /metrics says it
// handled with OK.
func (r *replica) handled(t *testing.T) int {
	t.Helper()
	return sayHelloOK(t, &http.Client{Timeout: 5 * time.Second}, "http://"+r.metricsAddr+"/metrics")
}

// sayHelloOK returns how many greeter.v1 SayHello calls the greeter-server
// whose Prometheus metrics are at url handled with OK.
func sayHelloOK(t *testing.T, client *http.Client, url string) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	re := regexp.MustCompile(`^grpc_server_handled_total\{(.*)\} (\d+)`)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m != nil && strings.Contains(m[1], `grpc_method="SayHello"`) && strings.Contains(m[1], `grpc_service="greeter.v1.GreeterService"`) && strings.Contains(m[1], `grpc_code="OK"`) {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return 0
}

// TestScaleOut runs three replicas on 127.0.0.1, 127.0.0.2 and 127.0.0.3
// behind one DNS name, as a Kubernetes headless Service would, and drives
// `greeter-client bench` through that one target. The calls must spread over
// all three; killing one mid-run must lose no call.
func TestScaleOut(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	port := freePort(t, ips...)
	// trim:http begin
	// Each replica has its HTTP listener too, as a pod does: one port on
	// every address, like the gRPC listener's. The default, localhost:8080,
	// would be one address for all three.
	httpPort := freePort(t, ips...)
	for httpPort == port { // both were free, and freePort let go of each
		httpPort = freePort(t, ips...)
	}
	// trim:http end
	replicas := make([]*replica, len(ips))
	for i, ip := range ips {
		r := &replica{ip: ip, metricsAddr: net.JoinHostPort(ip, strconv.Itoa(freePort(t, ip))), log: &bytes.Buffer{}}
		r.cmd = exec.Command(serverBin, "--addr", net.JoinHostPort(ip, strconv.Itoa(port)),
			"--http-addr", net.JoinHostPort(ip, strconv.Itoa(httpPort)), // trim:http
			"--metrics-addr", r.metricsAddr, "--log-level", "warn")
		r.cmd.Stderr = r.log
		r.cmd.Env = environWithoutGreeter()
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		})
		replicas[i] = r
	}
	// Wait until every replica serves its metrics (it listens by then).
	for _, r := range replicas {
		deadline := time.Now().Add(20 * time.Second)
		for {
			conn, err := net.Dial("tcp", r.metricsAddr)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s did not start: %s", r.ip, r.log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	var addrs []netip.Addr
	for _, ip := range ips {
		addrs = append(addrs, netip.MustParseAddr(ip))
	}
	dns := serveDNS(t, "greeter.test", addrs...)
	target := fmt.Sprintf("dns://%s/greeter.test:%d", dns, port)

	// 6000 calls at 1500 a second: about four seconds of load.
	bench := exec.Command(clientBin, "--addr", target, "--output", "json",
		"bench", "--total", "6000", "--rate", "1500", "--concurrency", "8", "--connections", "2", "--warmup", "0")
	var stdout, stderr bytes.Buffer
	bench.Stdout, bench.Stderr = &stdout, &stderr
	bench.Env = environWithoutGreeter()
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	benchDone := make(chan error, 1)
	go func() { benchDone <- bench.Wait() }()

	// Once every replica has served calls, kill one without warning.
	var before []int
	deadline := time.Now().Add(20 * time.Second)
	for {
		before = before[:0]
		all := true
		for _, r := range replicas {
			n := r.handled(t)
			before = append(before, n)
			all = all && n > 0
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls did not reach every replica: SayHello handled %v", before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	victim := replicas[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed replica %s after the replicas had handled %v calls", victim.ip, before)

	var err error
	select {
	case err = <-benchDone:
	case <-time.After(60 * time.Second):
		t.Fatal("bench did not finish within 60s")
	}
	var report struct {
		Calls       float64            `json:"calls"`
		Failed      float64            `json:"failed"`
		StatusCodes map[string]float64 `json:"status_codes"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &report); jerr != nil {
		t.Fatalf("bench output is not its JSON report (%v): %s\nstderr: %s", jerr, stdout.String(), stderr.String())
	}
	if err != nil || report.Failed != 0 || report.Calls != 6000 {
		t.Errorf("bench through %s: %v; %v calls, %v failed, codes %v; stderr: %s", target, err, report.Calls, report.Failed, report.StatusCodes, stderr.String())
	}
	var after []int
	for i, r := range replicas {
		if i == 1 {
			after = append(after, before[i])
			continue
		}
		after = append(after, r.handled(t))
	}
	t.Logf("bench: %v calls, %v failed; SayHello handled per replica: %v (%s killed)", report.Calls, report.Failed, after, victim.ip)
	for i, n := range after {
		if i != 1 && n <= before[i] {
			t.Errorf("replica %s handled no calls after %s was killed (%d before, %d after)", replicas[i].ip, victim.ip, before[i], n)
		}
	}
}
