package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestShellWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string // words, operators in <>, each with @offset
	}{
		{"a -b --c=d", []string{"a@0", "-b@2", "--c=d@5"}},
		{`x 'one two' "three \"four\"" five\ six`, []string{"x@0", "one two@2", `three "four"@12`, "five six@29"}},
		{"a | b && c; d & e || f", []string{"a@0", "<|>@2", "b@4", "<&&>@6", "c@9", "<;>@10", "d@12", "<&>@14", "e@16", "<||>@18", "f@21"}},
		{"a \\\n  --b # a comment --c\nd", []string{"a@0", "--b@6", "<\n>@25", "d@26"}},
		{"url#frag #comment", []string{"url#frag@0"}},
		{"X=$(kubectl create token --audience s) cmd --flag", []string{"X=$(kubectl create token --audience s)@0", "cmd@39", "--flag@43"}},
		{"a `b --c` d", []string{"a@0", "`b --c`@2", "d@10"}},
		{"cmd 2>&1 >/dev/null", []string{"cmd@0", "2>&1@4", ">/dev/null@9"}},
		{"(sub --x)", []string{"<(>@0", "sub@1", "--x@5", "<)>@8"}},
		{"'unclosed --x", []string{"unclosed --x@0"}},
	} {
		var got []string
		for _, w := range shellWords(tt.in) {
			s := w.text
			if w.op {
				s = "<" + s + ">"
			}
			got = append(got, fmt.Sprintf("%s@%d", s, w.off))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProgram(t *testing.T) {
	t.Parallel()
	d := &docCheck{programs: []*program{{name: "greeter-server"}, {name: "greeter-client"}}}
	for _, tt := range []struct {
		line string
		want string // PROGRAM ARGS...; "" for none
	}{
		{"greeter-server --addr :1", "greeter-server --addr :1"},
		{"./greeter-client hello", "greeter-client hello"},
		{"/tmp/bin/greeter-client hello", "greeter-client hello"},
		{"$ FOO=1 BAR=2 greeter-server -v", "greeter-server -v"},
		{"sudo -E env X=1 greeter-server", "greeter-server"},
		{"go run ./cmd/greeter-client hello", "greeter-client hello"},
		{"go -C greeter-client run -race ./cmd/greeter-client hello", "greeter-client hello"},
		{"go run .", ""},
		{"go test ./greeter-server", ""},
		{"podman run --rm -p 1:1 localhost/greeter-server:dev --addr :1", "greeter-server --addr :1"},
		{"docker run --name greeter-server --rm ghcr.io/o/greeter-server@sha256:abc", "greeter-server"},
		{"docker run --name greeter-server --network host", ""},
		{"docker build -t greeter-server:dev .", ""},
		{"kubectl logs deploy/greeter-server --tail 1", ""},
		{"greeter-server: an error message --x", ""},
		{"curl --data x", ""},
		{"FOO=1", ""},
	} {
		p, args := d.program(shellWords(tt.line))
		got := ""
		if p != nil {
			got = p.name
			for _, a := range args {
				got += " " + a.text
			}
		}
		if got != tt.want {
			t.Errorf("program(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	var got []string
	for _, tk := range tokens("--a, --b-c. a--b x-y --tls-* (--d=1) --e-- -f ---g --") {
		got = append(got, tk.String())
	}
	if want := []string{"--a", "--b-c", "--tls-*", "--d", "--e"}; !slices.Equal(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
}

func TestPlaceholder(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		w    string
		want bool
	}{
		{"<command>", true}, {"[command]", true}, {"{a|b}", true}, {"COMMAND", true},
		{"hello", false}, {"Ada", false}, {"42", false}, {"-", false},
	} {
		if got := placeholder(tt.w); got != tt.want {
			t.Errorf("placeholder(%q) = %v, want %v", tt.w, got, tt.want)
		}
	}
}

func TestAllowComment(t *testing.T) {
	t.Parallel()
	server := &program{name: "greeter-server", root: &command{path: []string{"greeter-server"}, flags: map[string]flagInfo{"addr": {long: "addr", value: true}}}}
	server.index()
	src := "`--addr`, `--read-only`, `--enable-feature=x` and --dry-run.\n<!-- flagcheck: allow --read-only,--enable-feature\n  --dry-run -->\n`--other`\n"
	d := newDocCheck("doc.md", src, []*program{server}, []*program{server})
	if got, want := strings.Join(d.report(), "\n"), "doc.md:4: --other is not a flag of greeter-server"; got != want {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if d.mentions["read-only"] != true || d.mentions["addr"] != true {
		t.Errorf("mentions = %v, want read-only and addr among them", d.mentions)
	}
}
