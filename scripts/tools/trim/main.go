// Command trim removes optional parts of this repository: it is what
// scripts/trim.sh runs (see there for the whole procedure and why it works
// this way).
//
// Usage:
//
//	trim -root DIR -list                 print each part and what it removes
//	trim -root DIR -names                print the parts' names, one a line
//	trim -root DIR -check                check the manifest and every marker
//	trim -root DIR -list-deleted PART... print every file the parts delete
//	trim -root DIR PART...               remove the parts
//	trim -root DIR -manifest FILE -left PART...
//	                                     list what still betrays the parts
//
// The parts are defined in one manifest, scripts/trim.parts (see there for
// its format): for each part, the files and directories that belong to it
// alone, which are deleted, the lines of shared files that cannot carry a
// marker, which are deleted, and the strings whose presence anywhere in the
// tree betrays it, which -left looks for. -left takes the manifest from
// before the trim (-manifest), since trimming a part removes its section.
//
// What a part shares with the rest is marked in the shared files
// themselves, by a comment at the end of a line, in the file's own comment
// syntax (//, # or <!-- -->). A line ending in the marker "trim:NAME"
// (NAME being the part) is deleted; a line holding only the marker
// "trim:NAME begin", the line holding only "trim:NAME end", and every line
// between them are deleted. Blocks of different parts may nest.
//
// After that, a Go file that changed loses the imports only the deleted
// lines used, and is formatted like gofmt; one left with nothing but its
// package clause (no declarations, no package doc) is deleted. Markers in
// this directory's own files are never acted on: its tests are full of them.
// Nor are those in patch files (*.patch), whose lines start with a diff's +,
// - or space: trim.sh makes such a patch again from a trimmed tree it was
// applied to.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// manifestPath is where the parts are defined, relative to the root.
const manifestPath = "scripts/trim.parts"

// selfDir is this program's directory, relative to the root: its tests'
// markers are examples, not marks.
const selfDir = "scripts/tools/trim"

func main() {
	root := flag.String("root", ".", "the repository to trim")
	list := flag.Bool("list", false, "print each part and what it removes")
	names := flag.Bool("names", false, "print the parts' names, one a line")
	check := flag.Bool("check", false, "check the manifest and every marker; exit 1 on a problem")
	listDeleted := flag.Bool("list-deleted", false, "print every file the named parts delete")
	left := flag.Bool("left", false, "list what still betrays the named parts; exit 1 if anything does")
	manifest := flag.String("manifest", "", "the manifest to read (default: ROOT/"+manifestPath+")")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: trim [-root DIR] -list | -names | -check | -list-deleted PART... | PART... | [-manifest FILE] -left PART...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *manifest == "" {
		*manifest = filepath.Join(*root, manifestPath)
	}
	m, err := readManifest(*manifest)
	exitIf(err)

	switch {
	case *list:
		m.print(os.Stdout)
	case *names:
		for _, p := range m.parts {
			fmt.Println(p.name)
		}
	case *check:
		problems, err := checkTree(*root, m)
		exitIf(err)
		for _, p := range problems {
			fmt.Println(p)
		}
		if len(problems) > 0 {
			os.Exit(1)
		}
	case *listDeleted:
		parts, err := m.lookup(flag.Args())
		exitIf(err)
		files, err := deletedFiles(*root, parts)
		exitIf(err)
		for _, f := range files {
			fmt.Println(f)
		}
	case *left:
		parts, err := m.lookup(flag.Args())
		exitIf(err)
		found, err := leftovers(*root, m, parts)
		exitIf(err)
		for _, l := range found {
			fmt.Println(l)
		}
		if len(found) > 0 {
			os.Exit(1)
		}
	default:
		if flag.NArg() == 0 {
			flag.Usage()
			os.Exit(2)
		}
		parts, err := m.lookup(flag.Args())
		exitIf(err)
		r, err := trimTree(*root, m, parts)
		exitIf(err)
		r.print(os.Stdout)
	}
}

