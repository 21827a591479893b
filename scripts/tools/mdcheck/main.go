// Command mdcheck checks the relative links of a repository's Markdown
// files: that each one's target exists and that each #anchor names a
// heading (or an <a id> or <a name>) of its target. scripts/check-docs.sh
// runs it.
//
// Usage:
//
//	mdcheck [-root DIR]
//
// It reads every *.md file of DIR that git tracks or would track (git
// ls-files --cached --others --exclude-standard), or, outside a git work
// tree, every one found by walking DIR; files under a testdata or
// node_modules directory are left out. It checks inline links and images
// ([text](path), [text](path#anchor), [text](#anchor), ![alt](path)),
// reference links ([text][ref], [text][], [ref]) and their definitions
// ([ref]: path), and the href and src of <a> and <img> tags. A destination
// with a scheme (https:, mailto:, ...) or starting with // is not checked;
// one starting with / is relative to DIR, as on GitHub. Code blocks, code
// spans and HTML comments are not read.
//
// A path must name a file or directory that exists inside DIR. An anchor
// must be the GitHub slug of a heading of the target: its rendered text
// lower-cased, with letters, digits, "_", "-" and spaces kept and every
// other character dropped, spaces then hyphens; the second heading with the
// same slug gets "-1", the third "-2". An anchor into a directory is read
// in its README.md; one into a file that is not Markdown is not checked
// (GitHub's #L10 line anchors, for instance). [text][ref] and [text][]
// must use a defined reference; a bare [ref] is a link only when defined.
//
// It prints each broken link as FILE:LINE: message and exits 1 if there
// is any, 2 on a usage or read error.
//
// Markdown is read by a small hand parser (package markdown, shared with
// flagcheck) rather than goldmark: mdcheck needs the line of every link,
// its undefined references and its definitions as written, which a
// renderer's tree does not keep (goldmark gives inline nodes no position
// and resolves references away), and the subset it needs is small and
// tested here.
package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs mdcheck with the command-line arguments args and returns its
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("mdcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	root := flags.String("root", ".", "the repository whose Markdown files to check")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: mdcheck [-root DIR]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 0 {
		flags.Usage()
		return 2
	}
	files, err := markdownFiles(*root)
	if err != nil {
		fmt.Fprintln(stderr, "mdcheck:", err)
		return 2
	}
	problems, err := newChecker(*root).check(files)
	if err != nil {
		fmt.Fprintln(stderr, "mdcheck:", err)
		return 2
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "mdcheck: %d broken links in %d Markdown files\n", len(problems), len(files))
		return 1
	}
	return 0
}

// markdownFiles returns the slash-separated paths, relative to root and
// sorted, of the Markdown files of root to check.
func markdownFiles(root string) ([]string, error) {
	var all []string
	if inWorkTree(root) {
		out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
		if err != nil {
			return nil, fmt.Errorf("git ls-files in %s: %w", root, err)
		}
		for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			// A file deleted from the work tree is still in the index.
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(name))); err == nil {
				all = append(all, name)
			}
		}
	} else {
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && e.Name() == ".git" {
				return filepath.SkipDir
			}
			if !e.IsDir() {
				rel, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				all = append(all, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var files []string
	for _, name := range all {
		if isMarkdown(name) && !skipped(name) {
			files = append(files, name)
		}
	}
	slices.Sort(files)
	return files, nil
}

// inWorkTree reports whether dir is inside a git work tree (and git runs).
func inWorkTree(dir string) bool {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	return err == nil && bytes.Equal(bytes.TrimSpace(out), []byte("true"))
}

// skipped reports whether the file name is under a directory whose
// Markdown is not documentation: test fixtures and installed packages.
func skipped(name string) bool {
	for _, dir := range strings.Split(path.Dir(name), "/") {
		if dir == "testdata" || dir == "node_modules" || dir == ".git" {
			return true
		}
	}
	return false
}

func isMarkdown(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".md" || ext == ".markdown"
}

// A checker checks the links of the Markdown files of one repository,
// reading each target document once.
type checker struct {
	root string
	docs map[string]*document // by slash path relative to root
}

func newChecker(root string) *checker {
	return &checker{root: root, docs: map[string]*document{}}
}

// A problem is a broken link of a file.
type problem struct {
	file string
	line int
	msg  string
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.msg) }

// check returns the broken links of files (slash paths relative to c.root),
// by file and line.
func (c *checker) check(files []string) ([]problem, error) {
	var problems []problem
	for _, file := range files {
		d, err := c.document(file)
		if err != nil {
			return nil, err
		}
		for _, t := range d.targets {
			msg, err := c.resolve(file, t)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				problems = append(problems, problem{file, t.Line, msg})
			}
		}
		for _, u := range d.undefined {
			problems = append(problems, problem{file, u.Line, fmt.Sprintf("reference [%s] is not defined", u.Dest)})
		}
	}
	slices.SortStableFunc(problems, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line))
	})
	return problems, nil
}

// document returns the parsed Markdown file name.
func (c *checker) document(name string) (*document, error) {
	if d, ok := c.docs[name]; ok {
		return d, nil
	}
	src, err := os.ReadFile(c.path(name))
	if err != nil {
		return nil, err
	}
	d := parseDocument(string(src))
	c.docs[name] = d
	return d, nil
}

func (c *checker) path(name string) string {
	return filepath.Join(c.root, filepath.FromSlash(name))
}

var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// resolve returns what is wrong with link t of file, or "".
func (c *checker) resolve(file string, t target) (string, error) {
	dest := strings.TrimSpace(t.Dest)
	if dest == "" {
		return fmt.Sprintf("%s has an empty target", t.Kind), nil
	}
	if scheme.MatchString(dest) || strings.HasPrefix(dest, "//") {
		return "", nil
	}
	p, frag, hasFrag := strings.Cut(dest, "#")
	p, _, _ = strings.Cut(p, "?")
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	var name string
	switch {
	case p == "":
		name = file
	case strings.HasPrefix(p, "/"):
		name = path.Clean(p[1:])
	default:
		name = path.Join(path.Dir(file), p)
	}
	if name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Sprintf("%s target %s is outside the repository", t.Kind, dest), nil
	}
	info, err := os.Stat(c.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		msg := fmt.Sprintf("%s target %s does not exist", t.Kind, dest)
		if name != strings.TrimPrefix(p, "./") {
			msg += " (" + name + " in the repository)"
		}
		return msg, nil
	}
	if err != nil {
		return "", err
	}
	if !hasFrag || frag == "" {
		return "", nil
	}
	if u, err := url.PathUnescape(frag); err == nil {
		frag = u
	}
	if info.IsDir() {
		if name, err = readme(c.path(name), name); name == "" || err != nil {
			return "", err
		}
	}
	if !isMarkdown(name) {
		return "", nil
	}
	d, err := c.document(name)
	if err != nil {
		return "", err
	}
	if !d.anchors[frag] {
		return fmt.Sprintf("%s target %s: %s has no heading, <a id> or <a name> with anchor #%s", t.Kind, dest, name, frag), nil
	}
	return "", nil
}

// readme returns the slash path of the README.md that GitHub shows for the
// directory name (at dir on disk), or "" if it has none.
func readme(dir, name string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), "README.md") {
			return path.Join(name, e.Name()), nil
		}
	}
	return "", nil
}
