package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/greeter-go/greeter/greeter-client/internal/output"
)

// result is what a run measured.
type result struct {
	latency       *hdrhistogram.Histogram
	min, max, avg time.Duration
	codes         map[codes.Code]int64
	elapsed       time.Duration

	// With --rate: the calls per second asked for, the lateness of the
	// calls that started late, and the calls due before the end of a -d
	// run that were never started.
	rate    float64
	late    *hdrhistogram.Histogram
	lateMax time.Duration
	missed  int64
}

// result gathers what the workers of r measured; they have all returned.
func (r *run) result(ctx context.Context, elapsed time.Duration) *result {
	t := r.tally
	res := &result{latency: t.latency, min: t.min, max: t.max, codes: map[codes.Code]int64{}, elapsed: elapsed, late: t.late, lateMax: t.lateMax}
	if n := t.latency.TotalCount(); n > 0 {
		res.avg = t.sum / time.Duration(n)
	}
	for c, n := range t.byCode {
		if n > 0 {
			res.codes[codes.Code(c)] = n
		}
	}
	for c, n := range t.otherCodes {
		res.codes[c] = n
	}
	if r.every > 0 {
		res.rate = r.opts.Rate
		if !r.end.IsZero() && ctx.Err() == nil {
			due := int64((r.opts.Duration + r.every - 1) / r.every)
			if r.total > 0 {
				due = min(due, r.total)
			}
			res.missed = max(due-res.calls(), 0)
		}
	}
	return res
}

func (r *result) calls() int64 { return r.latency.TotalCount() }

func (r *result) failed() int64 { return r.calls() - r.codes[codes.OK] }

// percentile returns the latency below which fraction p of the calls fall:
// the value of rank round(p*calls), at most maxRelErr above the exact one.
func (r *result) percentile(p float64) time.Duration {
	return quantile(r.latency, p, r.max)
}

// quantile returns h's value at fraction p, which is the top of a bucket:
// no more than hi, the exact largest value.
func quantile(h *hdrhistogram.Histogram, p float64, hi time.Duration) time.Duration {
	return min(time.Duration(h.ValueAtQuantile(100*p)), hi)
}

var percentiles = []struct {
	name string
	p    float64
}{{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}}

// bucket is one bar of the latency histogram: the calls at most upTo.
type bucket struct {
	upTo  time.Duration
	count int64
}

// histogram splits min..max into n equal buckets. A call goes in the bucket
// of its value in the HDR histogram, which is at most 0.1% below it.
func (r *result) histogram(n int) []bucket {
	if r.calls() == 0 {
		return nil
	}
	lo, hi := r.min, r.max
	width := (hi - lo) / time.Duration(n)
	if width <= 0 {
		return []bucket{{upTo: hi, count: r.calls()}}
	}
	bs := make([]bucket, n)
	for i := range bs {
		bs[i].upTo = lo + width*time.Duration(i+1)
	}
	bs[n-1].upTo = hi
	for _, bar := range r.latency.Distribution() {
		if bar.Count == 0 {
			continue
		}
		i := min(max(int((time.Duration(bar.From)-lo)/width), 0), n-1)
		bs[i].count += bar.Count
	}
	return bs
}

func (r *result) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.calls()) / r.elapsed.Seconds()
}