func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "trim:", err)
		os.Exit(1)
	}
}

// A part is one optional part of the repository, as the manifest defines it.
type part struct {
	name string
	// about says what the part is and what removing it removes.
	about []string
	// paths are the files and directories that belong to the part alone.
	paths []string
	// traces are strings that betray the part wherever they are left.
	traces []string
	// lines are the lines of shared files that belong to the part but
	// cannot carry a marker.
	lines []listedLine
	// first and end are the manifest's lines of the part's section:
	// [first, end).
	first, end int
}

// A listedLine is a line of a shared file that belongs to a part but cannot
// carry a marker: a line of JSON, of a YAML block scalar or of a Markdown
// code block. The line goes when its text, without the white space around
// it, is text.
type listedLine struct {
	file, text string
}

// A manifest is scripts/trim.parts, parsed.
type manifest struct {
	// keep are the patterns of files that may name a part that is gone
	// (see matchKeep): they are not searched by -left.
	keep  []string
	parts []*part
	// lines is the text, one element per line, for removing sections.
	lines []string
}

// partName is what a part may be called.
var partName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// parseManifest reads the manifest's lines: "keep PATTERN" lines before the
// first part, then for each part a "part NAME" line followed by its
// "about TEXT", "trace STRING", "delete PATH" and "line PATH TEXT" lines.
// Blank lines and
// lines starting with # are comments; the comments right before a part's
// line belong to that part's section.
func parseManifest(name string, data []byte) (*manifest, error) {
	m := &manifest{lines: strings.SplitAfter(string(data), "\n")}
	if m.lines[len(m.lines)-1] == "" {
		m.lines = m.lines[:len(m.lines)-1]
	}
	var cur *part
	sectionStart := -1 // the first comment line of the next section
	for i, line := range m.lines {
		text := strings.TrimSpace(line)
		if text == "" || strings.HasPrefix(text, "#") {
			if sectionStart < 0 && text != "" {
				sectionStart = i
			}
			if text == "" {
				sectionStart = -1
			}
			continue
		}
		keyword, value, _ := strings.Cut(text, " ")
		value = strings.TrimSpace(value)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
		}
		if value == "" {
			return nil, bad("%q needs a value", keyword)
		}
		switch keyword {
		case "part":
			if !partName.MatchString(value) {
				return nil, bad("part name %q: want lower-case letters, digits and -", value)
			}
			if m.part(value) != nil {
				return nil, bad("part %s is defined twice", value)
			}
			first := i
			if sectionStart >= 0 {
				first = sectionStart
			}
			if cur != nil {
				cur.end = first
			}
			cur = &part{name: value, first: first}
			m.parts = append(m.parts, cur)
		case "keep":
			if cur != nil {
				return nil, bad("keep lines come before the first part")
			}
			if _, err := path.Match(value, ""); err != nil {
				return nil, bad("keep %s: %v", value, err)
			}
			m.keep = append(m.keep, value)
		case "about", "trace", "delete", "line":
			if cur == nil {
				return nil, bad("%s before the first part line", keyword)
			}
			switch keyword {
			case "about":
				cur.about = append(cur.about, value)
			case "trace":
				cur.traces = append(cur.traces, value)
			case "delete":
				p := path.Clean(strings.TrimSuffix(value, "/"))
				if path.IsAbs(p) || p == "." || p == ".." || strings.HasPrefix(p, "../") {
					return nil, bad("delete %s: want a path inside the repository", value)
				}
				cur.paths = append(cur.paths, p)
			case "line":
				file, text, _ := strings.Cut(value, " ")
				if text = strings.TrimSpace(text); text == "" {
					return nil, bad("line %s: want a path and the text of the line", value)
				}
				cur.lines = append(cur.lines, listedLine{file, text})
			}
		default:
			return nil, bad("unknown keyword %q: want keep, part, about, trace, delete or line", keyword)
		}
		sectionStart = -1
	}
	if cur != nil {
		cur.end = len(m.lines)
	}
	for _, p := range m.parts {
		if len(p.about) == 0 || len(p.traces) == 0 {
			return nil, fmt.Errorf("%s: part %s needs an about line and at least one trace line", name, p.name)
		}
	}
	return m, nil
}

