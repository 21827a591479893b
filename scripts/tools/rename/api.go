package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// This file renames the API: the proto package of the Greeter API, for a
// copy that has never released it (rename -api NEW_PACKAGE, run by
// scripts/rename.sh --api).

// protoDir is buf.yaml's module: every .proto file lives under it, in the
// directory its package names (buf lint's PACKAGE_DIRECTORY_MATCH).
const protoDir = "proto"

// apiTagPattern matches greeter-api's release tags (scripts/release.sh).
const apiTagPattern = apiDir + "/v*"

// isLayoutRoot reports whether elem is the last element of a directory the
// package's directory is laid out under: proto/ (buf.yaml's module),
// greeter-api/ (buf.gen.yaml's out: the Go import path follows the
// directory) and greeter-server/internal/benchconnect/ (the out of its own
// buf.gen.yaml). A path such as "x/weather/v1" names the package's directory
// only right after one of them (or alone: "weather/v1/weather.proto" is the
// proto file's own name); "acme/weather/v1" is another package's.
func isLayoutRoot(elem string) bool {
	switch elem {
	case protoDir, apiDir, "benchconnect":
		return true
	}
	return false
}

// isGenerated reports whether the file name is written by scripts/generate.sh:
// protoc-gen-go's and protoc-gen-go-grpc's *.pb.go, connect-go's *.connect.go.
// The API rename leaves them to it: a raw descriptor cannot be edited as
// text, and generate.sh deletes them all before it writes them again.
func isGenerated(name string) bool {
	return strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".connect.go")
}

// apiNames are the forms in which the tree names one proto package.
type apiNames struct {
	pkg   string // the proto package: acme.weather.v1
	dir   string // its directory under proto/ and greeter-api/: acme/weather/v1
	goPkg string // the Go package name buf's managed mode gives it: weatherv1
}

// newAPINames returns the names of the versioned proto package pkg. buf's
// managed mode names the Go package after the package's last two elements
// (bufimagemodify's goPackageImportPathForFile), so acme.weather.v1 and
// weather.v1 are both package weatherv1.
func newAPINames(pkg string) apiNames {
	parts := strings.Split(pkg, ".")
	n := apiNames{pkg: pkg, dir: strings.Join(parts, "/")}
	if len(parts) >= 2 {
		n.goPkg = parts[len(parts)-2] + parts[len(parts)-1]
	}
	return n
}

// escaped is pkg as a regular expression matches it literally: acme\.weather\.v1.
func (n apiNames) escaped() string {
	return strings.ReplaceAll(n.pkg, ".", `\.`)
}

var (
	// packageElement is buf lint's PACKAGE_LOWER_SNAKE_CASE for one element.
	packageElement = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// versionElement is a version suffix buf lint's PACKAGE_VERSION_SUFFIX
	// accepts: v1, v2, v1beta1, v1alpha, v1test...
	versionElement = regexp.MustCompile(`^v[1-9][0-9]*((alpha|beta)([1-9][0-9]*)?|test[a-z0-9]*)?$`)
	// protoPackage and protoService find the declarations in a .proto file
	// formatted by buf format.
	protoPackage = regexp.MustCompile(`(?m)^package\s+([A-Za-z0-9_.]+)\s*;`)
	protoService = regexp.MustCompile(`(?m)^service\s+([A-Za-z0-9_]+)\s*\{`)
)

// isVersioned reports whether the proto package pkg ends in a version.
func isVersioned(pkg string) bool {
	i := strings.LastIndexByte(pkg, '.')
	return i > 0 && versionElement.MatchString(pkg[i+1:])
}

// checkNewAPI refuses a NEW_PACKAGE that buf lint would refuse, that lies in
// a namespace others own, that is the current package, or that contains it
// (a later rename could not tell them apart).
func checkNewAPI(old apiNames, pkg string) error {
	if pkg == old.pkg {
		return fmt.Errorf("the proto package is %s already", pkg)
	}
	parts := strings.Split(pkg, ".")
	for _, p := range parts {
		if !packageElement.MatchString(p) {
			return fmt.Errorf("%q is not a proto package name: each dot-separated element is lower_snake_case, like acme.weather.v1", pkg)
		}
	}
	if len(parts) < 2 || !isVersioned(pkg) {
		return fmt.Errorf("%q does not end in a version (v1, v2, v1beta1, ...): an API package names its version, like acme.weather.v1", pkg)
	}
	switch parts[0] {
	case "google":
		return fmt.Errorf("%s: google.* packages are Google's (the well-known types); choose a name of your own", pkg)
	case "grpc":
		return fmt.Errorf("%s: grpc.* packages are gRPC's (health, reflection); choose a name of your own", pkg)
	}
	if _, n := replaceAPI(pkg, old, newAPINames("x.v1")); n > 0 {
		return fmt.Errorf("%s contains the current package %s; choose a name that does not", pkg, old.pkg)
	}
	return nil
}

