package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/bench"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args               []string
		wantTotal          int
		wantDuration       time.Duration
		wantConc, wantConn int
	}{
		{args: nil, wantTotal: 1000, wantConc: 10, wantConn: 1},
		{args: []string{"-d", "2s"}, wantTotal: 0, wantDuration: 2 * time.Second, wantConc: 10, wantConn: 1},
		{args: []string{"--total", "5", "-d", "2s", "--concurrency", "3", "--connections", "2"}, wantTotal: 5, wantDuration: 2 * time.Second, wantConc: 3, wantConn: 2},
		// Deprecated, but still working.
		{args: []string{"-n", "5", "-c", "3"}, wantTotal: 5, wantConc: 3, wantConn: 1},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *bench.Options
		cmd := bench.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *bench.Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("bench %v: %v", tt.args, err)
		}
		if got.Total != tt.wantTotal || got.Duration != tt.wantDuration || got.Concurrency != tt.wantConc || got.Connections != tt.wantConn {
			t.Errorf("bench %v: --total %d -d %s --concurrency %d --connections %d, want %d %s %d %d", tt.args,
				got.Total, got.Duration, got.Concurrency, got.Connections, tt.wantTotal, tt.wantDuration, tt.wantConc, tt.wantConn)
		}
	}
}

// TestDeprecatedShorthands checks that -n and -c, which mean --name and
// --count in the other commands, still work in bench with a notice on
// stderr that names the long flag, never on stdout, where the report goes,
// and that --help no longer shows them.
func TestDeprecatedShorthands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr []string
	}{
		{args: []string{"--total", "5", "--concurrency", "2"}},
		{args: []string{"-n", "5"}, wantErr: []string{"-n has been deprecated, use --total instead"}},
		{args: []string{"-c", "2"}, wantErr: []string{"-c has been deprecated, use --concurrency instead"}},
		{args: []string{"-n", "5", "-c", "2"}, wantErr: []string{"--total instead", "--concurrency instead"}},
	}
	for _, tt := range tests {
		ios, _, out, errOut := iostreams.Test()
		cmd := bench.NewCmd(ios, &conn.Factory{}, func(context.Context, *bench.Options) error { return nil })
		// As root does: cobra's own messages go to the command's Out.
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("bench %v: %v", tt.args, err)
		}
		if out.Len() != 0 {
			t.Errorf("bench %v: stdout = %q, want it empty: a notice there would break --output json", tt.args, out)
		}
		if len(tt.wantErr) == 0 && errOut.Len() != 0 {
			t.Errorf("bench %v: stderr = %q, want it empty", tt.args, errOut)
		}
		for _, want := range tt.wantErr {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("bench %v: stderr = %q, want it to contain %q", tt.args, errOut, want)
			}
		}
	}

	ios, _, out, _ := iostreams.Test()
	cmd := bench.NewCmd(ios, &conn.Factory{}, nil)
	cmd.SetOut(ios.Out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("bench --help: %v", err)
	}
	for _, hidden := range []string{"-n, --total", "-c, --concurrency", "-n ", "-c "} {
		if strings.Contains(out.String(), hidden) {
			t.Errorf("bench --help shows %q:\n%s", hidden, out)
		}
	}
	for _, shown := range []string{"--total", "--concurrency"} {
		if !strings.Contains(out.String(), shown) {
			t.Errorf("bench --help does not show %q:\n%s", shown, out)
		}
	}
}

// badName is the name the test server refuses, with InvalidArgument.
const badName = " "

func newOptions(t *testing.T, format string) (*bench.Options, *strings.Builder) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	out := &strings.Builder{}
	ios.Out = out
	addr := greetertest.StartFailing(t, map[string]error{badName: status.Error(codes.InvalidArgument, "invalid name: refused by the test")})
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: format, API: greeter.APIGreeterV1}}
	return &bench.Options{IO: ios, Factory: f, Method: bench.MethodHello, Name: "bench", Total: 200, Concurrency: 4, Connections: 2, Warmup: 10}, out
}

func TestRun(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "text")
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench: %v", err)
	}
	for _, want := range []string{"Calls:        200, 0 failed (10 warm-up calls not counted)", "p99.9", "Histogram", "OK                 200"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench report %q, want it to contain %q", out, want)
		}
	}
	if strings.Contains(out.String(), "Rate:") {
		t.Errorf("bench report %q without --rate, want no Rate line", out)
	}
}

