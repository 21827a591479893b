package main

import (
	"regexp"
	"strings"

	"github.com/greeter-go/greeter/scripts/tools/mdcheck/markdown"
)

// A document is what mdcheck reads in one Markdown file: the destinations
// it links to, the references it uses without defining them, and the
// anchors other files may link to.
type document struct {
	targets   []target
	undefined []target // Dest is the reference label
	anchors   map[string]bool
}

// A target is a link destination (or a reference label) and where it is.
type target struct {
	Line int
	Kind string // "link", "image", "reference definition", "<a href>", "<img src>"
	Dest string
}

// A link is the syntax of one link or image of a block, as offsets into
// the block's Text: [text](dest "title"), [text][ref], [text][] or [ref].
type link struct {
	open    int // the "[" (an image's "!" is just before)
	image   bool
	textEnd int // the "]" that closes the text
	end     int // after the link
	dest    string
	destOff int
	ref     string // the label of a reference link; "" for an inline link
	defined bool   // ref has a definition
}

var (
	definition  = regexp.MustCompile(`^ {0,3}\[([^\]]+)\]:[ \t]*(?:<([^>\n]*)>|(\S+))`)
	htmlTag     = regexp.MustCompile(`<[A-Za-z/][^>]*>`)
	htmlLinkTag = regexp.MustCompile(`(?is)<(a|img)\b([^>]*)>`)
	htmlAttr    = regexp.MustCompile(`(?is)\b(href|src|id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	escaped     = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")
)

// parseDocument reads the Markdown document src.
func parseDocument(src string) *document {
	d := &document{anchors: map[string]bool{}}
	blocks := markdown.Parse(src)

	// Definitions first: a reference may come before the definition.
	defs := map[string]bool{}
	masked := make([]string, len(blocks))
	for i := range blocks {
		masked[i] = blocks[i].Masked
		if blocks[i].Kind == markdown.Prose {
			masked[i] = d.definitions(&blocks[i], defs)
		}
	}

	slugs := slugger{}
	for i := range blocks {
		b, m := &blocks[i], masked[i]
		if b.Kind == markdown.Code {
			continue
		}
		if b.Kind == markdown.Heading {
			if s := slugs.slug(headingText(b, m, defs)); s != "" {
				d.anchors[s] = true
			}
		}
		for _, l := range findLinks(b.Text, m, 0, len(m), defs) {
			switch {
			case l.ref == "":
				kind := "link"
				if l.image {
					kind = "image"
				}
				d.targets = append(d.targets, target{b.LineAt(l.destOff), kind, l.dest})
			case !l.defined:
				d.undefined = append(d.undefined, target{b.LineAt(l.open), "reference", l.ref})
			}
		}
		d.html(b, m)
	}
	return d
}

// definitions records the reference definitions of prose block b in defs
// and d.targets, and returns b.Masked without them.
func (d *document) definitions(b *markdown.Block, defs map[string]bool) string {
	m := []byte(b.Masked)
	off := 0
	for _, line := range strings.SplitAfter(b.Masked, "\n") {
		if loc := definition.FindStringSubmatchIndex(line); loc != nil {
			defs[normalizeLabel(b.Text[off+loc[2]:off+loc[3]])] = true
			dest := loc[6:8]
			if loc[4] >= 0 {
				dest = loc[4:6]
			}
			d.targets = append(d.targets, target{b.LineAt(off), "reference definition", unescape(b.Text[off+dest[0] : off+dest[1]])})
			for k := off; k < off+len(strings.TrimSuffix(line, "\n")); k++ {
				m[k] = ' '
			}
		}
		off += len(line)
	}
	return string(m)
}

// html records the href and src of the <a> and <img> tags of block b (m
// is its masked text) as targets, and their id and name as anchors.
func (d *document) html(b *markdown.Block, m string) {
	for _, tag := range htmlLinkTag.FindAllStringSubmatchIndex(m, -1) {
		element := strings.ToLower(m[tag[2]:tag[3]])
		for _, a := range htmlAttr.FindAllStringSubmatchIndex(m[tag[4]:tag[5]], -1) {
			name := strings.ToLower(m[tag[4]+a[2] : tag[4]+a[3]])
			var value string
			var at int
			for g := 4; g < 10; g += 2 {
				if a[g] >= 0 {
					at = tag[4] + a[g]
					value = b.Text[at : tag[4]+a[g+1]]
				}
			}
			switch {
			case element == "a" && (name == "id" || name == "name"):
				d.anchors[value] = true
			case element == "a" && name == "href":
				d.targets = append(d.targets, target{b.LineAt(at), "<a href>", value})
			case element == "img" && name == "src":
				d.targets = append(d.targets, target{b.LineAt(at), "<img src>", value})
			}
		}
	}
}

// findLinks returns the links and images of text t (m is its masked text)
// between offsets from and to, each followed by those of its text. defs
// holds the normalized labels of the document's reference definitions: a
// shortcut reference [ref] is a link only when ref is defined, while
// [text][ref] and [text][] are links to report when it is not.
func findLinks(t, m string, from, to int, defs map[string]bool) []link {
	var out []link
	for i := from; i < to; i++ {
		if m[i] != '[' {
			continue
		}
		c := closeBracket(m, i, to)
		if c < 0 {
			continue
		}
		l := link{open: i, image: i > 0 && m[i-1] == '!', textEnd: c}
		switch {
		case c+1 < to && m[c+1] == '(' && inlineDest(t, m, c+1, to, &l):
		case c+1 < to && m[c+1] == '[' && fullReference(t, m, c+1, to, &l, defs):
		case defs[normalizeLabel(t[i+1:c])]:
			l.ref, l.defined, l.end = t[i+1:c], true, c+1
		default:
			continue // literal brackets: look inside them
		}
		out = append(out, l)
		out = append(out, findLinks(t, m, i+1, c, defs)...)
		i = l.end - 1
	}
	return out
}

// closeBracket returns the offset of the "]" that closes the "[" at m[open],
// before to, or -1.
func closeBracket(m string, open, to int) int {
	depth := 0
	for i := open; i < to; i++ {
		switch m[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// inlineDest parses the "(dest "title")" of an inline link at m[p] and sets
// l's destination and end; it reports whether there is one.
func inlineDest(t, m string, p, to int, l *link) bool {
	j := skipSpace(m, p+1, to)
	var start, end int
	if j < to && m[j] == '<' {
		k := strings.IndexAny(m[j+1:to], ">\n")
		if k < 0 || m[j+1+k] != '>' {
			return false
		}
		start, end = j+1, j+1+k
		j = end + 1
	} else {
		start = j
		depth := 0
	dest:
		for ; j < to; j++ {
			switch m[j] {
			case ' ', '\t', '\n':
				break dest
			case '(':
				depth++
			case ')':
				if depth == 0 {
					break dest
				}
				depth--
			}
		}
		end = j
	}
	j = skipSpace(m, j, to)
	if j < to && j > end && strings.IndexByte(`"'(`, m[j]) >= 0 {
		closer := m[j]
		if closer == '(' {
			closer = ')'
		}
		k := strings.IndexByte(m[j+1:to], closer)
		if k < 0 {
			return false
		}
		j = skipSpace(m, j+1+k+1, to)
	}
	if j >= to || m[j] != ')' {
		return false
	}
	l.dest, l.destOff, l.end = unescape(t[start:end]), start, j+1
	return true
}

// fullReference parses the "[ref]" or "[]" of a reference link at m[p] and
// sets l's reference and end; it reports whether there is one.
func fullReference(t, m string, p, to int, l *link, defs map[string]bool) bool {
	k := strings.IndexAny(m[p+1:to], "[]")
	if k < 0 || m[p+1+k] != ']' {
		return false
	}
	label := t[p+1 : p+1+k]
	if strings.TrimSpace(label) == "" {
		label = t[l.open+1 : l.textEnd] // collapsed: [text][]
	}
	l.ref, l.defined, l.end = label, defs[normalizeLabel(label)], p+1+k+1
	return true
}

func skipSpace(m string, j, to int) int {
	for j < to && (m[j] == ' ' || m[j] == '\t' || m[j] == '\n') {
		j++
	}
	return j
}

// normalizeLabel returns the form of a reference label that matches: case
// folded, white space collapsed.
func normalizeLabel(label string) string {
	return strings.ToLower(strings.Join(strings.Fields(label), " "))
}

// unescape removes the backslashes of backslash escapes from s.
func unescape(s string) string {
	return escaped.ReplaceAllString(s, "$1")
}
