package bench

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/grpc/codes"
)

// The latency histograms are HDR histograms (hdrhistogram-go): a fixed array
// of counters, so a run of an hour takes no more memory than a run of a
// second, where keeping every latency took about 1 GiB an hour at 36,000
// calls/s. With 3 significant digits a latency below 2048 ns is kept
// exactly, and any other in a bucket at most 1/1024 of its value wide; a
// percentile is reported as the top of its bucket (or the exact max, if
// lower), so it is never below the exact value and at most 0.1% above it.
// Latencies beyond maxLatency count as maxLatency in the percentiles; min,
// mean and max are kept exactly. Recording does not allocate.
const (
	sigDigits  = 3
	maxLatency = time.Hour
	// maxRelErr is the percentiles' largest error, relative to the exact
	// value, that sigDigits gives: one part in 2^10.
	maxRelErr = 1.0 / 1024
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(maxLatency), sigDigits)
}

// sample is what one call measured.
type sample struct {
	latency time.Duration // from the call's start, or its turn if it started late
	late    time.Duration // how long after its turn it started, if it counts as late
	code    codes.Code
}

// lateAfter is how long after its turn a call must start to count as late.
// A call is measured from its turn whenever it starts after it; below a
// millisecond, though, the delay is the scheduling noise of bench itself
// (goroutines starting, a timer's wake-up), not a server holding workers.
const lateAfter = time.Millisecond

// tally adds up what the workers of a run measured. Workers hand it their
// samples in batches (see batch), so they rarely meet at its lock, and the
// progress line reads it under the same lock.
type tally struct {
	mu         sync.Mutex
	latency    *hdrhistogram.Histogram
	late       *hdrhistogram.Histogram // nil without --rate
	lateMax    time.Duration
	min, max   time.Duration
	sum        time.Duration
	byCode     [codes.Unauthenticated + 1]int64
	otherCodes map[codes.Code]int64 // codes outside grpc's own 17
}

func newTally(rate bool) *tally {
	t := &tally{latency: newHistogram(), otherCodes: map[codes.Code]int64{}}
	if rate {
		t.late = newHistogram()
	}
	return t
}

func (t *tally) add(samples []sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range samples {
		if t.latency.TotalCount() == 0 || s.latency < t.min {
			t.min = s.latency
		}
		t.max = max(t.max, s.latency)
		t.sum += s.latency
		_ = t.latency.RecordValue(int64(min(s.latency, maxLatency)))
		if s.late > 0 && t.late != nil {
			_ = t.late.RecordValue(int64(min(s.late, maxLatency)))
			t.lateMax = max(t.lateMax, s.late)
		}
		if int(s.code) < len(t.byCode) {
			t.byCode[s.code]++
		} else {
			t.otherCodes[s.code]++
		}
	}
}

// counts returns the calls measured so far and how many of them failed.
func (t *tally) counts() (calls, failed int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	calls = t.latency.TotalCount()
	return calls, calls - t.byCode[codes.OK]
}

// batch is one worker's samples not yet in the tally. A worker adds a batch
// when it is full, which takes one lock per len(samples) calls, or when it
// is older than batchAge, so the progress line is never far behind.
type batch struct {
	samples [128]sample
	n       int
	since   time.Time // when the oldest sample was taken
}

const batchAge = 200 * time.Millisecond

// add keeps s, taken at now, and hands the batch to t when it is due.
func (b *batch) add(t *tally, s sample, now time.Time) {
	if b.n == 0 {
		b.since = now
	}
	b.samples[b.n] = s
	b.n++
	if b.n == len(b.samples) || now.Sub(b.since) >= batchAge {
		b.flush(t)
	}
}

func (b *batch) flush(t *tally) {
	if b.n > 0 {
		t.add(b.samples[:b.n])
		b.n = 0
	}
}
