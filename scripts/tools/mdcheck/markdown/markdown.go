// Package markdown splits a Markdown document into the blocks that the
// documentation checkers of scripts/tools read: headings, prose and code.
// mdcheck and flagcheck both use it, so that they agree on what is code.
//
// It is not a renderer. It follows CommonMark (and GitHub's tables) as far
// as telling code from prose needs: fenced and indented code blocks, ATX and
// setext headings, paragraphs, list items, table rows, block quotes (their
// markers are stripped), HTML comments (blanked out, even across lines), and
// inside prose the code spans and backslash escapes. What it does not model
// (lazy continuation subtleties, HTML blocks, nested containers beyond list
// indentation) changes where a paragraph ends, never whether text is code.
package markdown

import (
	"regexp"
	"strings"
)

// Kind is the kind of a Block.
type Kind int

// The kinds of block.
const (
	// Prose is a paragraph, a list item's paragraph or a table row.
	Prose Kind = iota
	// Heading is an ATX (# Title) or setext (Title, then ===) heading.
	Heading
	// Code is a fenced or indented code block.
	Code
)

// A Block is a run of a document's lines of one kind.
type Block struct {
	Kind Kind
	// Line is the 1-based line of the block's first byte of Text.
	Line int
	// Level is a heading's level, 1 to 6.
	Level int
	// Info is the info string of a fenced code block, such as "sh".
	Info string
	// Text is the block's text: its lines joined with "\n", without block
	// quote markers, fences, a heading's # marks or underline, or the
	// indentation of an indented code block. HTML comments are blanked out
	// with spaces, so offsets still map to lines.
	Text string
	// Masked is Text (of Prose and Heading blocks) with every code span,
	// backticks included, and every backslash escape, backslash included,
	// replaced by NUL bytes: what is left is the markup and the prose, at
	// the same offsets as in Text.
	Masked string
	// Spans are the code spans of a Prose or Heading block, in order.
	Spans []Span
}

// A Span is a code span of a Block: Text[Start:End] is the span with its
// backticks, Text[CodeStart:CodeEnd] its content.
type Span struct {
	Start, End         int
	CodeStart, CodeEnd int
}

// Code returns the content of span s of text as GitHub renders it: line
// endings become spaces, and one space is stripped from each end when both
// ends have one and the content is not only spaces.
func (s Span) Code(text string) string {
	c := strings.ReplaceAll(text[s.CodeStart:s.CodeEnd], "\n", " ")
	if len(c) >= 2 && c[0] == ' ' && c[len(c)-1] == ' ' && strings.Trim(c, " ") != "" {
		c = c[1 : len(c)-1]
	}
	return c
}

// LineAt returns the 1-based line of byte off of b.Text.
func (b *Block) LineAt(off int) int {
	return b.Line + strings.Count(b.Text[:off], "\n")
}

var (
	atxHeading     = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextLine     = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	thematicBreak  = regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	listItem       = regexp.MustCompile(`^[ \t]*(?:[-+*]|[0-9]{1,9}[.)])(?:[ \t]|$)`)
	blockQuoteMark = regexp.MustCompile(`^ {0,3}> ?`)
)

// Parse splits the Markdown document src into blocks, in document order.
func Parse(src string) []Block {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	p := &parser{}
	inComment := false
	for i := 0; i < len(lines); i++ {
		line := stripQuote(lines[i])
		if inComment {
			line = blankComments(line, &inComment)
		} else if f, ok := openFence(line); ok {
			p.flush()
			body, next := f.body(lines, i+1)
			p.blocks = append(p.blocks, Block{Kind: Code, Line: i + 2, Info: f.info, Text: strings.Join(body, "\n")})
			i = next - 1
			p.prevBlank = false
			continue
		} else {
			line = blankComments(line, &inComment)
		}
		i = p.line(lines, i, line)
	}
	p.flush()
	return p.blocks
}

// parser holds the state of Parse between lines.
type parser struct {
	blocks    []Block
	para      []string
	paraLine  int
	paraList  bool // the open paragraph began with a list marker
	inList    bool // indented lines continue a list item, not start code
	prevBlank bool
}

// line handles line (lines[i] without block quote markers and comments) and
// returns the index of the last line it consumed.
func (p *parser) line(lines []string, i int, line string) int {
	n := i + 1
	if strings.TrimSpace(line) == "" {
		p.flush()
		p.prevBlank = true
		return i
	}
	isItem := listItem.MatchString(line)
	if p.prevBlank && indent(line) == 0 && !isItem {
		p.inList = false
	}
	p.prevBlank = false
	switch {
	case p.para == nil && !p.inList && indent(line) >= 4:
		var body []string
		j := i
		for ; j < len(lines); j++ {
			l := stripQuote(lines[j])
			if strings.TrimSpace(l) != "" && indent(l) < 4 {
				break
			}
			body = append(body, dedent(l, 4))
		}
		for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
			body = body[:len(body)-1]
		}
		p.blocks = append(p.blocks, Block{Kind: Code, Line: n, Text: strings.Join(body, "\n")})
		return i + len(body) - 1
	case atxHeading.MatchString(line):
		p.flush()
		m := atxHeading.FindStringSubmatch(line)
		p.blocks = append(p.blocks, inline(Block{Kind: Heading, Line: n, Level: len(m[1]), Text: m[2]}))
		p.inList = false
	case p.para != nil && !p.paraList && setextLine.MatchString(line):
		level := 2
		if strings.TrimSpace(line)[0] == '=' {
			level = 1
		}
		p.blocks = append(p.blocks, inline(Block{Kind: Heading, Line: p.paraLine, Level: level, Text: strings.Join(p.para, "\n")}))
		p.para = nil
	case thematicBreak.MatchString(line):
		p.flush()
		p.inList = false
	case isItem:
		p.flush()
		p.start(n, line)
		p.paraList = true
		p.inList = true
	case strings.HasPrefix(strings.TrimSpace(line), "|"):
		p.flush()
		p.start(n, line)
		p.flush()
	default:
		if p.para == nil {
			p.start(n, line)
		} else {
			p.para = append(p.para, line)
		}
	}
	return i
}