func readManifest(name string) (*manifest, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseManifest(name, data)
}

func (m *manifest) part(name string) *part {
	for _, p := range m.parts {
		if p.name == name {
			return p
		}
	}
	return nil
}

// lookup returns the named parts, each once, or an error naming those the
// manifest does not define.
func (m *manifest) lookup(names []string) ([]*part, error) {
	var parts []*part
	var unknown []string
	for _, name := range names {
		p := m.part(name)
		switch {
		case p == nil:
			unknown = append(unknown, name)
		case !slices.Contains(parts, p):
			parts = append(parts, p)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no part named %s; the parts are: %s", strings.Join(unknown, ", "), strings.Join(m.names(), ", "))
	}
	return parts, nil
}

func (m *manifest) names() []string {
	var names []string
	for _, p := range m.parts {
		names = append(names, p.name)
	}
	if len(names) == 0 {
		return []string{"(none left)"}
	}
	return names
}

// print lists the parts and what each removes, for the usage text.
func (m *manifest) print(w io.Writer) {
	if len(m.parts) == 0 {
		fmt.Fprintln(w, "  (none left: every part has been trimmed)")
	}
	for _, p := range m.parts {
		fmt.Fprintf(w, "  %s\n", p.name)
		for _, a := range p.about {
			fmt.Fprintf(w, "      %s\n", a)
		}
	}
}

// without returns the manifest's text without the sections of parts.
func (m *manifest) without(parts []*part) []byte {
	var b bytes.Buffer
	for i, line := range m.lines {
		if !slices.ContainsFunc(parts, func(p *part) bool { return i >= p.first && i < p.end }) {
			b.WriteString(line)
		}
	}
	return collapseBlankLines(b.Bytes())
}

// matchKeep reports whether file (slash-separated, relative to the root)
// matches one of the keep patterns: a pattern that ends in a slash matches
// every file under that directory, another with a slash matches the whole
// path, one without matches the file's name (path.Match syntax).
func (m *manifest) matchKeep(file string) bool {
	for _, pattern := range m.keep {
		if dir, ok := strings.CutSuffix(pattern, "/"); ok {
			if strings.HasPrefix(file, dir+"/") {
				return true
			}
			continue
		}
		target := file
		if !strings.Contains(pattern, "/") {
			target = path.Base(file)
		}
		if ok, _ := path.Match(pattern, target); ok {
			return true
		}
	}
	return false
}

// A marker is a trim comment at the end of a line.
type marker struct {
	part string
	// kind is "" (delete this line), "begin" or "end".
	kind string
	// alone is true when the line holds nothing but the comment.
	alone bool
}

// markerRE matches a trim marker: a //, # or <!-- comment that ends the
// line and holds only "trim:NAME", optionally followed by begin or end.
var markerRE = regexp.MustCompile(`(?:^|\s)(?://|#|<!--)\s*trim:([a-z][a-z0-9-]*)(?:\s+(begin|end))?\s*(-->)?\s*$`)

// markerPrefix finds lines that look like they mean to be a marker, so that
// a misspelt one is reported rather than silently kept.
var markerPrefix = regexp.MustCompile(`(?://|#|<!--)\s*trim:[a-z]`)

// parseMarker returns the marker line ends with, if any, and whether the
// line looks like a marker that does not parse.
func parseMarker(line string) (mk marker, ok, malformed bool) {
	line = strings.TrimRight(line, "\r\n")
	loc := markerRE.FindStringSubmatchIndex(line)
	if loc == nil {
		return marker{}, false, markerPrefix.MatchString(line)
	}
	open := line[loc[0]:loc[1]]
	html := strings.Contains(open, "<!--")
	closed := loc[6] >= 0
	if html != closed {
		return marker{}, false, true
	}
	mk.part = line[loc[2]:loc[3]]
	if loc[4] >= 0 {
		mk.kind = line[loc[4]:loc[5]]
	}
	mk.alone = strings.TrimSpace(line[:loc[0]]) == ""
	return mk, true, false
}

// markedLines returns, for each line of text, whether a marker of one of
// parts deletes it. It fails on a malformed marker, a begin or end marker
// that shares its line with anything else, and unbalanced blocks; known,
// if not nil, is every part a marker may name.
func markedLines(lines []string, parts []string, known func(string) bool) ([]bool, error) {
	del := make([]bool, len(lines))
	var open []string // the parts of the blocks around the current line
	var openAt []int
	for i, line := range lines {
		mk, ok, malformed := parseMarker(line)
		if malformed {
			return nil, fmt.Errorf("line %d: a trim marker must end its line as \"trim:NAME\", \"trim:NAME begin\" or \"trim:NAME end\" in a //, # or <!-- --> comment: %s", i+1, strings.TrimSpace(line))
		}
		if ok && known != nil && !known(mk.part) {
			return nil, fmt.Errorf("line %d: a marker of %s, which is no part (see %s)", i+1, mk.part, manifestPath)
		}
		if ok && mk.kind != "" && !mk.alone {
			return nil, fmt.Errorf("line %d: a %s marker must be alone on its line", i+1, mk.kind)
		}
		inBlock := slices.ContainsFunc(open, func(p string) bool { return slices.Contains(parts, p) })
		switch {
		case ok && mk.kind == "begin":
			if slices.Contains(open, mk.part) {
				return nil, fmt.Errorf("line %d: trim:%s begin inside a block of %s opened on line %d", i+1, mk.part, mk.part, openAt[slices.Index(open, mk.part)]+1)
			}
			open = append(open, mk.part)
			openAt = append(openAt, i)
			del[i] = inBlock || slices.Contains(parts, mk.part)
		case ok && mk.kind == "end":
			if len(open) == 0 || open[len(open)-1] != mk.part {
				want := "no block is open"
				if len(open) > 0 {
					want = fmt.Sprintf("the innermost open block is of %s, opened on line %d", open[len(open)-1], openAt[len(openAt)-1]+1)
				}
				return nil, fmt.Errorf("line %d: trim:%s end, but %s", i+1, mk.part, want)
			}
			del[i] = inBlock
			open, openAt = open[:len(open)-1], openAt[:len(openAt)-1]
		case ok:
			del[i] = inBlock || slices.Contains(parts, mk.part)
		default:
			del[i] = inBlock
		}
	}
	if len(open) > 0 {
		return nil, fmt.Errorf("line %d: trim:%s begin has no end", openAt[len(openAt)-1]+1, open[len(open)-1])
	}
	return del, nil
}

// removeMarked returns text without the lines that markers of parts delete,
// and whether any were. Where a deleted run of lines had a blank line on
// each side, one of them goes too.
func removeMarked(text []byte, parts []string, known func(string) bool) ([]byte, bool, error) {
	out, changed, _, err := removeLines(text, parts, known, nil)
	return out, changed, err
}

// removeLines is removeMarked that also deletes every line whose text,
// without the white space around it, is one of listed; found tells which
// of listed matched a line.
func removeLines(text []byte, parts []string, known func(string) bool, listed []string) (out []byte, changed bool, found []bool, err error) {
	lines := strings.SplitAfter(string(text), "\n")
	del, err := markedLines(lines, parts, known)
	if err != nil {
		return nil, false, nil, err
	}
	found = make([]bool, len(listed))
	for i, line := range lines {
		if j := slices.Index(listed, strings.TrimSpace(line)); j >= 0 {
			del[i], found[j] = true, true
		}
	}
	if !slices.Contains(del, true) {
		return text, false, found, nil
	}
	// Where a deleted run of lines had a blank line (or the file's start)
	// on each side, drop the one after it; at the file's end, the one
	// before it.
	keep := make([]bool, len(lines))
	for i := range lines {
		keep[i] = !del[i]
	}
	blank := func(i int) bool { return i < 0 || strings.TrimSpace(lines[i]) == "" }
	for i := 0; i < len(lines); {
		if !del[i] {
			i++
			continue
		}
		j := i
		for j < len(lines) && del[j] {
			j++
		}
		atEnd := j == len(lines) || j == len(lines)-1 && lines[j] == ""
		switch {
		case atEnd && i > 0 && blank(i-1):
			keep[i-1] = false
		case !atEnd && blank(i-1) && blank(j):
			keep[j] = false
		}
		i = j
	}
	var b bytes.Buffer
	for i, line := range lines {
		if keep[i] {
			b.WriteString(line)
		}
	}
	return b.Bytes(), true, found, nil
}

// collapseBlankLines turns runs of blank lines into one.
func collapseBlankLines(text []byte) []byte {
	var b bytes.Buffer
	prevBlank := false
	for _, line := range strings.SplitAfter(string(text), "\n") {
		isBlank := strings.TrimSpace(line) == "" && line != ""
		if isBlank && prevBlank {
			continue
		}
		prevBlank = isBlank
		b.WriteString(line)
	}
	return b.Bytes()
}

// pruneImports removes from after, the new text of a Go file, each import
// whose package before (the old text) used and after no longer does, then
// formats it like gofmt. An import whose name is not used in before either
// (such as one used only under a name its path does not suggest) is kept:
// if it is unused, the compiler says so.
func pruneImports(name string, before, after []byte) ([]byte, error) {
	fset := token.NewFileSet()
	old, err := parser.ParseFile(fset, name, before, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("before trimming: %w", err)
	}
	f, err := parser.ParseFile(fset, name, after, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("after trimming: %w", err)
	}
	usedBefore, usedAfter := selectorNames(old), selectorNames(f)
	lines := strings.SplitAfter(string(after), "\n")
	del := make([]bool, len(lines))
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		kept := 0
		for _, spec := range gen.Specs {
			imp := spec.(*ast.ImportSpec)
			pkg := importName(imp)
			if pkg == "_" || pkg == "." || !usedBefore[pkg] || usedAfter[pkg] {
				kept++
				continue
			}
			start, end := imp.Pos(), imp.End()
			if imp.Doc != nil {
				start = imp.Doc.Pos()
			}
			if imp.Comment != nil {
				end = imp.Comment.End()
			}
			for l := fset.Position(start).Line; l <= fset.Position(end).Line; l++ {
				del[l-1] = true
			}
		}
		if kept == 0 {
			// No import left: the declaration goes, parentheses and all.
			start := gen.Pos()
			if gen.Doc != nil {
				start = gen.Doc.Pos()
			}
			for l := fset.Position(start).Line; l <= fset.Position(gen.End()).Line; l++ {
				del[l-1] = true
			}
		}
	}
	var b bytes.Buffer
	for i, line := range lines {
		if !del[i] {
			b.WriteString(line)
		}
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("after trimming: %w", err)
	}
	return out, nil
}

