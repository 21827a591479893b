package bench

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// measure records latencies the way a worker does, and returns the run's
// result.
func measure(latencies []time.Duration) *result {
	r := newRun(&Options{}, nil, 0, 0)
	var b batch
	now := time.Now()
	for _, l := range latencies {
		b.add(r.tally, sample{latency: l, code: codes.OK}, now)
	}
	b.flush(r.tally)
	return r.result(context.Background(), time.Second)
}

// TestPercentiles checks the reported percentiles, min, mean, max and
// histogram against the exact ones, on random latencies and on data made to
// trip a log-bucket histogram: bucket edges, a constant, two far modes.
func TestPercentiles(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int, f func() float64) []time.Duration {
		ls := make([]time.Duration, n)
		for i := range ls {
			ls[i] = time.Duration(f())
		}
		return ls
	}
	var edges []time.Duration
	for e := time.Duration(1); e < maxLatency; e *= 2 {
		edges = append(edges, e-1, e, e+1)
	}
	twoModes := random(10_000, func() float64 { return 50_000 + 1000*rng.Float64() })
	for i := range 150 {
		twoModes[i] = 30*time.Second + time.Duration(i)
	}
	tests := []struct {
		name      string
		latencies []time.Duration
	}{
		{"log-normal around 1ms", random(100_000, func() float64 { return 1e6 * math.Exp(rng.NormFloat64()) })},
		{"uniform 0 to 10s", random(100_000, func() float64 { return 1e10 * rng.Float64() })},
		{"exponential, mean 200us", random(100_000, func() float64 { return 2e5 * rng.ExpFloat64() })},
		{"sub-2048ns, kept exactly", random(10_000, func() float64 { return float64(rng.IntN(2048)) })},
		{"powers of two and their neighbours", edges},
		{"one value", slices.Repeat([]time.Duration{1234567}, 1000)},
		{"two far modes, 1.5% slow", twoModes},
		{"one call", []time.Duration{42 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := measure(tt.latencies)
			exact := slices.Sorted(slices.Values(tt.latencies))
			n := len(exact)
			var sum time.Duration
			for _, l := range exact {
				sum += l
			}
			if res.calls() != int64(n) || res.min != exact[0] || res.max != exact[n-1] || res.avg != sum/time.Duration(n) {
				t.Errorf("calls %d, min %d, mean %d, max %d; want %d, %d, %d, %d",
					res.calls(), res.min, res.avg, res.max, n, exact[0], sum/time.Duration(n), exact[n-1])
			}
			for _, p := range []float64{0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
				// The rank percentile documents: round(p*calls), in [1, calls].
				rank := min(max(int(100*p/100*float64(n)+0.5), 1), n)
				want := exact[rank-1]
				got := res.percentile(p)
				if got < want || float64(got-want) > maxRelErr*float64(want) {
					t.Errorf("percentile(%g) = %d, want %d to %d (the exact value, at most %.3f%% above)",
						p, got, want, want+time.Duration(maxRelErr*float64(want)), 100*maxRelErr)
				}
			}
			var inBars int64
			for _, b := range res.histogram(10) {
				inBars += b.count
			}
			if inBars != int64(n) {
				t.Errorf("histogram bars hold %d calls, want %d", inBars, n)
			}
		})
	}
}

// TestPercentilesBeyondMaxLatency checks that a latency beyond maxLatency
// counts as maxLatency in the percentiles, and exactly in max and mean.
func TestPercentilesBeyondMaxLatency(t *testing.T) {
	t.Parallel()
	res := measure([]time.Duration{time.Millisecond, 3 * time.Hour})
	if p := res.percentile(1); p < maxLatency || float64(p-maxLatency) > maxRelErr*float64(maxLatency) {
		t.Errorf("percentile(1) = %s, want %s", p, maxLatency)
	}
	if res.max != 3*time.Hour || res.avg != (3*time.Hour+time.Millisecond)/2 {
		t.Errorf("max %s, mean %s; want 3h, the exact mean", res.max, res.avg)
	}
}

// TestTallyMemory checks that recording does not allocate, so a run's
// memory does not grow with its length: ten million calls, about five
// minutes at 36,000 calls/s, take none, where keeping every latency took
// 80 MB (and twice that while the slice grew).
func TestTallyMemory(t *testing.T) {
	const calls = 10_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	latencies := make([]time.Duration, 1<<16)
	for i := range latencies {
		latencies[i] = time.Duration(1e6 * math.Exp(2*rng.NormFloat64()))
	}
	// The allocation count is the whole process's: goroutines that earlier
	// tests left winding down (closing connections, say) may allocate
	// during a run. Recording that allocates shows in every attempt; such
	// noise does not, so the least of three attempts is what counts.
	var grew uint64
	var size int
	for attempt := range 3 {
		r := newRun(&Options{}, nil, 0, 1000) // with --rate, so both histograms
		size = r.tally.latency.ByteSize() + r.tally.late.ByteSize()
		var b batch
		now := time.Now()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range calls {
			l := latencies[i%len(latencies)]
			b.add(r.tally, sample{latency: l, late: l / 2, code: codes.Code(i % 20)}, now)
		}
		b.flush(r.tally)
		runtime.ReadMemStats(&after)
		if got := r.tally.latency.TotalCount(); got != calls {
			t.Fatalf("recorded %d calls, want %d", got, calls)
		}
		if got := r.tally.latency.ByteSize() + r.tally.late.ByteSize(); got != size {
			t.Errorf("histograms hold %d bytes after %d calls, want the %d they started with", got, calls, size)
		}
		if g := after.TotalAlloc - before.TotalAlloc; attempt == 0 || g < grew {
			grew = g
		}
		// otherCodes holds the three codes above 16: a map of three entries.
		if grew <= 4096 {
			break
		}
	}
	if grew > 4096 {
		t.Errorf("recording %d calls allocated at least %d bytes in each of three attempts, want none beyond the codes map", calls, grew)
	}
	t.Logf("%d calls recorded in %d bytes of histograms (latency and lateness), %d allocated while recording",
		calls, size, grew)
}

// BenchmarkRecord measures what recording one call costs a worker.
func BenchmarkRecord(b *testing.B) {
	r := newRun(&Options{}, nil, 0, 1000)
	var bt batch
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		bt.add(r.tally, sample{latency: time.Duration(i%100_000) * time.Microsecond, code: codes.OK}, now)
	}
}