func (p *parser) start(n int, line string) {
	p.para = []string{line}
	p.paraLine = n
	p.paraList = false
}

func (p *parser) flush() {
	if p.para == nil {
		return
	}
	p.blocks = append(p.blocks, inline(Block{Kind: Prose, Line: p.paraLine, Text: strings.Join(p.para, "\n")}))
	p.para = nil
}

// stripQuote removes the block quote markers from the start of line.
func stripQuote(line string) string {
	for {
		m := blockQuoteMark.FindStringIndex(line)
		if m == nil {
			return line
		}
		line = line[m[1]:]
	}
}

// indent returns the width of line's leading white space, a tab reaching
// the next multiple of 4 columns.
func indent(line string) int {
	w := 0
	for _, c := range line {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w
		}
	}
	return w
}

// dedent removes up to n columns of leading white space from line.
func dedent(line string, n int) string {
	w := 0
	for i, c := range line {
		if w >= n || (c != ' ' && c != '\t') {
			return line[i:]
		}
		if c == ' ' {
			w++
		} else {
			w += 4 - w%4
		}
	}
	return ""
}

// A fence is the opening line of a fenced code block.
type fence struct {
	char   byte
	length int
	indent int
	info   string
}

// openFence reports whether line opens a fenced code block. Any indentation
// is accepted: a fence inside a list item is indented by the item's width.
func openFence(line string) (fence, bool) {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return fence{}, false
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	info := strings.TrimSpace(t[n:])
	if n < 3 || (t[0] == '`' && strings.Contains(info, "`")) {
		return fence{}, false
	}
	return fence{char: t[0], length: n, indent: indent(line), info: info}, true
}

// body returns the lines of the block that f opens, from lines[from], and
// the index of the line after its closing fence (len(lines) if none: an
// unclosed fence runs to the end of the document).
func (f fence) body(lines []string, from int) ([]string, int) {
	var body []string
	for j := from; j < len(lines); j++ {
		l := stripQuote(lines[j])
		t := strings.TrimLeft(l, " \t")
		n := 0
		for n < len(t) && t[n] == f.char {
			n++
		}
		if n >= f.length && strings.TrimSpace(t[n:]) == "" {
			return body, j + 1
		}
		body = append(body, dedent(l, f.indent))
	}
	return body, len(lines)
}

// blankComments replaces the HTML comments of line with spaces. inComment
// says whether line starts inside a comment, and is set to whether it ends
// inside one. A "<!--" inside a code span of the line does not open one.
func blankComments(line string, inComment *bool) string {
	b := []byte(line)
	i := 0
	for i < len(b) {
		if *inComment {
			end := strings.Index(line[i:], "-->")
			if end < 0 {
				blank(b, i, len(b))
				return string(b)
			}
			blank(b, i, i+end+3)
			i += end + 3
			*inComment = false
			continue
		}
		switch {
		case b[i] == '`':
			n := run(line, i)
			if c := closingRun(line, i+n, n); c >= 0 {
				i = c + n
			} else {
				i += n
			}
		case strings.HasPrefix(line[i:], "<!--"):
			*inComment = true
			blank(b, i, i+4)
			i += 4
		default:
			i++
		}
	}
	return string(b)
}

func blank(b []byte, from, to int) {
	for k := from; k < to; k++ {
		b[k] = ' '
	}
}

// run returns the length of the run of s[i] bytes at s[i:].
func run(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == s[i] {
		n++
	}
	return n
}

// closingRun returns the offset of the first run of exactly n backticks in
// s at or after from, or -1.
func closingRun(s string, from, n int) int {
	for j := from; j < len(s); {
		if s[j] != '`' {
			j++
			continue
		}
		k := run(s, j)
		if k == n {
			return j
		}
		j += k
	}
	return -1
}

// inline sets b.Masked and b.Spans from b.Text.
func inline(b Block) Block {
	t := b.Text
	m := []byte(t)
	for i := 0; i < len(t); {
		switch {
		case t[i] == '\\' && i+1 < len(t) && isPunct(t[i+1]):
			m[i], m[i+1] = 0, 0
			i += 2
		case t[i] == '`':
			n := run(t, i)
			c := closingRun(t, i+n, n)
			if c < 0 {
				i += n // a literal run of backticks
				continue
			}
			b.Spans = append(b.Spans, Span{Start: i, End: c + n, CodeStart: i + n, CodeEnd: c})
			for k := i; k < c+n; k++ {
				m[k] = 0
			}
			i = c + n
		default:
			i++
		}
	}
	b.Masked = string(m)
	return b
}

// isPunct reports whether c is ASCII punctuation, which a backslash escapes.
func isPunct(c byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}