// emptyGoFile reports whether src, a Go file, holds nothing but its package
// clause: no declaration and no package doc comment.
func emptyGoFile(src []byte) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ParseComments|parser.SkipObjectResolution)
	return err == nil && len(f.Decls) == 0 && f.Doc == nil
}

// selectorNames returns the names X of every X.Sel in f, which include the
// names of the packages f uses.
func selectorNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				names[id.Name] = true
			}
		}
		return true
	})
	return names
}

// importName is the name imp's package is used by in its file: its
// explicit name, or else the name its path suggests, as goimports assumes
// it: the last element that is not a major version ("v2"), without a "go-"
// prefix, up to its first character that cannot be in an identifier.
func importName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	p, _ := strconv.Unquote(imp.Path.Value)
	base := path.Base(p)
	if strings.HasPrefix(base, "v") {
		if _, err := strconv.Atoi(base[1:]); err == nil && path.Dir(p) != "." {
			base = path.Base(path.Dir(p))
		}
	}
	base = strings.TrimPrefix(base, "go-")
	if i := strings.IndexFunc(base, func(r rune) bool {
		return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}); i >= 0 {
		base = base[:i]
	}
	return base
}

// textFiles calls fn with the slash-separated path, relative to root, and
// the contents of every text file under root that may hold markers: not
// those in .git and in this program's directory, and no patch files. A file
// with a NUL byte or that is not UTF-8 is not text.
func textFiles(root string, fn func(rel string, data []byte) error) error {
	return walkFiles(root, func(rel string, data []byte) error {
		if strings.HasSuffix(rel, ".patch") || bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
			return nil
		}
		return fn(rel, data)
	})
}

