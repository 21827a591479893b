package test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

var loadDuration = flag.Duration("load.duration", 3*time.Second,
	"how long TestSustainedLoad drives the server; scripts/test-load.sh sets a longer one")

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// metric reads one unlabeled gauge or counter from a Prometheus text page.
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("%s has no metric %s", url, name)
	return 0
}

// load runs workers that call SayHello back to back until ctx ends, and
// returns how many calls succeeded and the failures by code. A worker whose
// call is refused with Unavailable (the server is going away) stops. If
// inflight is not nil it counts the calls under way.
func load(ctx context.Context, conns []*grpc.ClientConn, workers int, inflight *atomic.Int64) (ok int64, failed map[codes.Code]int64) {
	var mu sync.Mutex
	failed = map[codes.Code]int64{}
	var wg sync.WaitGroup
	for i := range workers {
		client := greeterv1.NewGreeterServiceClient(conns[i%len(conns)])
		wg.Go(func() {
			for ctx.Err() == nil {
				callCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if inflight != nil {
					inflight.Add(1)
				}
				resp, err := client.SayHello(callCtx, &greeterv1.SayHelloRequest{Name: "load"})
				if inflight != nil {
					inflight.Add(-1)
				}
				cancel()
				switch {
				case err == nil && resp.GetMessage() == "Hello, load!":
					atomic.AddInt64(&ok, 1)
				default:
					mu.Lock()
					failed[status.Code(err)]++
					mu.Unlock()
					if status.Code(err) == codes.Unavailable {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return ok, failed
}

func dialN(t *testing.T, addr string, n int) []*grpc.ClientConn {
	t.Helper()
	conns := make([]*grpc.ClientConn, n)
	for i := range conns {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns
}

// TestSustainedLoad drives the server for -load.duration and checks that no
// call fails and that its goroutines and heap return to their baseline once
// the load and its connections are gone.
func TestSustainedLoad(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	srv := startServer(t, "--metrics-addr", metricsAddr)
	url := "http://" + metricsAddr + "/metrics"
	srv.checkServing(t)
	baseGoroutines := metric(t, url, "go_goroutines")
	baseHeap := metric(t, url, "go_memstats_heap_inuse_bytes")

	conns := dialN(t, srv.Addr, 4)
	ctx, cancel := context.WithTimeout(context.Background(), *loadDuration)
	defer cancel()
	start := time.Now()
	ok, failed := load(ctx, conns, 16, nil)
	elapsed := time.Since(start)
	peak := metric(t, url, "go_goroutines")
	for _, c := range conns {
		c.Close()
	}
	t.Logf("sustained load: %d calls in %v (%.0f/s), failures %v; goroutines %v at rest, %v under load",
		ok, elapsed.Round(time.Millisecond), float64(ok)/elapsed.Seconds(), failed, baseGoroutines, peak)
	if len(failed) > 0 {
		t.Errorf("calls failed under load: %v", failed)
	}
	if ok == 0 {
		t.Fatal("no call succeeded")
	}

	// Connections close asynchronously; give the server a moment to notice.
	deadline := time.Now().Add(10 * time.Second)
	// The heap in use may stay up until the next collection; allow it
	// double the baseline or 8 MiB more, whichever is larger, which a leak
	// of per-call or per-connection state over a long run would exceed.
	heapLimit := max(2*baseHeap, baseHeap+8<<20)
	var after, heap float64
	for {
		after = metric(t, url, "go_goroutines")
		heap = metric(t, url, "go_memstats_heap_inuse_bytes")
		if (after <= baseGoroutines+2 && heap <= heapLimit) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if heap > heapLimit {
		t.Errorf("heap in use did not return near its baseline: %.1f MiB before, %.1f MiB after the load ended", baseHeap/(1<<20), heap/(1<<20))
	}
	if after > baseGoroutines+2 {
		t.Errorf("goroutines did not return to baseline: %v at rest before, %v after the load ended", baseGoroutines, after)
	}
	t.Logf("after the load: %v goroutines, heap in use %.1f MiB (%.1f MiB before)", after, heap/(1<<20), baseHeap/(1<<20))
}

// TestShutdownUnderLoad sends SIGTERM while unary load runs and long streams
// are open, and checks that every call ends (none hangs), that each ends with
// success or a clean status, and that the process exits 0 within its
// shutdown timeout.
func TestShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	const shutdownTimeout, streamGrace = 5 * time.Second, 2 * time.Second
	// The access log (debug level) records every call the server accepted
	// and how it ended.
	srv := startServer(t, "--shutdown-timeout", shutdownTimeout.String(), "--stream-grace", streamGrace.String(), "--log-level", "debug")
	srv.checkServing(t)
	conns := dialN(t, srv.Addr, 4)

	// Streams that would run for 100 × 200ms = 20s if not told to finish.
	const streams = 8
	type streamResult struct {
		received []time.Time // when each greeting arrived
		err      error
		ended    time.Time
	}
	streamResults := make(chan streamResult, streams)
	streamsOpen := make(chan struct{}, streams)
	for i := range streams {
		client := greeterv1.NewGreeterServiceClient(conns[i%len(conns)])
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			stream, err := client.SayHelloStream(ctx, &greeterv1.SayHelloStreamRequest{Name: "stream", Count: 100, Interval: durationpb.New(200 * time.Millisecond)})
			if err != nil {
				streamResults <- streamResult{err: err}
				return
			}
			var r streamResult
			for {
				_, err := stream.Recv()
				if err != nil {
					r.err, r.ended = err, time.Now()
					streamResults <- r
					return
				}
				if r.received = append(r.received, time.Now()); len(r.received) == 1 {
					streamsOpen <- struct{}{}
				}
			}
		}()
	}
	for range streams {
		select {
		case <-streamsOpen:
		case <-time.After(10 * time.Second):
			t.Fatal("streams did not start")
		}
	}

	loadCtx, stopLoad := context.WithCancel(context.Background())
	type loadResult struct {
		ok     int64
		failed map[codes.Code]int64
	}
	loadDone := make(chan loadResult, 1)
	var inflight atomic.Int64
	go func() {
		ok, failed := load(loadCtx, conns, 16, &inflight)
		loadDone <- loadResult{ok, failed}
	}()
	time.Sleep(500 * time.Millisecond)

	sigAt := time.Now()
	unaryInFlight := inflight.Load()
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(shutdownTimeout + 10*time.Second):
		t.Fatalf("greeter-server did not exit within %v of SIGTERM:\n%s", shutdownTimeout+10*time.Second, srv.Log())
	}
	exitAfter := time.Since(sigAt)
	stopLoad()
	lr := <-loadDone

	if waitErr != nil {
		t.Errorf("greeter-server exit after SIGTERM: %v, want exit status 0; log:\n%s", waitErr, srv.Log())
	}
	if exitAfter > shutdownTimeout+2*time.Second {
		t.Errorf("greeter-server took %v to exit, more than its %v shutdown timeout", exitAfter, shutdownTimeout)
	}

	// Unary calls after SIGTERM may be refused (Unavailable: the server no
	// longer accepts them) but never lost: every call the server accepted
	// ended OK, and reached its client as OK.
	for code := range lr.failed {
		if code != codes.Unavailable {
			t.Errorf("unary calls during shutdown failed with %v, want only Unavailable (refused before they started)", code)
		}
	}
	accepted, acceptedOK := 0, 0
	for _, line := range strings.Split(srv.Log(), "\n") {
		if strings.Contains(line, "msg=rpc") && strings.Contains(line, "method=/greeter.v1.GreeterService/SayHello ") {
			accepted++
			if strings.Contains(line, "code=OK") {
				acceptedOK++
			}
		}
	}
	const checks = 1 // srv.checkServing's own call, before the load
	if accepted != acceptedOK || int64(acceptedOK-checks) != lr.ok {
		t.Errorf("the server accepted %d SayHello calls of the load and ended %d of them OK; its clients got %d OK; want all accepted calls OK, and as many at the clients", accepted-checks, acceptedOK-checks, lr.ok)
	}
	// Every stream was open at SIGTERM (each would run for 20s). Each must
	// have gone on during the stream grace, then ended with the draining
	// UNAVAILABLE: at the grace, not before it (cut early), and not at the
	// shutdown timeout (cut, not drained).
	var streamSummary []string
	for range streams {
		select {
		case r := <-streamResults:
			st := status.Convert(r.err)
			after := 0
			for _, at := range r.received {
				if at.After(sigAt) {
					after++
				}
			}
			endedAfter := r.ended.Sub(sigAt)
			streamSummary = append(streamSummary, fmt.Sprintf("%d greetings (%d after SIGTERM), then %v after %v", len(r.received), after, st.Code(), endedAfter.Round(10*time.Millisecond)))
			if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "shutting down") {
				t.Errorf("stream open at SIGTERM ended with %v, want Unavailable: server is shutting down", r.err)
			}
			if after == 0 {
				t.Errorf("stream open at SIGTERM received no greeting after it, want it to go on during the %v stream grace", streamGrace)
			}
			if endedAfter < streamGrace-500*time.Millisecond || endedAfter >= shutdownTimeout-500*time.Millisecond {
				t.Errorf("stream open at SIGTERM ended %v after it, want at the %v stream grace, well before the %v shutdown timeout", endedAfter, streamGrace, shutdownTimeout)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a stream never ended after the server exited")
		}
	}
	t.Logf("shutdown under load: exit 0 after %v; at SIGTERM %d unary calls and %d streams in flight; unary: %d OK in all, refused %v (a worker stops at its first refusal); streams: %s",
		exitAfter.Round(time.Millisecond), unaryInFlight, streams, lr.ok, lr.failed, strings.Join(streamSummary, "; "))
}