func TestRunJSONErrorsAndRate(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "json")
	opts.Name = badName // the server refuses it: every call fails with InvalidArgument
	opts.Total, opts.Rate, opts.Warmup = 20, 400, 0
	start := time.Now()
	err := bench.Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "20 of 20 calls failed") {
		t.Errorf("bench with a bad name: %v, want 20 of 20 calls failed", err)
	}
	// 20 calls at 400/s are spread over at least 19 intervals of 2.5ms.
	if elapsed := time.Since(start); elapsed < 45*time.Millisecond {
		t.Errorf("bench --total 20 --rate 400 took %s, want at least 45ms", elapsed)
	}
	var report struct {
		Calls       int            `json:"calls"`
		Failed      int            `json:"failed"`
		StatusCodes map[string]int `json:"status_codes"`
		Latency     map[string]float64
		OKRate      *float64 `json:"ok_calls_per_second"`
	}
	if err := json.Unmarshal([]byte(out.String()), &report); err != nil {
		t.Fatalf("bench --output json printed %q: %v", out, err)
	}
	if report.Calls != 20 || report.Failed != 20 || report.StatusCodes["InvalidArgument"] != 20 {
		t.Errorf("bench report %+v, want 20 calls, all InvalidArgument", report)
	}
	if _, ok := report.Latency["p99_9_ms"]; !ok {
		t.Errorf("bench report latency %v, want p99_9_ms", report.Latency)
	}
	if report.OKRate == nil || *report.OKRate != 0 {
		t.Errorf("bench report ok_calls_per_second = %v, want 0 when every call failed", report.OKRate)
	}
}

// TestRunFailuresHaveTheirOwnRate checks that a text report whose calls
// failed gives the rate of those that succeeded beside the rate of all.
func TestRunFailuresHaveTheirOwnRate(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "text")
	opts.Name, opts.Warmup = badName, 0
	if err := bench.Run(context.Background(), opts); err == nil {
		t.Fatalf("bench with a bad name succeeded, want it to fail")
	}
	if !strings.Contains(out.String(), " calls/s (0.0 calls/s succeeded)") {
		t.Errorf("bench report %q, want a throughput line that says none succeeded", out)
	}
}

// TestRunUnreachable checks that bench against an address where nothing
// listens measures nothing (every call would fail in microseconds, a rate
// no server gave) and fails as the other commands do: exit code 3.
func TestRunUnreachable(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	opts, out := newOptions(t, "text")
	opts.Factory = &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "text", API: greeter.APIGreeterV1}}
	err = bench.Run(context.Background(), opts)
	if code := exitcode.Code(err); code != exitcode.Connect {
		t.Errorf("bench against %s: %v (exit %d), want exit %d (cannot connect)", addr, err, code, exitcode.Connect)
	}
	if out.Len() != 0 {
		t.Errorf("bench against %s printed a report %q, want none", addr, out)
	}
}

func TestRunDuration(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "text")
	opts.Total, opts.Duration, opts.Rate = 0, 200*time.Millisecond, 500
	start := time.Now()
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench -d 200ms: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("bench -d 200ms took %s", elapsed)
	}
	if !strings.Contains(out.String(), "0 failed") {
		t.Errorf("bench -d 200ms report %q, want no failures", out)
	}
	if !strings.Contains(out.String(), "  Rate:         500 calls/s asked; ") {
		t.Errorf("bench -d 200ms --rate 500 report %q, want a line on how the schedule was kept", out)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	opts, _ := newOptions(t, "text")
	opts.Method = "chat"
	if err := bench.Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "--method") {
		t.Errorf("bench --method chat: %v, want a usage error about --method", err)
	}
}

// TestRunProgress checks that the progress line goes to stderr on a
// terminal, and leaves the report on stdout alone.
func TestRunProgress(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "text")
	errOut := &strings.Builder{}
	opts.IO.ErrOut, opts.IO.ErrTTY = errOut, true
	opts.Total, opts.Duration, opts.Rate = 0, 700*time.Millisecond, 200
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench: %v", err)
	}
	if !strings.Contains(errOut.String(), "calls/s") {
		t.Errorf("stderr %q, want a progress line", errOut)
	}
	if strings.Contains(out.String(), "calls/s,") || !strings.HasPrefix(out.String(), "Summary:") {
		t.Errorf("stdout %q, want only the report", out)
	}
}

