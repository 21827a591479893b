package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The paths of these tests are made up, and deliberately unlike this
// repository's own: renaming the repository rewrites this file too, and must
// leave these tests as they are.
const (
	oldPath   = "old.example/tmpl/greeter"
	newPath   = "new.example/team/hello"
	thirdPath = "third.example/x/greeter"
)

func TestReplacePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{oldPath, newPath},
		{oldPath + "/greeter-api", newPath + "/greeter-api"},
		{`"` + oldPath + `/greeter-api/hello/v1"`, `"` + newPath + `/greeter-api/hello/v1"`},
		{"go get " + oldPath + "/greeter-api@latest", "go get " + newPath + "/greeter-api@latest"},
		{"https://" + oldPath + ".", "https://" + newPath + "."},
		{"-X " + oldPath + "/greeter-server/internal/version.stamped=v1", "-X " + newPath + "/greeter-server/internal/version.stamped=v1"},
		{"a " + oldPath + " b " + oldPath + "\n", "a " + newPath + " b " + newPath + "\n"},
		// Not at a boundary: a longer element, a longer host, another path.
		{oldPath + "x/greeter-api", oldPath + "x/greeter-api"},
		{oldPath + "-fork", oldPath + "-fork"},
		{oldPath + "_v2", oldPath + "_v2"},
		{"www." + oldPath, "www." + oldPath},
		{"x" + oldPath, "x" + oldPath},
		{"old.example/tmpl/greet", "old.example/tmpl/greet"},
		{"old.example/tmpl", "old.example/tmpl"},
		// The second occurrence matches even though the first does not.
		{oldPath + "x " + oldPath + "/a", oldPath + "x " + newPath + "/a"},
		{"", ""},
	} {
		if got, _ := replacePath(tc.in, oldPath, newPath); got != tc.want {
			t.Errorf("replacePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckNewPath(t *testing.T) {
	for _, bad := range []string{
		oldPath,                             // the same
		oldPath + "/v2",                     // contains the current path
		"mirror/" + oldPath,                 // contains it too
		"",                                  // empty
		"example.com/a b",                   // a space
		"example.com/acme/",                 // trailing slash
		"/example.com/acme",                 // leading slash
		"example.com/../x",                  // dot-dot
		"example.com/ACME\\",                // backslash
		"example.com/acme/tmpl/greeter-api", // a module path, not the prefix
	} {
		if err := checkNewPath(oldPath, bad); err == nil {
			t.Errorf("checkNewPath(%q) accepted it", bad)
		}
	}
	for _, good := range []string{newPath, "example.com/acme/tmpl", "github.com/acme/tmpl", "gitlab.example/a/b/c", "old.example/tmpl"} {
		if err := checkNewPath(oldPath, good); err != nil {
			t.Errorf("checkNewPath(%q) = %v", good, err)
		}
	}
}

func TestDropSumLines(t *testing.T) {
	in := "golang.org/x/mod v0.1.0 h1:a=\n" +
		oldPath + "/greeter-api v0.1.0 h1:b=\n" +
		oldPath + "/greeter-api v0.1.0/go.mod h1:c=\n" +
		oldPath + "x/other v0.1.0 h1:d=\n"
	want := "golang.org/x/mod v0.1.0 h1:a=\n" + oldPath + "x/other v0.1.0 h1:d=\n"
	got, n := dropSumLines(in, oldPath)
	if got != want || n != 2 {
		t.Errorf("dropSumLines = %q, %d; want %q, 2", got, n, want)
	}
}

// writeTree writes files (slash-separated names) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tree is a small repository in the shape of this one, under prefix p.
func tree(p string) map[string]string {
	return map[string]string{
		"greeter-api/go.mod": "module " + p + "/greeter-api\n\ngo 1.26.0\n\nrequire google.golang.org/grpc v1.80.0\n",
		// Blocks sorted as go mod tidy sorts them, whatever p is: the old
		// prefix sorts after nz.example, the new one before it.
		"greeter-server/go.mod": "// The server.\nmodule " + p + "/greeter-server\n\ngo 1.26.0\n\n" +
			"require (\n" + sortedLines(p+"/greeter-api v0.1.0", "nz.example/grpc v1.80.0") + ")\n\n" +
			"require (\n" + sortedLines("golang.org/x/net v0.1.0 // indirect", "nz.example/sys v0.1.0 // indirect") + ")\n",
		"scripts/tools/go.mod": "module " + p + "/scripts/tools\n\ngo 1.26.0\n\n" +
			"tool (\n" + sortedLines(p+"/scripts/tools/release", "nz.example/buf/cmd/buf", "golang.org/x/perf/cmd/benchstat") + ")\n\n" +
			"require nz.example/buf v1.0.0\n",
		"greeter-server/go.sum": "google.golang.org/grpc v1.80.0 h1:x=\n" + p + "/greeter-api v0.1.0 h1:y=\n",
		"go.work": "go 1.26.0\n\nuse (\n\t./greeter-api\n\t./greeter-server\n)\n\n" +
			"replace " + p + "/greeter-api v0.1.0 => ./greeter-api\n",
		"buf.gen.yaml": "managed:\n  override:\n    - file_option: go_package_prefix\n      value: " + p + "/greeter-api\n",
		// The new prefix sorts before nz.example, the old one after it.
		"greeter-server/main.go": "package main\n\nimport (\n\t\"nz.example/grpc\"\n\t\"" + p + "/greeter-api/hello/v1\"\n)\n\n" +
			"const apiModule = \"" + p + "/greeter-api\"\n\nvar _ = hellov1.X\nvar _ = grpc.Y\n",
		"greeter-api/hello/v1/hello.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\n" +
			"const rawDesc = \"Z4" + p + "/greeter-api/hello/v1\"\n",
		// Not gofmt-clean on purpose: only the path changes.
		"greeter-server/testdata/odd.go": "package  odd\nimport \"" + p + "/greeter-api\"\n",
		"scripts/image.sh":               "#!/bin/sh\ngo build -ldflags \"-X " + p + "/greeter-server/internal/version.stamped=v1\"\n",
		"greeter-server/Containerfile":   "LABEL org.opencontainers.image.source=\"https://" + p + "\"\n",
		"README.md":                      "go get " + p + "/greeter-api@latest; not " + p + "x/y\n",
		"unrelated.txt":                  "nothing here\n",
		"proto/hello/v1/hello.proto":     "syntax = \"proto3\";\npackage hello.v1;\nservice HelloService {}\n",
		"binary.bin":                     "\x00" + p,
	}
}

// sortedLines returns lines sorted, each indented and ended as in a go.mod block.
func sortedLines(lines ...string) string {
	slices.Sort(lines)
	return "\t" + strings.Join(lines, "\n\t") + "\n"
}

func TestRenameTree(t *testing.T) {
	root := writeTree(t, tree(oldPath))
	cur, err := currentPath(root)
	if err != nil || cur != oldPath {
		t.Fatalf("currentPath = %q, %v; want %q", cur, err, oldPath)
	}
	// A script that is running while it is renamed (scripts/rename.sh
	// itself) must go on reading its old text: the file is replaced, not
	// rewritten in place.
	running, err := os.Open(filepath.Join(root, "scripts/image.sh"))
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	r, err := renameTree(root, oldPath, newPath)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(running); err != nil || string(b) != tree(oldPath)["scripts/image.sh"] {
		t.Errorf("a script open during the rename read %q, %v; want its old text", b, err)
	}
	want := tree(newPath)
	// Not rewritten: generated code (scripts/generate.sh regenerates it),
	// binaries, and files without the path; go.sum loses the old lines.
	for _, name := range []string{"greeter-api/hello/v1/hello.pb.go", "binary.bin", "unrelated.txt", "proto/hello/v1/hello.proto"} {
		want[name] = tree(oldPath)[name]
	}
	want["greeter-server/go.sum"] = "google.golang.org/grpc v1.80.0 h1:x=\n"
	// Formatted like gofmt: the new prefix now sorts before nz.example.
	want["greeter-server/main.go"] = "package main\n\nimport (\n\t\"" + newPath + "/greeter-api/hello/v1\"\n\t\"nz.example/grpc\"\n)\n\n" +
		"const apiModule = \"" + newPath + "/greeter-api\"\n\nvar _ = hellov1.X\nvar _ = grpc.Y\n"
	want["README.md"] = "go get " + newPath + "/greeter-api@latest; not " + oldPath + "x/y\n"
	for name, content := range want {
		if got := readFile(t, root, name); got != content {
			t.Errorf("%s after the rename:\n%s\nwant:\n%s", name, got, content)
		}
	}
	if len(r.changed) != 10 {
		t.Errorf("changed %d files, want 10: %v", len(r.changed), r.changed)
	}
	if len(r.generated) != 1 || len(r.sums) != 1 || len(r.urls) != 1 {
		t.Errorf("generated %v, sums %v, urls %v; want one each", r.generated, r.sums, r.urls)
	}
	if info, err := os.Stat(filepath.Join(root, "scripts/image.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("scripts/image.sh lost its mode: %v %v", info.Mode(), err)
	}

	// What still mentions the old path is the generated code and README's
	// look-alike (not at a boundary, so not listed).
	left, err := leftovers(root, oldPath)
	if err != nil || len(left) != 1 || !strings.HasPrefix(left[0], "greeter-api/hello/v1/hello.pb.go:2:") {
		t.Errorf("leftovers = %q, %v; want the .pb.go line only", left, err)
	}

	// A renamed tree can be renamed again, and says what it is now.
	if _, err := renameTree(root, newPath, newPath); err == nil {
		t.Error("renaming to the current path succeeded")
	}
	cur, err = currentPath(root)
	if err != nil || cur != newPath {
		t.Fatalf("currentPath after the rename = %q, %v; want %q", cur, err, newPath)
	}
	if _, err := renameTree(root, newPath, thirdPath); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, root, "go.work"), tree(thirdPath)["go.work"]; got != want {
		t.Errorf("go.work after a second rename:\n%s\nwant:\n%s", got, want)
	}
	if left, _ := leftovers(root, newPath); len(left) != 0 {
		t.Errorf("after the second rename, still mentions %s: %q", newPath, left)
	}
}

func TestCurrentPathMajorVersion(t *testing.T) {
	root := writeTree(t, map[string]string{"greeter-api/go.mod": "module " + oldPath + "/greeter-api/v2\n"})
	if got, err := currentPath(root); err != nil || got != oldPath {
		t.Errorf("currentPath = %q, %v; want %q", got, err, oldPath)
	}
	root = writeTree(t, map[string]string{"greeter-api/go.mod": "module " + oldPath + "/api\n"})
	if _, err := currentPath(root); err == nil {
		t.Error("currentPath accepted a greeter-api/go.mod whose path does not end in /greeter-api")
	}
}

func TestRenameRefusesBrokenGoMod(t *testing.T) {
	// rewriteFile proves that a go.mod still parses after the rename.
	_, _, err := rewriteFile("go.mod", []byte("module "+oldPath+"/a\n\nrequire "+oldPath+"/b v1.0.0\n"), oldPath, newPath)
	if err != nil {
		t.Fatalf("a plain go.mod: %v", err)
	}
	_, _, err = rewriteFile("x/go.mod", []byte("module "+oldPath+"/a\nrequire (\n"), oldPath, newPath)
	if err == nil {
		t.Error("a go.mod that does not parse after the rename was accepted")
	}
}
