package markdown_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/scripts/tools/mdcheck/markdown"
)

// summary describes blocks as KIND@LINE:TEXT, one a block, with each
// code span's content after a |.
func summary(blocks []markdown.Block) []string {
	var out []string
	for _, b := range blocks {
		kind := [...]string{"prose", "heading", "code"}[b.Kind]
		if b.Kind == markdown.Heading {
			kind += fmt.Sprint(b.Level)
		}
		s := fmt.Sprintf("%s@%d:%s", kind, b.Line, strings.TrimRight(b.Text, " "))
		for _, sp := range b.Spans {
			s += "|" + sp.Code(b.Text)
		}
		out = append(out, s)
	}
	return out
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{
			"headings",
			"# One #\n## Two `code`\nSetext\n===\n\nSetext two\nlines\n---\n####### seven\n#nospace\n",
			[]string{"heading1@1:One", "heading2@2:Two `code`|code", "heading1@3:Setext", "heading2@6:Setext two\nlines", "prose@9:####### seven\n#nospace"},
		},
		{
			"thematic break after a blank line, and after a list item",
			"text\n\n---\n- item\n---\n",
			[]string{"prose@1:text", "prose@4:- item"},
		},
		{
			"fences",
			"```sh\na\n\nb\n```\ntext ```not a fence```\n~~~~\n```\n~~~\n~~~~\n   ```\n   indented\n   ```\n````\nunclosed",
			[]string{"code@2:a\n\nb", "prose@6:text ```not a fence```|not a fence", "code@8:```\n~~~", "code@12:indented", "code@15:unclosed"},
		},
		{
			"indented code, but not in a list or a paragraph",
			"    code\n\n    more\npara\n    continued\n\n- item\n\n    item text\n",
			[]string{"code@1:code\n\nmore", "prose@4:para\n    continued", "prose@7:- item", "prose@9:    item text"},
		},
		{
			"list items and table rows are blocks of their own",
			"- a\n  b\n- c\n1. d\n| x | y |\n|---|---|\n",
			[]string{"prose@1:- a\n  b", "prose@3:- c", "prose@4:1. d", "prose@5:| x | y |", "prose@6:|---|---|"},
		},
		{
			"block quotes",
			"> quoted\n> ```\n> code\n> ```\n>\n> > nested\n",
			[]string{"prose@1:quoted", "code@3:code", "prose@6:nested"},
		},
		{
			"comments",
			"a <!-- hidden --> b\n<!--\n# not a heading\n-->\n`<!--` c\n",
			[]string{"prose@1:a                 b", "prose@5:`<!--` c|<!--"},
		},
		{
			"code spans",
			"``a `b` c`` and ` d ` and `` ` `` and \\`e` f`\nspan `across\nlines` and `unclosed\n",
			[]string{"prose@1:``a `b` c`` and ` d ` and `` ` `` and \\`e` f`\nspan `across\nlines` and `unclosed|a `b` c|d|`| f|across lines"},
		},
	} {
		if got := summary(markdown.Parse(tt.src)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Parse(%q) =\n%q\nwant\n%q", tt.name, tt.src, got, tt.want)
		}
	}
}

func TestMasked(t *testing.T) {
	t.Parallel()
	b := markdown.Parse("[a `]` b](x) \\[c\\] `d`\n")[0]
	want := "[a \x00\x00\x00 b](x) \x00\x00c\x00\x00 \x00\x00\x00"
	if b.Masked != want {
		t.Errorf("Masked = %q, want %q", b.Masked, want)
	}
	if got := b.LineAt(len(b.Text) - 1); got != 1 {
		t.Errorf("LineAt(last) = %d, want 1", got)
	}
}

func TestLineAt(t *testing.T) {
	t.Parallel()
	b := markdown.Parse("\n\nfirst\nsecond\nthird\n")[0]
	for _, tt := range []struct {
		word string
		line int
	}{{"first", 3}, {"second", 4}, {"third", 5}} {
		if got := b.LineAt(strings.Index(b.Text, tt.word)); got != tt.line {
			t.Errorf("LineAt(%q) = %d, want %d", tt.word, got, tt.line)
		}
	}
}
