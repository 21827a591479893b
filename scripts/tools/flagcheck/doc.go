package main

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/greeter-go/greeter/scripts/tools/mdcheck/markdown"
)

// A docCheck checks the flags that one Markdown document mentions.
type docCheck struct {
	file     string
	programs []*program // every program given
	owners   []*program // the programs this is the doc of
	allowed  map[string]bool
	mentions map[string]bool // every --flag it mentions, for rule (a)
	problems []problem
}

// A problem is a flag that a doc shows and should not.
type problem struct {
	line int
	msg  string
}

var (
	// flagToken is a --flag in text: not inside a word ("a--b"), its name
	// ending before any character that cannot be in one; a * after it
	// makes it a pattern (--tls-*).
	flagToken = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])--([A-Za-z0-9][A-Za-z0-9_.-]*)(\*?)`)
	// allowComment lists third-party flags that a doc may show on their
	// own: <!-- flagcheck: allow --enable-feature --read-only -->.
	allowComment = regexp.MustCompile(`<!--\s*flagcheck:\s*allow\s([^>]*?)-->`)
	envAssign    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	longArg      = regexp.MustCompile(`^--([A-Za-z0-9][A-Za-z0-9_.-]*)(\*?)(=.*)?$`)
)

// newDocCheck reads the Markdown document src (named file), the doc of
// owners among programs, and checks every flag it shows that flagcheck
// can attribute (rule (b) of the package comment).
func newDocCheck(file, src string, owners, programs []*program) *docCheck {
	d := &docCheck{file: file, programs: programs, owners: owners, allowed: map[string]bool{}, mentions: map[string]bool{}}
	for _, m := range allowComment.FindAllStringSubmatch(src, -1) {
		for _, f := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' }) {
			d.allowed[strings.TrimPrefix(f, "--")] = true
		}
	}
	for _, b := range markdown.Parse(src) {
		for _, t := range tokens(b.Text) {
			d.mentions[t.name] = true // a pattern's name, such as "tls-", is no flag's
		}
		if b.Kind == markdown.Code {
			for _, seg := range segments(shellWords(b.Text)) {
				d.command(&b, 0, seg, false)
			}
			continue
		}
		for _, s := range b.Spans {
			// A span may cross a line break, which renders as a space.
			code := strings.ReplaceAll(b.Text[s.CodeStart:s.CodeEnd], "\n", " ")
			for _, seg := range segments(shellWords(code)) {
				d.command(&b, s.CodeStart, seg, true)
			}
		}
		for _, t := range tokens(b.Masked) {
			d.loose(b.LineAt(t.off), t)
		}
	}
	slices.SortStableFunc(d.problems, func(a, b problem) int { return cmp.Compare(a.line, b.line) })
	return d
}

// report returns the problems of d, each as FILE:LINE: message.
func (d *docCheck) report() []string {
	var out []string
	for _, p := range d.problems {
		out = append(out, fmt.Sprintf("%s:%d: %s", d.file, p.line, p.msg))
	}
	return out
}

// A token is a --flag found in text.
type token struct {
	name    string // without "--"; for a pattern, the prefix
	pattern bool   // --name* : any flag starting with name
	off     int
}

func (t token) String() string {
	if t.pattern {
		return "--" + t.name + "*"
	}
	return "--" + t.name
}

// tokens returns the --flags of text, a sentence's final "." dropped.
func tokens(text string) []token {
	var out []token
	for _, m := range flagToken.FindAllStringSubmatchIndex(text, -1) {
		t := token{name: text[m[2]:m[3]], pattern: m[5] > m[4], off: m[2] - 2}
		if !t.pattern {
			t.name = strings.TrimRight(t.name, ".-")
		}
		if t.name != "" {
			out = append(out, t)
		}
	}
	return out
}

func (d *docCheck) problem(line int, format string, args ...any) {
	d.problems = append(d.problems, problem{line, fmt.Sprintf(format, args...)})
}

// loose checks a flag shown on its own, in prose or in a code
// span that starts with it: it must be a flag of one of the programs, or
// allowed by a flagcheck comment.
func (d *docCheck) loose(line int, t token) {
	if d.allowed[t.name] {
		return
	}
	for _, p := range d.programs {
		if _, ok := find(p.flags(), t); ok {
			return
		}
	}
	var names []string
	for _, p := range d.programs {
		names = append(names, p.name)
	}
	d.problem(line, "%s is not a flag of %s", t, strings.Join(names, " or "))
}

// find returns the flag of flags that t names.
func find(flags map[string]flagInfo, t token) (flagInfo, bool) {
	if !t.pattern {
		f, ok := flags[t.name]
		return f, ok
	}
	for name, f := range flags {
		if strings.HasPrefix(name, t.name) {
			return f, true
		}
	}
	return flagInfo{}, false
}

// command checks the shell command seg, from a code block (inline false)
// or from a code span starting at offset base of b.Text (inline true).
func (d *docCheck) command(b *markdown.Block, base int, seg []word, inline bool) {
	if p, args := d.program(seg); p != nil {
		d.args(b, base, p, p.root, args)
		return
	}
	if !inline || len(seg) == 0 {
		return // another program's command: its flags are not ours to check
	}
	first := seg[0].text
	if strings.HasPrefix(first, "--") {
		for _, w := range seg {
			for _, t := range tokens(w.text) {
				d.loose(b.LineAt(base+w.off), t)
			}
		}
		return
	}
	// `hello [--name NAME]`: a subcommand of the doc's program, then of any.
	for _, p := range slices.Concat(d.owners, d.programs) {
		if sub := p.root.subs[first]; sub != nil {
			d.args(b, base, p, sub, seg[1:])
			return
		}
	}
}

// wrappers run the command that follows them (and their own options).
var wrappers = map[string]bool{"sudo": true, "env": true, "exec": true, "time": true, "nohup": true, "nice": true, "command": true}

// program returns the program that seg runs and its arguments, or nil:
// seg's command word, after any prompt ($), VAR=value assignments and
// wrappers such as sudo, names one (as a path or a bare name); or seg is
// `go run` of a package whose last element names one; or `docker run`
// (podman, nerdctl) of an image reference whose name is one.
func (d *docCheck) program(seg []word) (*program, []word) {
	i := 0
	for i < len(seg) {
		w := seg[i].text
		if w == "$" || w == "%" || envAssign.MatchString(w) {
			i++
			continue
		}
		if wrappers[w] {
			i++
			for i < len(seg) && strings.HasPrefix(seg[i].text, "-") {
				i++
			}
			continue
		}
		break
	}
	if i == len(seg) {
		return nil, nil
	}
	if p := d.named(path.Base(seg[i].text)); p != nil {
		return p, seg[i+1:]
	}
	switch seg[i].text {
	case "go": // go [-C dir] run [build flags] PACKAGE ARGS
		j := i + 1
		for j < len(seg) && strings.HasPrefix(seg[j].text, "-") {
			if seg[j].text == "-C" {
				j++
			}
			j++
		}
		if j >= len(seg) || seg[j].text != "run" {
			return nil, nil
		}
		for j++; j < len(seg) && strings.HasPrefix(seg[j].text, "-"); j++ {
		}
		if j < len(seg) {
			if p := d.named(path.Base(seg[j].text)); p != nil {
				return p, seg[j+1:]
			}
		}
	case "docker", "podman", "nerdctl":
		if i+1 >= len(seg) || seg[i+1].text != "run" {
			return nil, nil
		}
		// An image reference has a registry or a tag; a bare word may be
		// the value of an option, such as --name greeter-server.
		for j := i + 2; j < len(seg); j++ {
			ref := seg[j].text
			if strings.HasPrefix(ref, "-") || !strings.ContainsAny(ref, "/:") {
				continue
			}
			if p := d.named(imageName(ref)); p != nil {
				return p, seg[j+1:]
			}
		}
	}
	return nil, nil
}

// imageName returns the last path element of an image reference, without
// its tag or digest: localhost/greeter-server:dev is greeter-server.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	ref = path.Base(ref)
	ref, _, _ = strings.Cut(ref, ":")
	return ref
}

func (d *docCheck) named(name string) *program {
	for _, p := range d.programs {
		if p.name == name {
			return p
		}
	}
	return nil
}

// args checks the arguments of command c of program p, as cobra reads
// them: flags may come before or after the subcommand names, which select
// the command whose flags the later ones must be. A placeholder where a
// subcommand may be (<command>, [command], COMMAND) makes every flag of p
// acceptable from there on.
func (d *docCheck) args(b *markdown.Block, base int, p *program, c *command, args []word) {
	anyCommand := false
	canDescend := true
	for k := 0; k < len(args); k++ {
		w := trimWord(args[k].text)
		line := b.LineAt(base + args[k].off)
		switch {
		case w == "--":
			return // the rest are arguments, not flags
		case strings.HasPrefix(w, "--"):
			m := longArg.FindStringSubmatch(w)
			if m == nil {
				continue
			}
			t := token{name: m[1], pattern: m[2] != ""}
			f, ok := d.lookup(p, c, anyCommand, t)
			if !ok {
				d.problem(line, "%s has no flag %s%s", d.scope(p, c, anyCommand), t, d.elsewhere(c, t))
				continue
			}
			if f.value && m[3] == "" && !t.pattern {
				k++
			}
		case len(w) > 1 && w[0] == '-' && isLetter(w[1]):
			// -v, -vn NAME, -nNAME, -n=NAME: bool shorthands, then at most
			// one that takes a value, attached or next.
			for j := 1; j < len(w); j++ {
				s := w[j : j+1]
				f, ok := d.lookupShort(p, c, anyCommand, s)
				if !ok {
					d.problem(line, "%s has no shorthand -%s", d.scope(p, c, anyCommand), s)
					break
				}
				if f.value {
					if j == len(w)-1 {
						k++
					}
					break
				}
				if j+1 < len(w) && w[j+1] == '=' {
					break
				}
			}
		default:
			if canDescend && !anyCommand {
				if sub := c.subs[w]; sub != nil {
					c = sub
					continue
				}
				if len(c.subs) > 0 && placeholder(args[k].text) {
					anyCommand = true
				}
			}
			canDescend = false
		}
	}
}

func (d *docCheck) scope(p *program, c *command, anyCommand bool) string {
	if anyCommand {
		return p.name
	}
	return c.String()
}

func (d *docCheck) lookup(p *program, c *command, anyCommand bool, t token) (flagInfo, bool) {
	if anyCommand {
		return find(p.flags(), t)
	}
	return find(c.flags, t)
}

func (d *docCheck) lookupShort(p *program, c *command, anyCommand bool, s string) (flagInfo, bool) {
	if !anyCommand {
		return c.shorthand(s)
	}
	for _, c := range p.all {
		if f, ok := c.shorthand(s); ok {
			return f, true
		}
	}
	return flagInfo{}, false
}

// elsewhere names the commands, of every program, that define the flag t
// that c lacks, as a hint: " (a flag of greeter-client hello-stream)".
func (d *docCheck) elsewhere(c *command, t token) string {
	var has []string
	for _, p := range d.programs {
		for _, other := range p.all {
			if _, ok := find(other.flags, t); ok && other != c && defines(other, t) {
				has = append(has, other.String())
			}
		}
	}
	if len(has) == 0 {
		return ""
	}
	if len(has) > 3 {
		has = append(has[:3], "...")
	}
	return " (a flag of " + strings.Join(has, ", ") + ")"
}

// defines reports whether t is a flag of c's own "Flags:" section, not one
// that it inherits.
func defines(c *command, t token) bool {
	for _, f := range c.local {
		if _, ok := find(map[string]flagInfo{f.long: f}, t); ok {
			return true
		}
	}
	return false
}

// trimWord removes from w the brackets, quotes and punctuation that a doc
// puts around a shell word: [--name NAME]... is --name and NAME.
func trimWord(w string) string {
	w = strings.TrimLeft(w, "[({<\"'")
	return strings.TrimRight(w, "])}>,.;:\"'")
}

// placeholder reports whether w stands for a command in a usage line:
// <command>, [command], {a|b}, COMMAND.
func placeholder(w string) bool {
	if strings.ContainsAny(w, "<[{") {
		return true
	}
	return w == strings.ToUpper(w) && strings.ToUpper(w) != strings.ToLower(w)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// A word is a word of a shell command, or an operator between commands.
type word struct {
	text string // unquoted
	off  int    // where it starts in the text it was read from
	op   bool   // a control operator: newline ; & && | || ( )
}

// shellWords splits s into words as sh would, far enough to find the
// commands and their flags: quotes, backslashes, line continuations,
// comments, $(...) and `...` (kept whole, inside the word), operators.
func shellWords(s string) []word {
	var words []word
	var cur strings.Builder
	start := -1
	begin := func(i int) {
		if start < 0 {
			start = i
		}
	}
	end := func() {
		if start >= 0 {
			words = append(words, word{text: cur.String(), off: start})
			cur.Reset()
			start = -1
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			if s[i+1] != '\n' {
				begin(i)
				cur.WriteByte(s[i+1])
			}
			i += 2
		case c == ' ' || c == '\t':
			end()
			i++
		case strings.IndexByte("\n;|&()", c) >= 0:
			end()
			n := 1
			if i+1 < len(s) && s[i+1] == c && c != '\n' && c != '(' && c != ')' {
				n = 2
			}
			words = append(words, word{text: s[i : i+n], off: i, op: true})
			i += n
		case c == '#' && start < 0:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\'':
			begin(i)
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			begin(i)
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			i++
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			begin(i)
			j := closeParen(s, i+1)
			cur.WriteString(s[i:j])
			i = j
		case c == '`':
			begin(i)
			j := len(s)
			if k := strings.IndexByte(s[i+1:], '`'); k >= 0 {
				j = i + 1 + k + 1
			}
			cur.WriteString(s[i:j])
			i = j
		case (c == '>' || c == '<') && i+1 < len(s) && s[i+1] == '&':
			begin(i)
			cur.WriteString(s[i : i+2])
			i += 2
		default:
			begin(i)
			cur.WriteByte(c)
			i++
		}
	}
	end()
	return words
}

// closeParen returns the offset after the ")" that closes the "(" at
// s[open], or len(s).
func closeParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// segments splits words into commands at the operators.
func segments(words []word) [][]word {
	var out [][]word
	var cur []word
	for _, w := range words {
		if w.op {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
