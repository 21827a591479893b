// Command rename makes a copy of this repository its team's own: it is what
// scripts/rename.sh runs (see there for the whole procedure). It gives every
// module a new module path prefix, or, for a copy that has never released
// its API, moves the API's proto package to a new name.
//
// Usage:
//
//	rename -root DIR NEW_PATH            rewrite the module path prefix
//	rename -root DIR -current            print the current prefix
//	rename -root DIR -check OLD          list what still mentions OLD; exit 1 if anything
//	rename -root DIR -api NEW_PACKAGE    rename the API's proto package
//	rename -root DIR -api-current        print the current package
//	rename -root DIR -api-check OLD      list what still names the package OLD; exit 1 if anything
//
// The current prefix is read from greeter-api/go.mod (its module path
// without "/greeter-api" and any "/vN" suffix), so a renamed repository can
// be renamed again. Every text file under DIR (not .git, not binary files)
// that mentions the current prefix as a whole path is rewritten: go.mod and
// go.work (then parsed with golang.org/x/mod/modfile to prove they still are
// valid, and go.mod's blocks sorted as go mod tidy sorts them), Go source
// (then formatted like gofmt, since a new prefix can change the order of
// imports), buf.gen.yaml, scripts, docs, Containerfile labels. The prefix
// matches only at path boundaries: "github.com/o/r" matches in
// "github.com/o/r/greeter-api" and "https://github.com/o/r", not in
// "github.com/o/rx" or "github.com/o/r-x".
//
// Two kinds of file are not rewritten as text:
//   - *.pb.go: protoc-gen-go embeds the go_package option in a length-prefixed
//     raw descriptor, which a textual edit would corrupt. They are left as
//     they are for scripts/generate.sh to regenerate.
//   - go.sum, go.work.sum: a checksum covers the module path, so a renamed
//     line would carry a wrong hash. Lines of the old modules are dropped;
//     scripts/tidy.sh writes them again.
//
// The API's proto package is the one package under proto/ whose name ends in
// a version. -api rewrites every name of it, in every text file: the package
// (in .proto files, method names such as /PKG.GreeterService/SayHello,
// authorization policies, docs; also escaped as in a regular expression),
// its directory under proto/, greeter-api/ and benchconnect/ (and so its Go
// import path), and, when the new package's last two elements differ, the Go
// package name buf gives it (weatherv1 -> forecastv1, weatherv1connect,
// weatherv1.go). It moves the files of the old directory to the new one.
// Generated code (*.pb.go, *.connect.go) is left for scripts/generate.sh: in
// moved directories it is deleted. It refuses when greeter-api has release
// tags (greeter-api/v*): released clients call the old names.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// apiDir is the module whose path names the repository's prefix.
const apiDir = "greeter-api"

func main() {
	root := flag.String("root", ".", "the repository to rename")
	current := flag.Bool("current", false, "print the current module path prefix and exit")
	check := flag.String("check", "", "list files that still mention this path; exit 1 if any")
	api := flag.String("api", "", "rename the API's proto package to this one")
	apiCurrent := flag.Bool("api-current", false, "print the API's current proto package and exit")
	apiCheck := flag.String("api-check", "", "list files that still name this proto package; exit 1 if any")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: rename [-root DIR] NEW_PATH | -current | -check OLD_PATH | -api NEW_PACKAGE | -api-current | -api-check OLD_PACKAGE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if (*api != "" || *apiCurrent || *apiCheck != "") && flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	switch {
	case *current:
		old, err := currentPath(*root)
		exitIf(err)
		fmt.Println(old)
	case *check != "":
		left, err := leftovers(*root, *check)
		exitIf(err)
		printLeftovers(left)
	case *apiCurrent:
		old, err := currentAPI(*root)
		exitIf(err)
		fmt.Println(old)
	case *apiCheck != "":
		cur, err := currentAPI(*root)
		exitIf(err)
		left, err := apiLeftovers(*root, newAPINames(*apiCheck), newAPINames(cur))
		exitIf(err)
		printLeftovers(left)
	case *api != "":
		old, err := currentAPI(*root)
		exitIf(err)
		r, err := renameAPI(*root, newAPINames(old), *api)
		exitIf(err)
		r.print(os.Stdout, old, *api)
	default:
		if flag.NArg() != 1 {
			flag.Usage()
			os.Exit(2)
		}
		old, err := currentPath(*root)
		exitIf(err)
		r, err := renameTree(*root, old, flag.Arg(0))
		exitIf(err)
		r.print(os.Stdout, old, flag.Arg(0))
	}
}

// printLeftovers prints what still names the old name, one per line, and
// exits 1 if there is anything.
func printLeftovers(left []string) {
	for _, l := range left {
		fmt.Println(l)
	}
	if len(left) > 0 {
		os.Exit(1)
	}
}