// TestRunProgressFirstCallInFlight checks that the progress line is drawn
// while the first call is still in flight: the server holds that call until
// the line appears. The progress goroutine then reads the run's state before
// any call has ended, so under -race this also checks that nothing it reads
// is written without synchronization once it runs. The line is drawn every
// millisecond, so that it reads that state before unrelated synchronization
// (a pool, a timer) can hide a race from the detector.
func TestRunProgressFirstCallInFlight(t *testing.T) {
	t.Parallel()
	errOut := newFirstWrite()
	hold := grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		select {
		case <-errOut.written:
			return handler(ctx, req)
		case <-ctx.Done():
			return nil, status.Error(codes.DeadlineExceeded, "no progress line was drawn while this call was held")
		}
	})
	addr := greetertest.Start(t, hold)
	ios, _, _, _ := iostreams.Test()
	ios.Out, ios.ErrOut, ios.ErrTTY = &strings.Builder{}, errOut, true
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "text", API: greeter.APIGreeterV1}}
	opts := &bench.Options{IO: ios, Factory: f, Method: bench.MethodHello, Name: "bench", Total: 1, Concurrency: 1, Connections: 1}
	bench.SetProgressEvery(opts, time.Millisecond)
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench --total 1 with the call held until the progress line: %v", err)
	}
	if got := errOut.String(); !strings.Contains(got, "0/1 calls") {
		t.Errorf("stderr %q, want a progress line with 0/1 calls drawn while the call was held", got)
	}
}

// firstWrite is a terminal's stderr that closes written at its first write.
type firstWrite struct {
	written chan struct{}
	once    sync.Once
	mu      sync.Mutex
	buf     strings.Builder
}

func newFirstWrite() *firstWrite { return &firstWrite{written: make(chan struct{})} }

func (w *firstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.once.Do(func() { close(w.written) })
	return w.buf.Write(p)
}

func (w *firstWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// stall is a server interceptor that stalls the server for d when it gets
// its at-th call: that call, and every call that arrives before the stall
// ends, is answered only then, as when a server pauses (a long GC, a full
// disk, a lock held too long).
type stall struct {
	at    int64
	d     time.Duration
	calls atomic.Int64
	mu    sync.Mutex
	until time.Time
}

func (s *stall) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	s.mu.Lock()
	if s.calls.Add(1) == s.at {
		s.until = time.Now().Add(s.d)
	}
	until := s.until
	s.mu.Unlock()
	if wait := time.Until(until); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return handler(ctx, req)
}

// TestRunRateStall checks that --rate measures what a stalled server does to
// the calls due while it stalls (coordinated omission): at 200 calls/s for
// 3s, the server stalls for 1s after the 200th call. Every call due then is
// still made, as soon as a worker is free, and measured from the time it was
// due, so about a third of the calls wait up to a second and p99 shows the
// stall. Resetting the schedule instead would make 4 calls see the stall,
// skip the 200 due meanwhile and report a p99 of a millisecond.
func TestRunRateStall(t *testing.T) {
	t.Parallel()
	s := &stall{at: 200, d: time.Second}
	addr := greetertest.Start(t, grpc.UnaryInterceptor(s.intercept))
	ios, _, _, _ := iostreams.Test()
	out := &strings.Builder{}
	ios.Out = out
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "json", API: greeter.APIGreeterV1}}
	opts := &bench.Options{IO: ios, Factory: f, Method: bench.MethodHello, Name: "bench", Duration: 3 * time.Second, Rate: 200, Concurrency: 4, Connections: 1}
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench -d 3s --rate 200: %v", err)
	}
	var report struct {
		Calls   int                `json:"calls"`
		Latency map[string]float64 `json:"latency"`
		Rate    struct {
			LateCalls int     `json:"late_calls"`
			LateMax   float64 `json:"late_max_ms"`
			LateP99   float64 `json:"late_p99_ms"`
			Missed    int     `json:"missed_calls"`
		} `json:"rate"`
	}
	if err := json.Unmarshal([]byte(out.String()), &report); err != nil {
		t.Fatalf("bench --output json printed %q: %v", out, err)
	}
	t.Logf("bench -d 3s --rate 200, a 1s stall: %d calls, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %+v",
		report.Calls, report.Latency["p50_ms"], report.Latency["p99_ms"], report.Latency["max_ms"], report.Rate)
	if p99 := report.Latency["p99_ms"]; p99 < 500 {
		t.Errorf("bench --rate 200 with a 1s stall: p99 %.1f ms, want at least 500 ms: the calls due during the stall waited for it", p99)
	}
	if report.Calls+report.Rate.Missed != 600 {
		t.Errorf("bench -d 3s --rate 200: %d calls and %d missed, want the 600 that were due", report.Calls, report.Rate.Missed)
	}
	// About 200 calls were due during the stall (the 4 in flight when it
	// began started on time); a busy machine can make more late.
	if r := report.Rate; r.LateCalls < 150 || r.LateMax < 900 {
		t.Errorf("bench --rate 200 with a 1s stall: %+v, want at least 150 late calls, by up to about 1000 ms", r)
	}
}