// isIdent reports whether b can be part of a Go, proto or shell identifier.
func isIdent(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
}

// form is one way of writing a name, with the test that an occurrence of it
// in s, at s[start:end], stands at a boundary and is not part of another name.
type form struct {
	old, new string
	at       func(s string, start, end int) bool
}

// dottedAt: a package name in text ("weather.v1.WeatherService",
// "/weather.v1.WeatherService/Forecast") or a fully-qualified one with a
// leading dot (".weather.v1.ForecastRequest"), but not the end of another
// package ("acme.weather.v1") or a longer name ("weather.v1beta1").
func dottedAt(s string, start, end int) bool {
	if end < len(s) && isIdent(s[end]) {
		return false
	}
	if start == 0 {
		return true
	}
	switch c := s[start-1]; {
	case isIdent(c) || c == '-' || c == '\\':
		return false
	case c == '.':
		return start == 1 || !isIdent(s[start-2])
	}
	return true
}

// escapedAt: a package name in a regular expression ("weather\.v1\.Forecast"),
// not the end of another one ("acme\.weather\.v1").
func escapedAt(s string, start, end int) bool {
	if end < len(s) && isIdent(s[end]) {
		return false
	}
	return start == 0 || !isIdent(s[start-1]) && s[start-1] != '.' && s[start-1] != '-'
}

// dirAt: the package's directory right under a layout root
// ("proto/weather/v1", ".../greeter-api/weather/v1") or alone
// ("weather/v1/weather.proto"), not another package's ("acme/weather/v1")
// or a longer name ("weather/v1beta1").
func dirAt(s string, start, end int) bool {
	if end < len(s) && continuesElement(s[end]) {
		return false
	}
	if start == 0 {
		return true
	}
	c := s[start-1]
	if c != '/' {
		return !continuesElement(c) && c != '.' && c != '\\'
	}
	elem := start - 1
	for elem > 0 && (continuesElement(s[elem-1]) || s[elem-1] == '.') {
		elem--
	}
	return isLayoutRoot(s[elem : start-1])
}

// goNameAt: the Go package name as an identifier ("weatherv1.ForecastRequest",
// "package weatherv1_test") or a file or package named after it
// ("weatherv1.go", connect-go's "weatherv1connect"), not a longer identifier.
func goNameAt(s string, start, end int) bool {
	if start > 0 && (isIdent(s[start-1]) || s[start-1] == '.') {
		return false
	}
	if end < len(s) && isIdent(s[end]) && s[end] != '_' {
		return strings.HasPrefix(s[end:], "connect") && (end+len("connect") == len(s) || !isIdent(s[end+len("connect")]))
	}
	return true
}

// forms returns the ways the tree writes the package old, each to be
// rewritten as new's.
func forms(old, new apiNames) []form {
	list := []form{
		{old.pkg, new.pkg, dottedAt},
		{old.escaped(), new.escaped(), escapedAt},
		{old.dir, new.dir, dirAt},
	}
	if old.goPkg != new.goPkg {
		list = append(list, form{old.goPkg, new.goPkg, goNameAt})
	}
	return list
}