func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "rename:", err)
		os.Exit(1)
	}
}

// currentPath returns the module path prefix of the repository at root:
// greeter-api's module path without its "/vN" suffix and "/greeter-api".
func currentPath(root string) (string, error) {
	name := filepath.Join(root, apiDir, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return "", err
	}
	if f.Module == nil {
		return "", fmt.Errorf("%s has no module line", name)
	}
	p := f.Module.Mod.Path
	if prefix, _, ok := module.SplitPathVersion(p); ok {
		p = prefix
	}
	prefix, ok := strings.CutSuffix(p, "/"+apiDir)
	if !ok || prefix == "" {
		return "", fmt.Errorf("%s: module path %q does not end in /%s", name, f.Module.Mod.Path, apiDir)
	}
	return prefix, nil
}

// checkNewPath refuses a NEW_PATH that is not a valid module path prefix, is
// the current one, or contains it (a later rename could not tell them apart).
func checkNewPath(old, new string) error {
	if new == old {
		return fmt.Errorf("the module path is %s already", old)
	}
	for _, p := range []string{new, new + "/" + apiDir} {
		if err := module.CheckPath(p); err != nil {
			return fmt.Errorf("%q is not a valid module path prefix: %w", new, err)
		}
	}
	if strings.HasSuffix(new, "/"+apiDir) {
		return fmt.Errorf("%s is a module path; give the prefix the modules go under (without /%s)", new, apiDir)
	}
	if _, n := replacePath(new, old, "x"); n > 0 {
		return fmt.Errorf("%s contains the current path %s; choose a path that does not", new, old)
	}
	return nil
}

// continuesElement reports whether b, found right after a match, continues
// its last path element (so the match is only part of a longer name).
func continuesElement(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '-' || b == '_' || b == '~'
}