// okThroughput is the rate of the calls that succeeded.
func (r *result) okThroughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.codes[codes.OK]) / r.elapsed.Seconds()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r *result) print(opts *Options) error {
	if opts.Factory.Options.Output == output.JSON {
		return r.printJSON(opts)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Summary:\n")
	fmt.Fprintf(w, "  Method:       %s on %s (%s)\n", opts.Method, opts.Factory.Options.Addr, opts.Factory.Options.API)
	fmt.Fprintf(w, "  Calls:        %d, %d failed (%d warm-up calls not counted)\n", r.calls(), r.failed(), opts.Warmup)
	fmt.Fprintf(w, "  Workers:      %d on %d connection(s)\n", opts.Concurrency, opts.Connections)
	fmt.Fprintf(w, "  Duration:     %s\n", r.elapsed.Round(time.Millisecond))
	if r.failed() > 0 {
		fmt.Fprintf(w, "  Throughput:   %.1f calls/s (%.1f calls/s succeeded)\n", r.throughput(), r.okThroughput())
	} else {
		fmt.Fprintf(w, "  Throughput:   %.1f calls/s\n", r.throughput())
	}
	if r.rate > 0 {
		fmt.Fprintf(w, "  Rate:         %s\n", r.schedule())
	}
	if r.calls() == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nLatency (ms):\n")
	fmt.Fprintf(w, "  min %.3f  mean %.3f  max %.3f\n", ms(r.min), ms(r.avg), ms(r.max))
	for _, p := range percentiles {
		fmt.Fprintf(w, "  %-6s %.3f\n", p.name, ms(r.percentile(p.p)))
	}
	fmt.Fprintf(w, "\nHistogram (ms, calls):\n")
	r.printHistogram(w)
	fmt.Fprintf(w, "\nStatus codes:\n")
	for _, c := range r.sortedCodes() {
		fmt.Fprintf(w, "  %-18s %d\n", c, r.codes[c])
	}
	return nil
}

// schedule says how well --rate's schedule was kept.
func (r *result) schedule() string {
	line := fmt.Sprintf("%g calls/s asked; ", r.rate)
	if n := r.late.TotalCount(); n == 0 {
		line += fmt.Sprintf("no call started more than %s late", lateAfter)
	} else {
		line += fmt.Sprintf("%d calls started more than %s late, by up to %.3f ms (p99 %.3f ms)",
			n, lateAfter, ms(r.lateMax), ms(quantile(r.late, 0.99, r.lateMax)))
	}
	if r.missed > 0 {
		line += fmt.Sprintf("; %d calls due before the end were never started", r.missed)
	}
	return line
}

func (r *result) printHistogram(w io.Writer) {
	bs := r.histogram(10)
	var most int64
	for _, b := range bs {
		most = max(most, b.count)
	}
	for _, b := range bs {
		bar := strings.Repeat("#", int(math.Round(40*float64(b.count)/float64(most))))
		fmt.Fprintf(w, "  %10.3f [%8d] %s\n", ms(b.upTo), b.count, bar)
	}
}

func (r *result) sortedCodes() []codes.Code {
	cs := make([]codes.Code, 0, len(r.codes))
	for c := range r.codes {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

func (r *result) printJSON(opts *Options) error {
	byCode := map[string]any{}
	for c, n := range r.codes {
		byCode[c.String()] = n
	}
	lat := map[string]any{"min_ms": ms(r.min), "mean_ms": ms(r.avg), "max_ms": ms(r.max)}
	for _, p := range percentiles {
		lat[strings.ReplaceAll(p.name, ".", "_")+"_ms"] = ms(r.percentile(p.p))
	}
	var hist []any
	for _, b := range r.histogram(10) {
		hist = append(hist, map[string]any{"up_to_ms": ms(b.upTo), "calls": b.count})
	}
	report := map[string]any{
		"method": opts.Method, "calls": r.calls(), "failed": r.failed(),
		"warmup_calls": opts.Warmup, "concurrency": opts.Concurrency, "connections": opts.Connections,
		"duration_s": r.elapsed.Seconds(), "calls_per_second": r.throughput(), "ok_calls_per_second": r.okThroughput(),
		"latency": lat, "histogram": hist, "status_codes": byCode,
	}
	if r.rate > 0 {
		report["rate"] = map[string]any{
			"calls_per_second": r.rate, "late_calls": r.late.TotalCount(),
			"late_max_ms": ms(r.lateMax), "late_p99_ms": ms(quantile(r.late, 0.99, r.lateMax)),
			"missed_calls": r.missed,
		}
	}
	s, err := structpb.NewStruct(report)
	if err != nil {
		return err
	}
	return output.New(opts.IO.Out, output.JSON).Print(s, "")
}
