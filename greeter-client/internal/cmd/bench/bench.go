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
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/rpc"
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
	Rate        float64 // calls per second scheduled over all workers; 0 is none
	Warmup      int     // calls made first and not counted

	progressEvery time.Duration // how often the progress line is drawn; 0 is every half second
}

// NewCmd returns the bench command. If runF is not nil it runs instead of
// the benchmark.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f}
	cmd := &cobra.Command{
		Use:   "bench [--total CALLS | -d DURATION] [--concurrency WORKERS] [flags]",
		Short: "Load-test the server and report throughput and latency",
		Long: `Call a unary method (--method hello or hello-again) from --concurrency
workers spread over --connections connections, and report throughput, latency
percentiles (p50, p90, p99, p99.9), a latency histogram and the calls per
status code.

The run stops after --total calls or after -d, whichever comes first
(--total 1000 when neither is given). --warmup calls are made first and not
counted. Each call has the --timeout deadline. On a terminal a progress line
is drawn on stderr. Ctrl-C ends the run early: the calls in flight finish,
the report is printed, and bench exits 130.

--rate sets a schedule over all workers: at --rate 200 a call is due every
5ms, whatever the server does. A call that starts after its time, because
every worker was still waiting for the server, is measured from the time it
was due, so the calls a stalled server held up count in the percentiles
instead of going unmeasured. The report says how many calls started more
than 1ms late and by how much, and, with -d, how many calls were due before
the end but never started.

Latencies are kept in a histogram of fixed size (an HDR histogram, 3
significant digits), so memory does not grow with the length of the run:
each percentile is at most 0.1% above the exact value; min, mean and max are
exact.

The report goes to stdout (one JSON object with --output json). Throughput
counts every call; when some failed, the calls that succeeded are given
their own rate beside it. bench exits with 0 when every counted call
succeeded, and 1 when some failed. When no connection can be made at all,
it measures nothing and exits as the other commands do (3).`,
		Example: `  greeter-client bench --total 20000 --concurrency 50 --connections 4
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
	fl.DurationVarP(&opts.Duration, "duration", "d", 0, "how long to run (0: until --total calls)")
	fl.IntVarP(&opts.Concurrency, "concurrency", "c", 10, "workers calling at the same time")
	fl.IntVar(&opts.Connections, "connections", 1, "connections the workers share")
	fl.Float64Var(&opts.Rate, "rate", 0, "calls per second to schedule over all workers (0: each worker calls again as soon as a call ends)")
	fl.IntVar(&opts.Warmup, "warmup", 50, "calls made before measuring, not counted")
	// -n and -c mean --name and --count in every other command. Bench's
	// keep working for a while, with a notice, hidden from --help.
	_ = fl.MarkShorthandDeprecated("total", "use --total instead: -n is --name in the other commands")
	_ = fl.MarkShorthandDeprecated("concurrency", "use --concurrency instead: -c is --count in hello-stream")
	// Cobra prints the notice on the command's stdout, which root points
	// at the report's, where it would break --output json.
	fl.SetOutput(ios.ErrOut)
	return cmd
}

func (o *Options) check() error {
	switch {
	case o.Method != MethodHello && o.Method != MethodHelloAgain:
		return exitcode.Usagef("--method must be hello or hello-again, got %q", o.Method)
	case o.Total < 0 || o.Duration < 0 || o.Warmup < 0 || o.Rate < 0:
		return exitcode.Usagef("--total, -d, --warmup and --rate must not be negative")
	case o.Total == 0 && o.Duration == 0:
		return exitcode.Usagef("give --total CALLS or -d DURATION: a benchmark needs an end")
	case o.Concurrency < 1 || o.Connections < 1:
		return exitcode.Usagef("--concurrency and --connections must be at least 1")
	}
	return nil
}

// benchWindow is the flow-control window of bench's connections, per
// stream and per connection: grpc-go's initial window, which at this size
// or above turns its BDP estimation off.
const benchWindow = 64 << 10

// invoker makes one call on one connection.
type invoker func(ctx context.Context) error

// method returns --method of client, with its request built once, so that
// the calls measure the RPC alone.
func (o *Options) method(client greeter.Client) greeter.Method[greeter.Greeting] {
	if o.Method == MethodHelloAgain {
		return client.SayHelloAgain(o.Name)
	}
	return client.SayHello(o.Name)
}

// invoker returns the invoker of method on cc.
func invokerOf(method greeter.Method[greeter.Greeting], cc *grpc.ClientConn) invoker {
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
	// bench's connections keep grpc-go's first flow-control window, 64 KiB,
	// instead of letting grpc-go's BDP estimation grow it: a greeting is
	// tens of bytes, so the window never holds a call back, while the
	// estimation's PINGs cost a write and a read on most calls of a paced
	// run (with them, bench spent 12-15% more CPU per call at --rate 2000:
	// docs/performance.md).
	opts.Factory.DialOptions = append(opts.Factory.DialOptions,
		grpc.WithInitialWindowSize(benchWindow), grpc.WithInitialConnWindowSize(benchWindow))
	method := opts.method(client)
	calls := make([]invoker, opts.Connections)
	for i := range calls {
		cc, err := opts.Factory.NewConn(ctx)
		if err != nil {
			return err
		}
		defer cc.Close()
		calls[i] = invokerOf(method, cc)
	}
	// A connection that failed at once (refused, no route to the host)
	// leaves every call failing in microseconds: measuring them would
	// report a throughput no server gave. One call says why, and bench
	// exits as any other command would (3: cannot connect).
	if !opts.Factory.Connected() {
		cctx, cancel := context.WithTimeout(ctx, opts.Factory.Options.Timeout)
		err := calls[0](cctx)
		cancel()
		if err != nil {
			return rpc.Err(opts.Factory, method.Name, err)
		}
	}

	if opts.Warmup > 0 {
		warm := newRun(opts, calls, int64(opts.Warmup), 0)
		warm.do(ctx, nil)
	}
	r := newRun(opts, calls, int64(opts.Total), opts.Rate)
	var progress io.Writer
	if opts.IO.ErrTTY {
		progress = opts.IO.ErrOut
	}
	res := r.do(ctx, progress)
	if err := res.print(opts); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if res.failed() > 0 {
		return fmt.Errorf("%d of %d calls failed; see the status codes above", res.failed(), res.calls())
	}
	return nil
}

// run is one measured (or warm-up) phase.
type run struct {
	opts  *Options
	calls []invoker
	total int64         // calls to make; 0: until the duration ends
	every time.Duration // --rate's schedule: call k is due at start + k*every; 0: none
	tally *tally

	// next counts the calls handed to workers, when total or the schedule
	// needs them counted.
	next atomic.Int64
	// start and end (zero without -d) are set by do before it starts the
	// goroutines that read them.
	start, end time.Time
}

func newRun(opts *Options, calls []invoker, total int64, rate float64) *run {
	r := &run{opts: opts, calls: calls, total: total}
	if rate > 0 {
		r.every = max(time.Duration(float64(time.Second)/rate), 1)
	}
	r.tally = newTally(r.every > 0)
	return r
}

// do runs the workers until the phase ends, with a progress line on
// progress if it is not nil, and returns what they measured.
func (r *run) do(ctx context.Context, progress io.Writer) *result {
	r.start = time.Now()
	if r.opts.Duration > 0 {
		r.end = r.start.Add(r.opts.Duration)
	}
	stopProgress := func() {}
	if progress != nil {
		stopProgress = r.progress(progress)
	}
	var wg sync.WaitGroup
	for i := range r.opts.Concurrency {
		call := r.calls[i%len(r.calls)]
		wg.Go(func() { r.work(ctx, call) })
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	stopProgress()
	return r.result(ctx, elapsed)
}

// work makes calls until the phase ends.
//
// With --rate, call k is due at start + k*every. A worker free before a
// call's turn waits for it, and measures the call from when it starts. A
// worker that gets a call after its turn, because every worker was busy
// (the server is slow, or stalls), starts it at once and measures it from
// its turn: the time the call waited for the server counts in its latency
// instead of going unmeasured (coordinated omission). The schedule is
// never reset, so the calls due during a stall are all made, late, as soon
// as workers are free; with -d, the calls due but not started before the
// end are counted as missed.
func (r *run) work(ctx context.Context, call invoker) {
	// A call already started runs to its end or its deadline even when
	// the run is interrupted, so Ctrl-C stops bench without failing
	// calls that were about to succeed.
	callCtx := context.WithoutCancel(ctx)
	timeout := r.opts.Factory.Options.Timeout
	counted := r.total > 0 || r.every > 0
	var b batch
	defer b.flush(r.tally)
	var wake *time.Timer // made on a worker's first wait and reused
	defer func() {
		if wake != nil {
			wake.Stop()
		}
	}()
	// now is when the worker became free: it decides whether the run is
	// over and whether the next call is late.
	now := time.Now()
	for ctx.Err() == nil {
		var turn time.Time // set if the call is late: measured from it
		if counted {
			k := r.next.Add(1) - 1
			if r.total > 0 && k >= r.total {
				return
			}
			if r.every > 0 {
				due := r.start.Add(time.Duration(k) * r.every)
				if !r.end.IsZero() && !due.Before(r.end) {
					return
				}
				if now.Before(due) {
					if !sleepUntil(ctx, &wake, due) {
						return
					}
				} else {
					turn = due
				}
			}
		}
		if !r.end.IsZero() && !now.Before(r.end) {
			return
		}
		cctx, cancel := context.WithTimeout(callCtx, timeout)
		t0 := time.Now()
		err := call(cctx)
		now = time.Now()
		cancel()
		s := sample{latency: now.Sub(t0), code: status.Code(err)}
		if !turn.IsZero() {
			s.latency = now.Sub(turn)
			if late := t0.Sub(turn); late > lateAfter {
				s.late = late
			}
		}
		b.add(r.tally, s, now)
	}
}

// sleepUntil waits until t on *timer, which it makes on first use, and
// reports whether it got there before ctx ended.
func sleepUntil(ctx context.Context, timer **time.Timer, t time.Time) bool {
	d := time.Until(t)
	if *timer == nil {
		*timer = time.NewTimer(d)
	} else {
		(*timer).Reset(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-(*timer).C:
		return true
	}
}

// progress draws a progress line on w every progressEvery until the
// returned function is called; that function waits for the drawing to stop
// and clears the line.
func (r *run) progress(w io.Writer) func() {
	every := r.opts.progressEvery
	if every == 0 {
		every = 500 * time.Millisecond
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				done, failed := r.tally.counts()
				elapsed := time.Since(r.start)
				line := fmt.Sprintf("%d calls", done)
				if r.total > 0 {
					line = fmt.Sprintf("%d/%d calls", done, r.total)
				}
				fmt.Fprintf(w, "\r\033[K%s, %d errors, %.0f calls/s, %s", line, failed, float64(done)/elapsed.Seconds(), elapsed.Round(time.Second))
			}
		}
	}()
	return func() { close(stop); <-stopped }
}
