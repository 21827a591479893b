package main

import (
	"strings"
	"testing"
)

func TestServers(t *testing.T) {
	t.Parallel()
	in := `goos: linux
pkg: github.com/greeter-go/greeter/greeter-server/internal/serve
BenchmarkUnary/server=ours-2         	     200	    305250 ns/op	     58000 bare-cpu-ns/op	     68000 ours-cpu-ns/op	         1.100 ours/bare
BenchmarkUnary/server=ours-2         	     200	    713899 ns/op	     50000 bare-cpu-ns/op	     60000 ours-cpu-ns/op	         1.200 ours/bare
BenchmarkUnary/server=ours-2         	     200	    713899 ns/op	     90000 bare-cpu-ns/op	     99000 ours-cpu-ns/op	         1.000 ours/bare
BenchmarkStream/server=ours+metrics-2 	     200	    167716 ns/op	     40000 bare-cpu-ns/op	     48000 ours-cpu-ns/op	         1.190 ours/bare
BenchmarkStream/server=ours+metrics-2 	     200	    348904 ns/op	     60000 bare-cpu-ns/op	     66000 ours-cpu-ns/op	         1.090 ours/bare
PASS
ok  	github.com/greeter-go/greeter/greeter-server/internal/serve	5.456s
`
	var out strings.Builder
	if err := servers(&out, strings.NewReader(in), "gobench.txt"); err != nil {
		t.Fatal(err)
	}
	// unary: medians of 3 rounds (the middle one); stream: of 2 (their mean).
	want := `   call     server             bare-us/call   ours-us/call  ours/bare
   unary    ours                       58.0           68.0      1.100
   stream   ours+metrics               50.0           57.0      1.140
`
	if out.String() != want {
		t.Errorf("servers() printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestServersNoResults(t *testing.T) {
	t.Parallel()
	if err := servers(&strings.Builder{}, strings.NewReader("PASS\n"), "empty"); err == nil {
		t.Error("servers() with no results = nil error, want one")
	}
}

func TestLevels(t *testing.T) {
	t.Parallel()
	in := `{"server":"bare","concurrency":1,"cpu_ns":2000000,"result":{"calls":100,"failed":0,"calls_per_second":5000.9}}
{"server":"ours","concurrency":1,"cpu_ns":2500000,"result":{"calls":100,"failed":0,"calls_per_second":4800}}
{"server":"bare","concurrency":1,"cpu_ns":1800000,"result":{"calls":100,"failed":0,"calls_per_second":4900}}
{"server":"ours","concurrency":1,"cpu_ns":2600000,"result":{"calls":100,"failed":0,"calls_per_second":4850}}
{"server":"bare","concurrency":8,"cpu_ns":1000000,"result":{"calls":100,"failed":0,"calls_per_second":17000}}
{"server":"ours","concurrency":8,"cpu_ns":1100000,"result":{"calls":100,"failed":0,"calls_per_second":22000}}
`
	var out strings.Builder
	if err := levels(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	// Best of the runs: the highest calls/s and, separately, the lowest CPU.
	want := `   concurrency  bare-calls/s ours-calls/s   bare-us/call   ours-us/call
   1                    5000         4850           18.0           25.0
   8                   17000        22000           10.0           11.0
`
	if out.String() != want {
		t.Errorf("levels() printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLevelsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in, want string }{
		{"failed calls", `{"server":"ours","concurrency":1,"cpu_ns":1,"result":{"calls":100,"failed":3,"calls_per_second":1}}`, "3 of 100 calls failed"},
		{"unknown server", `{"server":"theirs","concurrency":1,"cpu_ns":1,"result":{"calls":1,"calls_per_second":1}}`, "unknown server"},
		{"one server only", `{"server":"ours","concurrency":1,"cpu_ns":1,"result":{"calls":1,"calls_per_second":1}}`, "a run of each server"},
		{"not JSON", `cpu 12`, "line 1"},
	} {
		err := levels(&strings.Builder{}, strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: levels() = %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}
