package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/greeter-go/greeter/greeter-client/internal/output"
)

// result holds what one worker, or all of them, measured.
type result struct {
	latencies []time.Duration
	codes     map[codes.Code]int
	elapsed   time.Duration
}

func newResult() *result { return &result{codes: map[codes.Code]int{}} }

func (r *result) add(lat time.Duration, err error) {
	r.latencies = append(r.latencies, lat)
	r.codes[status.Code(err)]++
}

func (r *result) failed() int { return len(r.latencies) - r.codes[codes.OK] }

func merge(parts []*result) *result {
	all := newResult()
	for _, p := range parts {
		all.latencies = append(all.latencies, p.latencies...)
		for c, n := range p.codes {
			all.codes[c] += n
		}
	}
	slices.Sort(all.latencies)
	return all
}

// percentile returns the latency below which fraction p of the calls fall.
func (r *result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(r.latencies)))) - 1
	return r.latencies[max(i, 0)]
}

func (r *result) mean() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	var sum time.Duration
	for _, l := range r.latencies {
		sum += l
	}
	return sum / time.Duration(len(r.latencies))
}

var percentiles = []struct {
	name string
	p    float64
}{{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}}

// bucket is one bar of the latency histogram: the calls at most upTo.
type bucket struct {
	upTo  time.Duration
	count int
}

// histogram splits min..max into n equal buckets.
func (r *result) histogram(n int) []bucket {
	if len(r.latencies) == 0 {
		return nil
	}
	lo, hi := r.latencies[0], r.latencies[len(r.latencies)-1]
	width := (hi - lo) / time.Duration(n)
	if width <= 0 {
		return []bucket{{upTo: hi, count: len(r.latencies)}}
	}
	bs := make([]bucket, n)
	for i := range bs {
		bs[i].upTo = lo + width*time.Duration(i+1)
	}
	bs[n-1].upTo = hi
	for _, l := range r.latencies {
		i := min(int((l-lo)/width), n-1)
		bs[i].count++
	}
	return bs
}

func (r *result) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.latencies)) / r.elapsed.Seconds()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r *result) print(opts *Options) error {
	if opts.Factory.Options.Output == output.JSON {
		return r.printJSON(opts)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Summary:\n")
	fmt.Fprintf(w, "  Method:       %s on %s (%s)\n", opts.Method, opts.Factory.Options.Addr, opts.Factory.Options.API)
	fmt.Fprintf(w, "  Calls:        %d, %d failed (%d warm-up calls not counted)\n", len(r.latencies), r.failed(), opts.Warmup)
	fmt.Fprintf(w, "  Workers:      %d on %d connection(s)\n", opts.Concurrency, opts.Connections)
	fmt.Fprintf(w, "  Duration:     %s\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  Throughput:   %.1f calls/s\n", r.throughput())
	if len(r.latencies) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nLatency (ms):\n")
	fmt.Fprintf(w, "  min %.3f  mean %.3f  max %.3f\n", ms(r.latencies[0]), ms(r.mean()), ms(r.latencies[len(r.latencies)-1]))
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

func (r *result) printHistogram(w io.Writer) {
	bs := r.histogram(10)
	most := 0
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
	lat := map[string]any{"min_ms": 0.0, "mean_ms": ms(r.mean()), "max_ms": 0.0}
	if len(r.latencies) > 0 {
		lat["min_ms"], lat["max_ms"] = ms(r.latencies[0]), ms(r.latencies[len(r.latencies)-1])
	}
	for _, p := range percentiles {
		lat[strings.ReplaceAll(p.name, ".", "_")+"_ms"] = ms(r.percentile(p.p))
	}
	var hist []any
	for _, b := range r.histogram(10) {
		hist = append(hist, map[string]any{"up_to_ms": ms(b.upTo), "calls": b.count})
	}
	s, err := structpb.NewStruct(map[string]any{
		"method": opts.Method, "calls": len(r.latencies), "failed": r.failed(),
		"warmup_calls": opts.Warmup, "concurrency": opts.Concurrency, "connections": opts.Connections,
		"duration_s": r.elapsed.Seconds(), "calls_per_second": r.throughput(),
		"latency": lat, "histogram": hist, "status_codes": byCode,
	})
	if err != nil {
		return err
	}
	return output.New(opts.IO.Out, output.JSON).Print(s, "")
}