// walkFiles calls fn for every regular file under root but those in .git
// and in this program's directory, in lexical order.
func walkFiles(root string, fn func(rel string, data []byte) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || rel == selfDir {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(rel, data)
	})
}

// A result is what trimTree did.
type result struct {
	parts   []string
	deleted []string
	edited  []string
}

func (r *result) print(w io.Writer) {
	for _, d := range r.deleted {
		fmt.Fprintf(w, "deleted %s\n", d)
	}
	for _, e := range r.edited {
		fmt.Fprintf(w, "edited  %s\n", e)
	}
	fmt.Fprintf(w, "trimmed %s\n", strings.Join(r.parts, ", "))
}

// trimTree removes parts from the tree at root: it deletes their paths,
// then the lines their markers mark in every text file, prunes and formats
// the Go files that changed, and removes their sections from the manifest.
// It checks everything first, so that a stale manifest or a broken marker
// leaves the tree as it was.
func trimTree(root string, m *manifest, parts []*part) (*result, error) {
	r := &result{}
	var names []string
	for _, p := range parts {
		names = append(names, p.name)
		r.parts = append(r.parts, p.name)
		for _, rel := range p.paths {
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				return nil, fmt.Errorf("%s, a path of part %s in %s: %w", rel, p.name, manifestPath, err)
			}
		}
	}
	deleted := func(rel string) bool {
		for _, p := range parts {
			for _, d := range p.paths {
				if rel == d || strings.HasPrefix(rel, d+"/") {
					return true
				}
			}
		}
		return false
	}
	known := func(name string) bool { return m.part(name) != nil }
	listed := map[string][]string{} // by file
	found := map[listedLine]bool{}
	for _, p := range parts {
		for _, l := range p.lines {
			listed[l.file] = append(listed[l.file], l.text)
		}
	}
	type edit struct {
		rel       string
		mode      fs.FileMode
		data, new []byte
		empty     bool // a Go file left with nothing in it: deleted
	}
	var edits []edit
	err := textFiles(root, func(rel string, data []byte) error {
		if deleted(rel) || rel == manifestPath {
			return nil
		}
		out, changed, ok, err := removeLines(data, names, known, listed[rel])
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for i, text := range listed[rel] {
			found[listedLine{rel, text}] = ok[i]
		}
		if !changed {
			return nil
		}
		empty := false
		if strings.HasSuffix(rel, ".go") {
			if out, err = pruneImports(rel, data, out); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			empty = emptyGoFile(out)
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		edits = append(edits, edit{rel, info.Mode().Perm(), data, out, empty})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		for _, l := range p.lines {
			if !found[l] {
				return nil, fmt.Errorf("%s: no line %q, a line of part %s in %s", l.file, l.text, p.name, manifestPath)
			}
		}
	}

	for _, p := range parts {
		for _, rel := range p.paths {
			if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				return nil, err
			}
			r.deleted = append(r.deleted, rel)
			if err := removeEmptyParents(root, path.Dir(rel)); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range edits {
		full := filepath.Join(root, filepath.FromSlash(e.rel))
		if e.empty {
			if err := os.Remove(full); err != nil {
				return nil, err
			}
			r.deleted = append(r.deleted, e.rel)
			continue
		}
		if err := os.WriteFile(full, e.new, e.mode); err != nil {
			return nil, err
		}
		r.edited = append(r.edited, e.rel)
	}
	if err := os.WriteFile(filepath.Join(root, manifestPath), m.without(parts), 0o644); err != nil {
		return nil, err
	}
	r.edited = append(r.edited, manifestPath)
	sort.Strings(r.deleted)
	sort.Strings(r.edited)
	return r, nil
}

// removeEmptyParents removes dir and its parents below root while they are
// empty.
func removeEmptyParents(root, dir string) error {
	for dir != "." && dir != "/" {
		full := filepath.Join(root, filepath.FromSlash(dir))
		entries, err := os.ReadDir(full)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				dir = path.Dir(dir)
				continue
			}
			return err
		}
		if len(entries) > 0 {
			return nil
		}
		if err := os.Remove(full); err != nil {
			return err
		}
		dir = path.Dir(dir)
	}
	return nil
}

