package main

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/greeter-go/greeter/scripts/tools/mdcheck/markdown"
)

var entity = regexp.MustCompile(`^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// slug returns the anchor GitHub gives a heading whose rendered text is
// text (github-slugger's rule): lower case; letters, marks, digits,
// connector punctuation such as "_", hyphens and spaces kept, everything
// else dropped; each space then a hyphen.
func slug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A slugger gives the headings of one document their anchors, as GitHub
// does: the second heading with slug s gets s-1, the third s-2, skipping
// any that an earlier heading already has.
type slugger map[string]int

func (s slugger) slug(text string) string {
	base := slug(text)
	if base == "" {
		return ""
	}
	id := base
	for {
		if _, taken := s[id]; !taken {
			break
		}
		s[base]++
		id = base + "-" + strconv.Itoa(s[base])
	}
	s[id] = 0
	return id
}

// headingText returns the text of heading b as GitHub renders it, which
// its anchor is made from: code spans become their content, links and
// images their text, HTML tags nothing, entities and backslash escapes the
// character they stand for; emphasis underscores go (the other emphasis
// markers are punctuation, which slug drops anyway). m is b.Masked without
// reference definitions; defs the document's reference labels.
//
// Emphasis is approximated: an underscore run that is neither inside a
// word (snake_case) nor between spaces is taken as emphasis.
func headingText(b *markdown.Block, m string, defs map[string]bool) string {
	t := b.Text
	drop := make([]bool, len(t))
	for _, l := range findLinks(t, m, 0, len(t), defs) {
		if l.ref != "" && !l.defined {
			continue // GitHub shows an undefined reference as it is
		}
		if l.image {
			drop[l.open-1] = true
		}
		drop[l.open] = true
		for k := l.textEnd; k < l.end; k++ {
			drop[k] = true
		}
	}
	for _, loc := range htmlTag.FindAllStringIndex(m, -1) {
		for k := loc[0]; k < loc[1]; k++ {
			drop[k] = true
		}
	}

	type char struct {
		r       rune
		literal bool // from code or an escape: never emphasis
	}
	var cs []char
	spans := b.Spans
	for i := 0; i < len(t); {
		switch {
		case len(spans) > 0 && spans[0].Start == i:
			for _, r := range spans[0].Code(t) {
				cs = append(cs, char{r, true})
			}
			i = spans[0].End
			spans = spans[1:]
		case drop[i]:
			i++
		case t[i] == '\\' && m[i] == 0:
			cs = append(cs, char{rune(t[i+1]), true})
			i += 2
		case t[i] == '&' && entity.MatchString(t[i:]):
			n := len(entity.FindString(t[i:]))
			for _, r := range html.UnescapeString(t[i : i+n]) {
				cs = append(cs, char{r, true})
			}
			i += n
		default:
			r, n := utf8.DecodeRuneInString(t[i:])
			cs = append(cs, char{r, false})
			i += n
		}
	}

	var out strings.Builder
	for i := 0; i < len(cs); {
		if cs[i].r != '_' || cs[i].literal {
			out.WriteRune(cs[i].r)
			i++
			continue
		}
		j := i
		for j < len(cs) && cs[j].r == '_' && !cs[j].literal {
			j++
		}
		before, after := ' ', ' '
		if i > 0 {
			before = cs[i-1].r
		}
		if j < len(cs) {
			after = cs[j].r
		}
		inWord := isWordChar(before) && isWordChar(after)
		alone := unicode.IsSpace(before) && unicode.IsSpace(after)
		if inWord || alone {
			out.WriteString(strings.Repeat("_", j-i))
		}
		i = j
	}
	return strings.TrimSpace(out.String())
}

func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