// replacePath replaces every occurrence of the path old in s that stands at
// path boundaries with new: not preceded by a character of a host name or
// path element (so "x.github.com/o/r" does not match) and not followed by one
// that continues the last element (so "github.com/o/rx" does not match). A
// following "/", "@", quote, space, "." or end of text all end the path.
func replacePath(s, old, new string) (string, int) {
	var b strings.Builder
	n, last := 0, 0
	for i := 0; ; {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(old)
		before := start > 0 && (continuesElement(s[start-1]) || s[start-1] == '.')
		after := end < len(s) && continuesElement(s[end])
		if before || after {
			i = start + 1
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(new)
		last, i = end, end
		n++
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// underPath reports whether the module path p is old or lies below it.
func underPath(p, old string) bool {
	return p == old || strings.HasPrefix(p, old+"/")
}

// dropSumLines removes the go.sum lines of modules under old.
func dropSumLines(s, old string) (string, int) {
	lines := strings.SplitAfter(s, "\n")
	kept, n := lines[:0], 0
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && underPath(f[0], old) {
			n++
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, ""), n
}

// isBinary reports whether data looks like something other than text.
func isBinary(data []byte) bool {
	head := data[:min(len(data), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(data)
}

// result is what renameTree did.
type result struct {
	changed   []string       // files rewritten, slash-separated, relative to root
	count     map[string]int // occurrences replaced per changed file
	generated []string       // *.pb.go files that mention the old path, left for scripts/generate.sh
	sums      []string       // go.sum files whose old-path lines were dropped
	urls      []string       // "file:line: text" of lines where the new path follows "://"
}

// rewriteFile returns the new content of the file name (slash-separated,
// relative to the root) for the rename from old to new, and how many
// occurrences it replaced.
func rewriteFile(name string, data []byte, old, new string) ([]byte, int, error) {
	out, n := replacePath(string(data), old, new)
	if n == 0 {
		return data, 0, nil
	}
	b := []byte(out)
	switch base := filepath.Base(name); {
	case base == "go.mod":
		f, err := modfile.Parse(name, b, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("renamed %s does not parse: %w", name, err)
		}
		if err := checkModPaths(name, old, modPaths(f)); err != nil {
			return nil, 0, err
		}
		// go mod tidy keeps every require and tool block sorted by path,
		// and the new prefix sorts elsewhere among them than the old one
		// did: sort them as tidy does, so scripts/tidy.sh --check passes.
		f.SortBlocks()
		if b, err = f.Format(); err != nil {
			return nil, 0, fmt.Errorf("renamed %s does not format: %w", name, err)
		}
	case base == "go.work":
		f, err := modfile.ParseWork(name, b, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("renamed %s does not parse: %w", name, err)
		}
		var paths []string
		for _, r := range f.Replace {
			paths = append(paths, r.Old.Path, r.New.Path)
		}
		if err := checkModPaths(name, old, paths); err != nil {
			return nil, 0, err
		}
	case strings.HasSuffix(base, ".go"):
		// A new prefix can sort differently from the imports around it;
		// format the file as gofmt would, so `gofmt -l` stays quiet. A file
		// that was not gofmt-clean before (a test input, say) is left as
		// it was apart from the path.
		if before, err := format.Source(data); err == nil && bytes.Equal(before, data) {
			formatted, err := format.Source(b)
			if err != nil {
				return nil, 0, fmt.Errorf("renamed %s does not format: %w", name, err)
			}
			b = formatted
		}
	}
	return b, n, nil
}

func modPaths(f *modfile.File) []string {
	var paths []string
	if f.Module != nil {
		paths = append(paths, f.Module.Mod.Path)
	}
	for _, r := range f.Require {
		paths = append(paths, r.Mod.Path)
	}
	for _, r := range f.Replace {
		paths = append(paths, r.Old.Path, r.New.Path)
	}
	for _, e := range f.Exclude {
		paths = append(paths, e.Mod.Path)
	}
	return paths
}

func checkModPaths(name, old string, paths []string) error {
	for _, p := range paths {
		if underPath(p, old) {
			return fmt.Errorf("renamed %s still names %s", name, p)
		}
	}
	return nil
}

// renameTree rewrites every text file under root from old to new.
func renameTree(root, old, new string) (*result, error) {
	if err := checkNewPath(old, new); err != nil {
		return nil, err
	}
	r := &result{count: map[string]int{}}
	err := walkText(root, func(rel string, data []byte, mode fs.FileMode) error {
		base := filepath.Base(rel)
		switch {
		case strings.HasSuffix(base, ".pb.go"):
			// Plain containment: in a raw descriptor the path may follow
			// a length byte that looks like a letter or digit.
			if strings.Contains(string(data), old) {
				r.generated = append(r.generated, rel)
			}
			return nil
		case base == "go.sum" || base == "go.work.sum":
			out, n := dropSumLines(string(data), old)
			if n == 0 {
				return nil
			}
			r.sums = append(r.sums, rel)
			return replaceFile(filepath.Join(root, rel), []byte(out), mode)
		}
		out, n, err := rewriteFile(rel, data, old, new)
		if err != nil || n == 0 {
			return err
		}
		r.changed = append(r.changed, rel)
		r.count[rel] = n
		for i, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "://"+new) {
				r.urls = append(r.urls, fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return replaceFile(filepath.Join(root, rel), out, mode)
	})
	return r, err
}

// replaceFile gives the file name the content data and the permissions mode
// by writing a new file and renaming it over the old one, never by rewriting
// the old one in place: bash reads a script while it runs it, and the script
// running the rename (scripts/rename.sh) is one of the files it rewrites.
func replaceFile(name string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".rename-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// walkText calls fn for every regular text file under root, with its
// slash-separated path relative to root. It skips .git and binary files and
// does not follow symbolic links.
func walkText(root string, fn func(rel string, data []byte, mode fs.FileMode) error) error {
	return walkFiles(root, func(rel string, data []byte, mode fs.FileMode) error {
		if isBinary(data) {
			return nil
		}
		return fn(rel, data, mode)
	})
}

// leftovers lists "file:line: text" for every line under root that still
// mentions old at path boundaries.
func leftovers(root, old string) ([]string, error) {
	if old == "" {
		return nil, errors.New("empty path")
	}
	var left []string
	err := walkText(root, func(rel string, data []byte, _ fs.FileMode) error {
		generated := strings.HasSuffix(rel, ".pb.go")
		for i, line := range strings.Split(string(data), "\n") {
			// In generated code's raw descriptors the path may follow a
			// length byte that looks like a letter or digit.
			if _, n := replacePath(line, old, ""); n > 0 || generated && strings.Contains(line, old) {
				left = append(left, fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	return left, err
}

func (r *result) print(w *os.File, old, new string) {
	sort.Strings(r.changed)
	total := 0
	for _, f := range r.changed {
		fmt.Fprintf(w, "  %s (%d)\n", f, r.count[f])
		total += r.count[f]
	}
	fmt.Fprintf(w, "renamed %s to %s: %d occurrences in %d files\n", old, new, total, len(r.changed))
	if len(r.generated) > 0 {
		fmt.Fprintf(w, "left for scripts/generate.sh (generated code embeds the path in a raw descriptor): %s\n",
			strings.Join(r.generated, ", "))
	}
	if len(r.sums) > 0 {
		fmt.Fprintf(w, "dropped the checksums of the old modules from %s; run scripts/tidy.sh\n", strings.Join(r.sums, ", "))
	}
	if len(r.urls) > 0 && !strings.HasPrefix(new, "github.com/") {
		fmt.Fprintf(w, "these URLs now point at https://%s; check that it is where the source lives:\n", new)
		for _, u := range r.urls {
			fmt.Fprintf(w, "  %s\n", u)
		}
	}
}