// deletedFiles returns every file under the paths of parts, relative to
// root.
func deletedFiles(root string, parts []*part) ([]string, error) {
	var files []string
	for _, p := range parts {
		for _, rel := range p.paths {
			full := filepath.Join(root, filepath.FromSlash(rel))
			err := filepath.WalkDir(full, func(name string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				r, err := filepath.Rel(root, name)
				files = append(files, filepath.ToSlash(r))
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// checkTree returns what is wrong with the manifest and the markers: a
// path of a part that does not exist, a path in two parts, a marker that
// does not parse, names no part, or opens a block that never ends.
func checkTree(root string, m *manifest) ([]string, error) {
	var problems []string
	owner := map[string]string{}
	for _, p := range m.parts {
		for _, rel := range p.paths {
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				problems = append(problems, fmt.Sprintf("%s: part %s deletes %s, which does not exist", manifestPath, p.name, rel))
			}
			if o, ok := owner[rel]; ok {
				problems = append(problems, fmt.Sprintf("%s: %s belongs to two parts, %s and %s", manifestPath, rel, o, p.name))
			}
			owner[rel] = p.name
		}
	}
	known := func(name string) bool { return m.part(name) != nil }
	err := textFiles(root, func(rel string, data []byte) error {
		if _, err := markedLines(strings.SplitAfter(string(data), "\n"), nil, known); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
		}
		return nil
	})
	for _, p := range m.parts {
		for _, l := range p.lines {
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(l.file)))
			if err != nil || !slices.ContainsFunc(strings.Split(string(data), "\n"), func(line string) bool { return strings.TrimSpace(line) == l.text }) {
				problems = append(problems, fmt.Sprintf("%s: part %s lists the line %q of %s, which has no such line", manifestPath, p.name, l.text, l.file))
			}
		}
	}
	return problems, err
}

// leftovers returns "FILE:LINE: TEXT" for every line under root that holds
// one of the traces of parts, but in files the manifest keeps. Files that
// are not text are searched too, and reported by name.
func leftovers(root string, m *manifest, parts []*part) ([]string, error) {
	var found []string
	err := walkFiles(root, func(rel string, data []byte) error {
		if rel == manifestPath || m.matchKeep(rel) {
			return nil
		}
		binary := bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data)
		for n, line := range strings.Split(string(data), "\n") {
			p, t, ok := firstTrace(parts, line)
			if !ok {
				continue
			}
			if binary {
				found = append(found, fmt.Sprintf("%s: a binary file that holds %q (%s)", rel, t, p))
				return nil
			}
			found = append(found, fmt.Sprintf("%s:%d: %s [%q, %s]", rel, n+1, strings.TrimSpace(line), t, p))
		}
		return nil
	})
	return found, err
}

// firstTrace returns the first trace of parts that line holds, and its
// part's name.
func firstTrace(parts []*part, line string) (name, trace string, ok bool) {
	for _, p := range parts {
		for _, t := range p.traces {
			if strings.Contains(line, t) {
				return p.name, t, true
			}
		}
	}
	return "", "", false
}
