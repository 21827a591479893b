package test

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestBenchSendsNoFlowControlPings runs the real greeter-client bench at a
// paced rate through a proxy that counts the PING frames it sends: none.
// grpc-go's BDP estimation, which bench's fixed flow-control window turns
// off, sends one on most calls of such a run (docs/performance.md measures
// what they cost), and keepalive pings only after minutes.
func TestBenchSendsNoFlowControlPings(t *testing.T) {
	t.Parallel()
	proxy := newFrameProxy(t, startGreeterServer(t))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bench := exec.CommandContext(ctx, clientBin, "--addr", proxy.addr, "bench", "--total", "200", "--rate", "200", "--warmup", "0")
	bench.Env = environWithoutGreeter()
	if out, err := bench.CombinedOutput(); err != nil {
		t.Fatalf("greeter-client bench: %v\n%s", err, out)
	}
	if n := proxy.pings.Load(); n != 0 {
		t.Errorf("greeter-client bench sent %d PING frames in 200 calls at 200 a second, want none", n)
	}
}