// TestRunRateMissed checks that with -d, the calls due that no worker could
// start before the end are counted, not dropped unseen: one worker against a
// server that takes 10ms a call cannot keep 1000 calls/s, so of the 300 calls
// due in 300ms it makes about 30, each late, and misses the rest.
func TestRunRateMissed(t *testing.T) {
	t.Parallel()
	slow := grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		t := time.NewTimer(10 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return handler(ctx, req)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	addr := greetertest.Start(t, slow)
	ios, _, _, _ := iostreams.Test()
	out := &strings.Builder{}
	ios.Out = out
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "json", API: greeter.APIGreeterV1}}
	opts := &bench.Options{IO: ios, Factory: f, Method: bench.MethodHello, Name: "bench", Duration: 300 * time.Millisecond, Rate: 1000, Concurrency: 1, Connections: 1}
	if err := bench.Run(context.Background(), opts); err != nil {
		t.Fatalf("bench -d 300ms --rate 1000 --concurrency 1: %v", err)
	}
	var report struct {
		Calls int `json:"calls"`
		Rate  struct {
			LateCalls int `json:"late_calls"`
			Missed    int `json:"missed_calls"`
		} `json:"rate"`
	}
	if err := json.Unmarshal([]byte(out.String()), &report); err != nil {
		t.Fatalf("bench --output json printed %q: %v", out, err)
	}
	if r := report.Rate; report.Calls+r.Missed != 300 || report.Calls > 100 || r.LateCalls < report.Calls-1 {
		t.Errorf("bench -d 300ms --rate 1000 --concurrency 1 on a 10ms server: %d calls, %+v; want the 300 due split into calls and missed ones, at most 100 calls, all late but the first",
			report.Calls, r)
	}
}

// TestRunInterrupted checks that an interrupted run (Ctrl-C) lets the calls in
// flight finish, so none of them is reported as failed, prints its report and
// returns the interruption.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	opts, out := newOptions(t, "json")
	opts.Total, opts.Duration, opts.Warmup = 0, time.Minute, 0
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	err := bench.Run(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted bench returned %v, want context.Canceled", err)
	}
	var report struct {
		Calls       int            `json:"calls"`
		Failed      int            `json:"failed"`
		StatusCodes map[string]int `json:"status_codes"`
	}
	if err := json.Unmarshal([]byte(out.String()), &report); err != nil {
		t.Fatalf("interrupted bench printed %q: %v", out, err)
	}
	if report.Calls == 0 || report.Failed != 0 {
		t.Errorf("interrupted bench: %d calls, %d failed (%v), want some calls and none failed", report.Calls, report.Failed, report.StatusCodes)
	}
}

// BenchmarkRun measures bench's own cost per call, with the in-process
// server in the same process: compare runs by allocs/op, and profile with
// -cpuprofile to see where a call's CPU goes.
func BenchmarkRun(b *testing.B) {
	for _, rate := range []float64{0, 2000} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			ios, _, _, _ := iostreams.Test()
			addr := greetertest.Start(b)
			f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Output: "text", API: greeter.APIGreeterV1}}
			opts := &bench.Options{IO: ios, Factory: f, Method: bench.MethodHello, Name: "bench", Total: b.N, Concurrency: 10, Connections: 1, Rate: rate}
			b.ReportAllocs()
			b.ResetTimer()
			if err := bench.Run(context.Background(), opts); err != nil {
				b.Fatal(err)
			}
		})
	}
}
