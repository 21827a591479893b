// Command benchreport turns the figures that scripts/bench-report.sh
// measures into the tables of its report. The script runs the processes; this
// program does the arithmetic.
//
// Usage:
//
//	benchreport servers FILE   # table 1, from `go test -bench` output
//	benchreport levels FILE    # table 2, from one JSON object a line
//
// servers reads the output of greeter-server/internal/serve's BenchmarkUnary
// and BenchmarkStream (golang.org/x/perf/benchfmt parses it) and prints, per
// call kind and server configuration, the median over the rounds of the bare
// and our server's CPU microseconds per call and of their ratio.
//
// levels reads lines {"server": "bare"|"ours", "concurrency": N, "cpu_ns": N,
// "result": <greeter-client bench --output json>}, one per run, and prints
// per concurrency level the best run of each server: the highest calls/s and
// the lowest server CPU microseconds per call. A run with a failed call is an
// error.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "servers" && os.Args[1] != "levels") {
		fmt.Fprintln(os.Stderr, "usage: benchreport servers|levels FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	defer f.Close()
	if os.Args[1] == "servers" {
		err = servers(os.Stdout, f, os.Args[2])
	} else {
		err = levels(os.Stdout, f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// The rows of table 1, in order.
var (
	calls   = []string{"unary", "stream"}
	configs = []string{"ours", "ours+metrics", "ours+accesslog"}
)

// servers prints table 1 from benchmark output read from r.
func servers(w io.Writer, r io.Reader, name string) error {
	type key struct{ call, config string }
	type rounds struct{ bare, ours, ratio []float64 }
	got := map[key]*rounds{}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit metadata: not a result
		}
		base, parts := res.Name.Parts()
		var config string
		for _, p := range parts {
			if v, ok := strings.CutPrefix(string(p), "/server="); ok {
				config = v
			}
		}
		bare, ok1 := origValue(res, "bare-cpu-ns/op")
		ours, ok2 := origValue(res, "ours-cpu-ns/op")
		ratio, ok3 := origValue(res, "ours/bare")
		if config == "" || !ok1 || !ok2 || !ok3 {
			continue
		}
		k := key{strings.ToLower(string(base)), config}
		if got[k] == nil {
			got[k] = &rounds{}
		}
		got[k].bare = append(got[k].bare, bare)
		got[k].ours = append(got[k].ours, ours)
		got[k].ratio = append(got[k].ratio, ratio)
	}
	if err := br.Err(); err != nil {
		return err
	}
	if len(got) == 0 {
		return errors.New("no BenchmarkUnary or BenchmarkStream results with server CPU figures")
	}
	fmt.Fprintf(w, "   %-8s %-16s %14s %14s %10s\n", "call", "server", "bare-us/call", "ours-us/call", "ours/bare")
	for _, c := range calls {
		for _, cfg := range configs {
			if r := got[key{c, cfg}]; r != nil {
				fmt.Fprintf(w, "   %-8s %-16s %14.1f %14.1f %10.3f\n", c, cfg, median(r.bare)/1000, median(r.ours)/1000, median(r.ratio))
			}
		}
	}
	return nil
}

// origValue returns res's measurement in unit as the benchmark reported it:
// benchfmt tidies units (ns into sec), and the report wants them as written.
func origValue(res *benchfmt.Result, unit string) (float64, bool) {
	for _, v := range res.Values {
		if v.OrigUnit == unit {
			return v.OrigValue, true
		}
		if v.OrigUnit == "" && v.Unit == unit {
			return v.Value, true
		}
	}
	return 0, false
}

// median returns the median of xs, the mean of the middle two for an even
// count; xs is not changed.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// run is one line of levels' input.
type run struct {
	Server      string `json:"server"`
	Concurrency int    `json:"concurrency"`
	CPUNanos    int64  `json:"cpu_ns"`
	Result      struct {
		Calls          int     `json:"calls"`
		Failed         int     `json:"failed"`
		CallsPerSecond float64 `json:"calls_per_second"`
	} `json:"result"`
}

// levels prints table 2 from runs read from r.
func levels(w io.Writer, r io.Reader) error {
	type best struct {
		rps, usPerCall float64
		seen           bool
	}
	var order []int
	table := map[int]map[string]*best{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rn run
		if err := json.Unmarshal(sc.Bytes(), &rn); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if rn.Result.Failed != 0 || rn.Result.Calls == 0 {
			return fmt.Errorf("line %d: %s server at concurrency %d: %d of %d calls failed", line, rn.Server, rn.Concurrency, rn.Result.Failed, rn.Result.Calls)
		}
		if table[rn.Concurrency] == nil {
			table[rn.Concurrency] = map[string]*best{"bare": {}, "ours": {}}
			order = append(order, rn.Concurrency)
		}
		b := table[rn.Concurrency][rn.Server]
		if b == nil {
			return fmt.Errorf("line %d: unknown server %q, want bare or ours", line, rn.Server)
		}
		us := float64(rn.CPUNanos) / 1000 / float64(rn.Result.Calls)
		if !b.seen || rn.Result.CallsPerSecond > b.rps {
			b.rps = rn.Result.CallsPerSecond
		}
		if !b.seen || us < b.usPerCall {
			b.usPerCall = us
		}
		b.seen = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(w, "   %-12s %12s %12s %14s %14s\n", "concurrency", "bare-calls/s", "ours-calls/s", "bare-us/call", "ours-us/call")
	for _, c := range order {
		bare, ours := table[c]["bare"], table[c]["ours"]
		if !bare.seen || !ours.seen {
			return fmt.Errorf("concurrency %d: a run of each server is needed", c)
		}
		fmt.Fprintf(w, "   %-12d %12d %12d %14.1f %14.1f\n", c, int64(bare.rps), int64(ours.rps), bare.usPerCall, ours.usPerCall)
	}
	return nil
}
