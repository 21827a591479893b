// Package bench implements "greeter-client bench", a load generator for the
// Greeter service: it calls a unary method, through internal/greeter, from
// many goroutines over one or more connections and reports throughput,
// latency percentiles, a latency histogram and errors by status code.
package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// The methods bench can call.
const (
	MethodHello      = "hello"
	MethodHelloAgain = "hello-again"
)

// Options are the inputs of one run of bench.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory

	Method      string
	Name        string
	Total       int           // calls to count; 0 with Duration set means no limit
	Duration    time.Duration // how long to run; 0 means until Total calls
	Concurrency int
	Connections int
	Rate        float64 // calls per second over all workers; 0 is unlimited
	Warmup      int     // calls made first and not counted
}

// NewCmd returns the bench command. If runF is not nil it runs instead of
// the benchmark.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "bench [-n CALLS | -d DURATION] [-c WORKERS] [flags]",
		Short: "Load-test the server and report throughput and latency",
		Long: `Call a unary method (--method hello or hello-again) from --concurrency
workers spread over --connections connections, and report throughput, latency
percentiles (p50, p90, p99, p99.9), a latency histogram and the calls per
status code.

The run stops after -n calls or after -d, whichever comes first (-n 1000 when
neither is given). --warmup calls are made first and not counted. --rate caps
the calls per second over all workers. Each call has the --timeout deadline.
On a terminal a progress line is drawn on stderr. Ctrl-C ends the run early:
the calls in flight finish, the report is printed, and bench exits 130.

The report goes to stdout (one JSON object with --output json). bench exits
with 0 when every counted call succeeded, and 1 when some failed.`,
		Example: `  greeter-client bench -n 20000 -c 50 --connections 4
  greeter-client bench -d 30s --rate 500 --method hello-again`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("total") && opts.Duration > 0 {
				opts.Total = 0
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "m", MethodHello, "method to call: hello (SayHello) or hello-again (SayHelloAgain)")
	fl.StringVar(&opts.Name, "name", hello.DefaultName, "name sent in every call")
	fl.IntVarP(&opts.Total, "total", "n", 1000, "calls to make and count (0: no limit, needs -d)")
	fl.DurationVarP(&opts.Duration, "duration", "d", 0, "how long to run (0: until -n calls)")
	fl.IntVarP(&opts.Concurrency, "concurrency", "c", 10, "workers calling at the same time")
	fl.IntVar(&opts.Connections, "connections", 1, "connections the workers share")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most this many calls per second (0: no limit)")
	fl.IntVar(&opts.Warmup, "warmup", 50, "calls made before measuring, not counted")
	return cmd
}

func (o *Options) check() error {
	switch {
	case o.Method != MethodHello && o.Method != MethodHelloAgain:
		return exitcode.Usagef("--method must be hello or hello-again, got %q", o.Method)
	case o.Total < 0 || o.Duration < 0 || o.Warmup < 0 || o.Rate < 0:
		return exitcode.Usagef("-n, -d, --warmup and --rate must not be negative")
	case o.Total == 0 && o.Duration == 0:
		return exitcode.Usagef("give -n CALLS or -d DURATION: a benchmark needs an end")
	case o.Concurrency < 1 || o.Connections < 1:
		return exitcode.Usagef("--concurrency and --connections must be at least 1")
	}
	return nil
}

// invoker makes one call on one connection.
type invoker func(ctx context.Context) error

// invoker returns the invoker of --method on cc. Its request is built once,
// so the calls measure the RPC alone.
func (o *Options) invoker(client greeter.Client, cc *grpc.ClientConn) invoker {
	method := client.SayHello(o.Name)
	if o.Method == MethodHelloAgain {
		method = client.SayHelloAgain(o.Name)
	}
	return func(ctx context.Context) error { _, err := method.Call(ctx, cc); return err }
}

