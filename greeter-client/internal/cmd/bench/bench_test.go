package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/bench"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
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
		{args: []string{"-n", "5", "-d", "2s", "-c", "3", "--connections", "2"}, wantTotal: 5, wantDuration: 2 * time.Second, wantConc: 3, wantConn: 2},
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
			t.Errorf("bench %v: -n %d -d %s -c %d --connections %d, want %d %s %d %d", tt.args,
				got.Total, got.Duration, got.Concurrency, got.Connections, tt.wantTotal, tt.wantDuration, tt.wantConc, tt.wantConn)
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
		t.Errorf("bench -n 20 --rate 400 took %s, want at least 45ms", elapsed)
	}
	var report struct {
		Calls       int            `json:"calls"`
		Failed      int            `json:"failed"`
		StatusCodes map[string]int `json:"status_codes"`
		Latency     map[string]float64
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
