package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseHelp(t *testing.T) {
	t.Parallel()
	out := strings.Join([]string{
		"A description that shows a flag:",
		"      --in-the-description string   not read",
		"",
		"Usage:",
		"  prog [command]",
		"",
		"Greeting Commands:",
		"  hello       Greet",
		"",
		"Additional Commands:",
		"  version     Print the version",
		"     not-a-command: a wrapped description",
		"",
		"Flags:",
		"      --addr string               an address",
		"  -c, --count uint32              how many",
		"      --optional string[=\"x\"]     a value only with =",
		"      --level[=2] int             likewise, pflag's other spelling",
		"      --quiet[=false]             a bool whose bare form is false",
		"  -t, --tls                       a bool",
		"      --usage-with-a-long-text    and a line that wraps:",
		"                                  --wrapped-line",
		"  -h, --help                      help for prog",
		"",
		"Global Flags:",
		"  -v, --verbose   chatty",
		"      --log.level string   a name with a dot",
		"",
		`Use "prog [command] --help" for more information about a command.`,
	}, "\n")
	h, err := parseHelp(out)
	if err != nil {
		t.Fatal(err)
	}
	show := func(fs []flagInfo) []string {
		var out []string
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%s/%s/%v", f.short, f.long, f.value))
		}
		return out
	}
	wantLocal := []string{"/addr/true", "c/count/true", "/optional/false", "/level/false", "/quiet/false", "t/tls/false", "/usage-with-a-long-text/false", "h/help/false"}
	if got := show(h.local); !slices.Equal(got, wantLocal) {
		t.Errorf("local flags = %q, want %q", got, wantLocal)
	}
	wantGlobal := []string{"v/verbose/false", "/log.level/true"}
	if got := show(h.global); !slices.Equal(got, wantGlobal) {
		t.Errorf("global flags = %q, want %q", got, wantGlobal)
	}
	if want := []string{"hello", "version"}; !slices.Equal(h.commands, want) {
		t.Errorf("commands = %q, want %q", h.commands, want)
	}
}

func TestParseHelpNotCobra(t *testing.T) {
	t.Parallel()
	for _, out := range []string{"", "usage: prog [-x]\n\n  -x   do it\n", "Usage:\n  prog\n\nflags:\n  --x  lower case\n"} {
		if h, err := parseHelp(out); err == nil {
			t.Errorf("parseHelp(%q) = %+v, nil, want an error", out, h)
		}
	}
}