// Run runs the benchmark and prints its report.
func Run(ctx context.Context, opts *Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	client, err := greeter.New(opts.Factory.Options.API)
	if err != nil {
		return err
	}
	md, err := opts.Factory.Metadata()
	if err != nil {
		return err
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	calls := make([]invoker, opts.Connections)
	for i := range calls {
		cc, err := opts.Factory.NewConn(ctx)
		if err != nil {
			return err
		}
		defer cc.Close()
		calls[i] = opts.invoker(client, cc)
	}

	if opts.Warmup > 0 {
		warm := &run{opts: opts, calls: calls, total: int64(opts.Warmup)}
		warm.do(ctx)
	}
	r := &run{opts: opts, calls: calls, total: int64(opts.Total)}
	if opts.Rate > 0 {
		r.limit = &limiter{every: time.Duration(float64(time.Second) / opts.Rate)}
	}
	stopProgress := func() {}
	if opts.IO.ErrTTY {
		stopProgress = r.progress(opts.IO.ErrOut)
	}
	res := r.do(ctx)
	stopProgress()
	if err := res.print(opts); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if res.failed() > 0 {
		return fmt.Errorf("%d of %d calls failed; see the status codes above", res.failed(), len(res.latencies))
	}
	return nil
}

// run is one measured (or warm-up) phase.
type run struct {
	opts  *Options
	calls []invoker
	total int64 // 0: until the duration ends
	limit *limiter

	started       atomic.Int64
	done, errored atomic.Int64
	start         time.Time
}

// do runs the workers until the phase ends and gathers their results.
func (r *run) do(ctx context.Context) *result {
	r.start = time.Now()
	var end time.Time
	if r.opts.Duration > 0 {
		end = r.start.Add(r.opts.Duration)
	}
	workers := make([]*result, r.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = newResult()
		wg.Go(func() { r.work(ctx, r.calls[i%len(r.calls)], end, workers[i]) })
	}
	wg.Wait()
	res := merge(workers)
	res.elapsed = time.Since(r.start)
	return res
}

func (r *run) work(ctx context.Context, call invoker, end time.Time, res *result) {
	timeout := r.opts.Factory.Options.Timeout
	for ctx.Err() == nil {
		if r.total > 0 && r.started.Add(1) > r.total {
			return
		}
		if !end.IsZero() && !time.Now().Before(end) {
			return
		}
		if r.limit != nil && r.limit.wait(ctx, end) != nil {
			return
		}
		// A call already started runs to its end or its deadline even when
		// the run is interrupted, so Ctrl-C stops bench without failing
		// calls that were about to succeed.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		t0 := time.Now()
		err := call(cctx)
		lat := time.Since(t0)
		cancel()
		res.add(lat, err)
		r.done.Add(1)
		if err != nil {
			r.errored.Add(1)
		}
	}
}

// progress draws a progress line on w every half second until the
// returned function is called; that function waits for the drawing to stop
// and clears the line.
func (r *run) progress(w io.Writer) func() {
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				done, elapsed := r.done.Load(), time.Since(r.start)
				line := fmt.Sprintf("%d calls", done)
				if r.total > 0 {
					line = fmt.Sprintf("%d/%d calls", done, r.total)
				}
				fmt.Fprintf(w, "\r\033[K%s, %d errors, %.0f calls/s, %s", line, r.errored.Load(), float64(done)/elapsed.Seconds(), elapsed.Round(time.Second))
			}
		}
	}()
	return func() { close(stop); <-stopped }
}

// limiter spaces calls evenly, shared by all workers.
type limiter struct {
	mu    sync.Mutex
	next  time.Time
	every time.Duration
}

// wait blocks until the caller's turn; it fails if ctx ends or the turn
// would come after end (when end is set).
func (l *limiter) wait(ctx context.Context, end time.Time) error {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	turn := l.next
	l.next = l.next.Add(l.every)
	l.mu.Unlock()
	if !end.IsZero() && turn.After(end) {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(time.Until(turn))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