// replaceAPI rewrites every name of the package old in s as new's, in one
// pass, so that no replacement is matched again, and returns how many it
// replaced.
func replaceAPI(s string, old, new apiNames) (string, int) {
	list := forms(old, new)
	var b strings.Builder
	n, last := 0, 0
	for i := 0; i < len(s); {
		start, which := -1, -1
		for k, f := range list {
			if j := nextAt(s, i, f); j >= 0 && (start < 0 || j < start) {
				start, which = j, k
			}
		}
		if start < 0 {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(list[which].new)
		last = start + len(list[which].old)
		i = last
		n++
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// nextAt returns the index of the first occurrence of f.old in s at or after
// i that stands at a boundary, or -1.
func nextAt(s string, i int, f form) int {
	for i <= len(s) {
		j := strings.Index(s[i:], f.old)
		if j < 0 {
			return -1
		}
		start := i + j
		if f.at(s, start, start+len(f.old)) {
			return start
		}
		i = start + 1
	}
	return -1
}

// currentAPI returns the API's proto package: the one package under proto/
// that ends in a version (helloworld, gRPC's canonical example, has none).
func currentAPI(root string) (string, error) {
	pkgs, err := protoPackages(root)
	if err != nil {
		return "", err
	}
	var versioned []string
	for pkg := range pkgs {
		if isVersioned(pkg) {
			versioned = append(versioned, pkg)
		}
	}
	slices.Sort(versioned)
	switch len(versioned) {
	case 0:
		return "", fmt.Errorf("no proto package under %s/ ends in a version", protoDir)
	case 1:
		return versioned[0], nil
	}
	return "", fmt.Errorf("%s/ has several versioned packages (%s): the API has been versioned, which only a released API needs; rename by hand",
		protoDir, strings.Join(versioned, ", "))
}

// protoPackages maps every package declared under root/proto to the names of
// the services it declares.
func protoPackages(root string) (map[string][]string, error) {
	pkgs := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(root, protoDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".proto" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m := protoPackage.FindSubmatch(data)
		if m == nil {
			return nil
		}
		pkg := string(m[1])
		if _, ok := pkgs[pkg]; !ok {
			pkgs[pkg] = nil
		}
		for _, s := range protoService.FindAllSubmatch(data, -1) {
			pkgs[pkg] = append(pkgs[pkg], string(s[1]))
		}
		return nil
	})
	return pkgs, err
}

// apiReleaseTags lists greeter-api's release tags in the git repository at
// root; none if root is not in one.
func apiReleaseTags(root string) ([]string, error) {
	if exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run() != nil {
		return nil, nil
	}
	out, err := exec.Command("git", "-C", root, "tag", "--list", apiTagPattern).Output()
	if err != nil {
		return nil, fmt.Errorf("list the release tags: git tag --list %s: %w", apiTagPattern, err)
	}
	return strings.Fields(string(out)), nil
}

// checkUnreleased refuses to rename the package old when greeter-api has
// release tags: a released greeter-api has clients that call old's services
// by their wire names, and a renamed server would answer them Unimplemented.
func checkUnreleased(root string, old apiNames) error {
	tags, err := apiReleaseTags(root)
	if err != nil || len(tags) == 0 {
		return err
	}
	pkgs, err := protoPackages(root)
	if err != nil {
		return err
	}
	var calls []string
	for _, s := range pkgs[old.pkg] {
		calls = append(calls, "/"+old.pkg+"."+s+"/...")
	}
	return fmt.Errorf("greeter-api has been released (%s): its clients call %s, and a server of the renamed API answers them Unimplemented. "+
		"Renaming a released API breaks every client; keep %s and add the new API beside it: copy %s/%s to %s/NAME/v1 "+
		"with its own package, serve both, and retire %s when its clients are gone",
		strings.Join(tags, ", "), strings.Join(calls, " and "), old.pkg, protoDir, old.dir, protoDir, old.pkg)
}

// apiResult is what renameAPI did.
type apiResult struct {
	changed []string       // files rewritten, at their new place
	count   map[string]int // occurrences replaced per changed file
	moved   map[string]string
	deleted []string // generated files of the old directory, left for scripts/generate.sh
}

// op is renameAPI's plan for one file.
type op struct {
	rel, newRel string
	data        []byte // the new content; nil: the file is moved as it is
	mode        fs.FileMode
	n           int  // occurrences replaced
	delete      bool // generated code in a moved directory
}

// renameAPI renames the proto package old to new under root: it rewrites
// every name of old in text files and moves the files whose path names it
// (proto/weather/v1 -> proto/acme/weather/v1, likewise under greeter-api and
// benchconnect, and weatherv1.go files if the Go package name changes).
// Generated code is not rewritten: scripts/generate.sh writes it anew.
func renameAPI(root string, old apiNames, newPkg string) (*apiResult, error) {
	if err := checkNewAPI(old, newPkg); err != nil {
		return nil, err
	}
	new := newAPINames(newPkg)
	if _, err := os.Stat(filepath.Join(root, protoDir, filepath.FromSlash(new.dir))); err == nil {
		return nil, fmt.Errorf("%s/%s exists already", protoDir, new.dir)
	}
	if err := checkUnreleased(root, old); err != nil {
		return nil, err
	}

	var ops []op
	err := walkFiles(root, func(rel string, data []byte, mode fs.FileMode) error {
		newRel, _ := replaceAPI(rel, old, new)
		o := op{rel: rel, newRel: newRel, mode: mode}
		switch {
		case isGenerated(rel):
			o.delete = newRel != rel
		case !isBinary(data):
			out, n := replaceAPI(string(data), old, new)
			if n > 0 {
				b, err := formatLikeBefore(rel, data, []byte(out))
				if err != nil {
					return err
				}
				o.data, o.n = b, n
			}
		}
		if o.delete || o.data != nil || newRel != rel {
			ops = append(ops, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	leaving := map[string]bool{}
	for _, o := range ops {
		if o.newRel != o.rel {
			leaving[o.rel] = true
		}
	}
	for _, o := range ops {
		if o.delete || o.newRel == o.rel {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(o.newRel))); err == nil && !leaving[o.newRel] {
			return nil, fmt.Errorf("%s would move to %s, which exists already", o.rel, o.newRel)
		}
	}

	r := &apiResult{count: map[string]int{}, moved: map[string]string{}}
	var left []string
	for _, o := range ops {
		from := filepath.Join(root, filepath.FromSlash(o.rel))
		to := filepath.Join(root, filepath.FromSlash(o.newRel))
		switch {
		case o.delete:
			err = os.Remove(from)
			r.deleted = append(r.deleted, o.rel)
		case o.newRel == o.rel:
			err = replaceFile(from, o.data, o.mode)
		default:
			err = moveFile(from, to, o.data, o.mode)
			r.moved[o.rel] = o.newRel
		}
		if err != nil {
			return nil, err
		}
		if o.newRel != o.rel {
			left = append(left, path.Dir(o.rel))
		}
		if o.data != nil {
			r.changed = append(r.changed, o.newRel)
			r.count[o.newRel] = o.n
		}
	}
	return r, removeEmptyDirs(root, left)
}

// formatLikeBefore formats a renamed Go file as gofmt would when it was
// gofmt-clean before: a Go package name of another length changes the
// alignment of the code around it. Other files are returned as they are.
func formatLikeBefore(name string, before, after []byte) ([]byte, error) {
	if !strings.HasSuffix(name, ".go") {
		return after, nil
	}
	if f, err := format.Source(before); err != nil || !bytes.Equal(f, before) {
		return after, nil
	}
	f, err := format.Source(after)
	if err != nil {
		return nil, fmt.Errorf("renamed %s does not format: %w", name, err)
	}
	return f, nil
}

// moveFile moves from to to, with the content data unless data is nil.
func moveFile(from, to string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if data == nil {
		return os.Rename(from, to)
	}
	if err := replaceFile(to, data, mode); err != nil {
		return err
	}
	return os.Remove(from)
}

// removeEmptyDirs removes each of dirs (slash-separated, relative to root)
// and then its parents for as long as they are empty.
func removeEmptyDirs(root string, dirs []string) error {
	for _, d := range dirs {
		for ; d != "." && d != "/"; d = path.Dir(d) {
			p := filepath.Join(root, filepath.FromSlash(d))
			entries, err := os.ReadDir(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if len(entries) > 0 {
				break
			}
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkFiles calls fn for every regular file under root, with its
// slash-separated path relative to root. It skips .git and does not follow
// symbolic links.
func walkFiles(root string, fn func(rel string, data []byte, mode fs.FileMode) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
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
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), data, info.Mode().Perm())
	})
}

// apiLeftovers lists "file:line: text" for every line under root that still
// names the package old, and every file whose path does, now that the
// package is cur. Generated code is checked more strictly, for the plain
// text of old's names once cur's are taken out: in a raw descriptor a name
// may follow a length byte that looks like a letter.
func apiLeftovers(root string, old, cur apiNames) ([]string, error) {
	list := forms(old, cur)
	var left []string
	err := walkFiles(root, func(rel string, data []byte, _ fs.FileMode) error {
		if _, n := replaceAPI(rel, old, cur); n > 0 {
			left = append(left, rel+": the path names "+old.pkg)
		}
		if isBinary(data) {
			return nil
		}
		for i, line := range strings.Split(string(data), "\n") {
			found := false
			if isGenerated(rel) {
				for _, f := range list {
					if strings.Contains(strings.ReplaceAll(line, f.new, ""), f.old) {
						found = true
					}
				}
			} else {
				_, n := replaceAPI(line, old, cur)
				found = n > 0
			}
			if found {
				left = append(left, fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	return left, err
}

func (r *apiResult) print(w io.Writer, old, new string) {
	slices.Sort(r.changed)
	total := 0
	for _, f := range r.changed {
		fmt.Fprintf(w, "  %s (%d)\n", f, r.count[f])
		total += r.count[f]
	}
	fmt.Fprintf(w, "renamed the proto package %s to %s: %d occurrences in %d files\n", old, new, total, len(r.changed))
	moved := make([]string, 0, len(r.moved))
	for from, to := range r.moved {
		moved = append(moved, from+" -> "+to)
	}
	slices.Sort(moved)
	for _, m := range moved {
		fmt.Fprintf(w, "  moved %s\n", m)
	}
	if len(r.deleted) > 0 {
		slices.Sort(r.deleted)
		fmt.Fprintf(w, "deleted the generated code of %s for scripts/generate.sh: %s\n", old, strings.Join(r.deleted, ", "))
	}
}
