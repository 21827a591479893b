package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpPages are the canned --help outputs of the fake programs, one file
// per command: testdata/help/PROGRAM/root.txt, .../SUB.txt, .../SUB_SUB.txt.
//
//go:embed testdata/help
var helpPages embed.FS

// TestMain makes the test binary a fake cobra program when it runs under
// the name fake-PROGRAM (a link that fakes makes): it prints the canned
// help of PROGRAM for the command its arguments name.
func TestMain(m *testing.M) {
	if name, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "fake-"); ok {
		os.Exit(fake(name, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fake(name string, args []string) int {
	if len(args) == 0 || args[len(args)-1] != "--help" {
		fmt.Fprintf(os.Stderr, "fake-%s prints only help, not %q\n", name, args)
		return 2
	}
	page := "root"
	if len(args) > 1 {
		page = strings.Join(args[:len(args)-1], "_")
	}
	out, err := helpPages.ReadFile("testdata/help/" + name + "/" + page + ".txt")
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: unknown command %q for %q\n", page, name)
		return 1
	}
	os.Stdout.Write(out)
	return 0
}

// fakes returns, for each name, the path of a fake program that prints the
// canned help of testdata/help/NAME.
func fakes(t *testing.T, names ...string) map[string]string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths := map[string]string{}
	for _, name := range names {
		p := filepath.Join(dir, "fake-"+name)
		if err := os.Symlink(exe, p); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

const (
	serverDoc = "testdata/docs/server.md"
	clientDoc = "testdata/docs/client.md"
	// otherDoc is checked by rule (b) alone (-doc).
	otherDoc = "testdata/docs/other.md"
)

func fixturePrograms(t *testing.T) []*program {
	t.Helper()
	bin := fakes(t, "server", "client")
	return []*program{
		{name: "greeter-server", binary: bin["server"], doc: serverDoc},
		{name: "greeter-client", binary: bin["client"], doc: clientDoc},
	}
}

var (
	docProblem  = regexp.MustCompile(`^([^:]+):([0-9]+): (.*)$`)
	wantComment = regexp.MustCompile(`want "([^"]+)"`)
)

// TestCheck checks the fixture docs against the fake programs: each line of
// a doc marked want "TEXT" must be reported with TEXT, no other line may
// be, and rules (a) and (c) must report exactly what the fixtures break.
func TestCheck(t *testing.T) {
	t.Parallel()
	problems, err := check(context.Background(), fixturePrograms(t), []string{otherDoc, serverDoc})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, doc := range []string{serverDoc, clientDoc, otherDoc} {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, m := range wantComment.FindAllStringSubmatch(line, -1) {
				key := fmt.Sprintf("%s:%d", doc, i+1)
				want[key] = append(want[key], m[1])
			}
		}
	}
	var rest []string
	for _, p := range problems {
		m := docProblem.FindStringSubmatch(p)
		if m == nil {
			rest = append(rest, p)
			continue
		}
		key := m[1] + ":" + m[2]
		i := slices.IndexFunc(want[key], func(w string) bool { return strings.Contains(m[3], w) })
		if i < 0 {
			t.Errorf("unexpected problem %s", p)
			continue
		}
		want[key] = slices.Delete(want[key], i, i+1)
	}
	for key, ws := range want {
		for _, w := range ws {
			t.Errorf("%s: no problem reported, want one containing %q", key, w)
		}
	}
	wantRest := []string{
		// (a)
		serverDoc + ": never mentions --tls-key, a flag of greeter-server",
		serverDoc + ": never mentions --version, a flag of greeter-server",
		clientDoc + ": never mentions --warmup, a flag of greeter-client bench",
		// (c)
		"shorthand -c stands for different flags: --concurrency in greeter-client bench; --count in greeter-client stream",
		"shorthand -n stands for different flags: --total in greeter-client bench; --name in greeter-client hello, greeter-client stream",
		"shorthand -v stands for different flags: --version in greeter-server; --verbose in greeter-client",
	}
	if !slices.Equal(rest, wantRest) {
		t.Errorf("problems of rules (a) and (c) =\n%s\nwant\n%s", strings.Join(rest, "\n"), strings.Join(wantRest, "\n"))
	}
}

// TestLoad checks the commands and flags read from the fake client's help.
func TestLoad(t *testing.T) {
	t.Parallel()
	p := &program{name: "greeter-client", binary: fakes(t, "client")["client"]}
	if err := p.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.all {
		var flags []string
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for name := range c.flags {
				if !yield(name) {
					return
				}
			}
		}) {
			f := c.flags[name]
			s := "--" + name
			if f.short != "" {
				s = "-" + f.short + "/" + s
			}
			if f.value {
				s += "=V"
			}
			flags = append(flags, s)
		}
		got = append(got, c.String()+": "+strings.Join(flags, " "))
	}
	global := "--addr=V -H/--header=V -h/--help -o/--output=V --tls -v/--verbose"
	want := []string{
		"greeter-client: " + global,
		"greeter-client bench: --addr=V -c/--concurrency=V -H/--header=V -h/--help -o/--output=V --tls -n/--total=V -v/--verbose --warmup=V",
		"greeter-client hello: --addr=V -H/--header=V -h/--help -n/--name=V -o/--output=V --tls -v/--verbose",
		"greeter-client stream: --addr=V -c/--count=V -H/--header=V -h/--help -i/--interval=V -n/--name=V -o/--output=V --tls -v/--verbose",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands of the fake client =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	bin := fakes(t, "server", "client", "plain", "missing")
	complete := filepath.Join(t.TempDir(), "server.md")
	if err := os.WriteFile(complete, []byte("`greeter-server --addr A --log-level L --reflection --tls-cert C --tls-key K --version`\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a line it must print
	}{
		{"a complete doc", []string{"-program", "greeter-server=" + bin["server"] + "=" + complete}, 0, ""},
		{"the fixtures", []string{"-program", "greeter-server=" + bin["server"] + "=" + serverDoc, "-program", "greeter-client=" + bin["client"] + "=" + clientDoc}, 1,
			serverDoc + ":32: greeter-server has no flag --listen\n"},
		{"no program", nil, 2, ""},
		{"an argument", []string{"-program", "greeter-server=" + bin["server"] + "=" + complete, "extra"}, 2, ""},
		{"not NAME=BINARY=DOC", []string{"-program", "greeter-server=" + bin["server"]}, 2, ""},
		{"no name", []string{"-program", "=" + bin["server"] + "=" + complete}, 2, ""},
		{"a missing doc", []string{"-program", "greeter-server=" + bin["server"] + "=" + complete + ".missing"}, 2, ""},
		{"a binary that fails", []string{"-program", "x=" + bin["missing"] + "=" + complete}, 2, ""},
		{"a binary that does not exist", []string{"-program", "x=" + bin["server"] + ".missing=" + complete}, 2, ""},
		{"help that is not cobra's", []string{"-program", "x=" + bin["plain"] + "=" + complete}, 2, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || (tt.stdout == "" && stdout.Len() > 0) {
			t.Errorf("%s: flagcheck %q = %d, stdout:\n%s\nstderr:\n%s\nwant %d with %q", tt.name, tt.args, code, &stdout, &stderr, tt.code, tt.stdout)
		}
	}
}
