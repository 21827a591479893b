package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The parts of these tests (demo, extra, other) are made up: no part of the
// repository may be named in this directory, whose files trim never reads
// for markers.

func TestParseMarker(t *testing.T) {
	for _, tc := range []struct {
		line      string
		want      marker
		ok, wrong bool
	}{
		{line: "x := 1 // trim:demo", want: marker{part: "demo"}, ok: true},
		{line: "\t// trim:demo begin", want: marker{part: "demo", kind: "begin", alone: true}, ok: true},
		{line: "  # trim:demo end\n", want: marker{part: "demo", kind: "end", alone: true}, ok: true},
		{line: "| row | <!-- trim:demo -->", want: marker{part: "demo"}, ok: true},
		{line: "<!-- trim:demo begin -->", want: marker{part: "demo", kind: "begin", alone: true}, ok: true},
		{line: `url := "http://x" // trim:demo`, want: marker{part: "demo"}, ok: true},
		{line: "- --flag # trim:two-words", want: marker{part: "two-words"}, ok: true},
		{line: "no marker here"},
		{line: `s := "trim:demo"`},
		{line: "// trim:PART in a doc comment, upper case, is an example"},
		// Looks meant as a marker, but does not parse.
		{line: "x // trim:demo extra words", wrong: true},
		{line: "x // trim:demo begins", wrong: true},
		{line: "x <!-- trim:demo", wrong: true},
		{line: "x # trim:demo -->", wrong: true},
	} {
		got, ok, wrong := parseMarker(tc.line)
		if got != tc.want || ok != tc.ok || wrong != tc.wrong {
			t.Errorf("parseMarker(%q) = %+v, %v, %v; want %+v, %v, %v", tc.line, got, ok, wrong, tc.want, tc.ok, tc.wrong)
		}
	}
}

func TestRemoveMarked(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		parts          []string
	}{
		{
			name:  "line",
			in:    "a\nb // trim:demo\nc\n",
			parts: []string{"demo"},
			want:  "a\nc\n",
		},
		{
			name:  "another part's line stays, marker and all",
			in:    "a\nb // trim:other\nc\n",
			parts: []string{"demo"},
			want:  "a\nb // trim:other\nc\n",
		},
		{
			name:  "block",
			in:    "a\n// trim:demo begin\nb\nc\n// trim:demo end\nd\n",
			parts: []string{"demo"},
			want:  "a\nd\n",
		},
		{
			name:  "a block between blank lines leaves one",
			in:    "a\n\n<!-- trim:demo begin -->\nb\n<!-- trim:demo end -->\n\nc\n",
			parts: []string{"demo"},
			want:  "a\n\nc\n",
		},
		{
			name:  "a block at the start leaves no blank line first",
			in:    "# trim:demo begin\nb\n# trim:demo end\n\nc\n",
			parts: []string{"demo"},
			want:  "c\n",
		},
		{
			name:  "a block at the end leaves no blank line last",
			in:    "a\n\n# trim:demo begin\nb\n# trim:demo end\n",
			parts: []string{"demo"},
			want:  "a\n",
		},
		{
			name:  "a table row",
			in:    "| h |\n| --- |\n| a |\n| b | <!-- trim:demo -->\n| c |\n",
			parts: []string{"demo"},
			want:  "| h |\n| --- |\n| a |\n| c |\n",
		},
		{
			name:  "nested: the outer part",
			in:    "a\n// trim:demo begin\nb\n// trim:other begin\nc\n// trim:other end\nd // trim:other\n// trim:demo end\ne\n",
			parts: []string{"demo"},
			want:  "a\ne\n",
		},
		{
			name:  "nested: the inner part",
			in:    "a\n// trim:demo begin\nb\n// trim:other begin\nc\n// trim:other end\nd // trim:other\n// trim:demo end\ne\n",
			parts: []string{"other"},
			want:  "a\n// trim:demo begin\nb\n// trim:demo end\ne\n",
		},
		{
			name:  "two parts at once",
			in:    "a // trim:demo\nb\nc // trim:other\n",
			parts: []string{"demo", "other"},
			want:  "b\n",
		},
		{
			name:  "no newline at the end",
			in:    "a\nb // trim:demo",
			parts: []string{"demo"},
			want:  "a\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := removeMarked([]byte(tc.in), tc.parts, nil)
			if err != nil {
				t.Fatalf("removeMarked(%q, %v): %v", tc.in, tc.parts, err)
			}
			if string(got) != tc.want || changed != (tc.in != tc.want) {
				t.Errorf("removeMarked(%q, %v) = %q, %v; want %q", tc.in, tc.parts, got, changed, tc.want)
			}
		})
	}
}

func TestRemoveMarkedRefuses(t *testing.T) {
	known := func(p string) bool { return p == "demo" || p == "other" }
	for _, tc := range []struct{ in, want string }{
		{"// trim:demo begin\na\n", "line 1: trim:demo begin has no end"},
		{"a\n// trim:demo end\n", "line 2: trim:demo end, but no block is open"},
		{"// trim:demo begin\n// trim:other begin\n// trim:demo end\n", "line 3: trim:demo end, but the innermost open block is of other, opened on line 2"},
		{"// trim:demo begin\n// trim:demo begin\n", "line 2: trim:demo begin inside a block of demo opened on line 1"},
		{"x := 1 // trim:demo begin\n", "line 1: a begin marker must be alone on its line"},
		{"x := 1 // trim:typo\n", "line 1: a marker of typo, which is no part"},
		{"x := 1 // trim:demo and more\n", "line 1: a trim marker must end its line"},
	} {
		if _, _, err := removeMarked([]byte(tc.in), []string{"demo"}, known); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("removeMarked(%q): %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestPruneImports(t *testing.T) {
	before := `package p

import (
	"fmt"
	"strings"

	// The extra package, for demo only.
	extra "example.com/extra/v2"
	"example.com/go-kept"
	"example.com/mod/v3"
	_ "example.com/registers"
)

func F() string {
	_ = extra.X // trim:demo
	_ = mod.Y // trim:demo
	_ = kept.Z
	return fmt.Sprint(strings.ToUpper("a"))
}
`
	want := `package p

import (
	"fmt"
	"strings"

	"example.com/go-kept"
	_ "example.com/registers"
)

func F() string {
	_ = kept.Z
	return fmt.Sprint(strings.ToUpper("a"))
}
`
	after, _, err := removeMarked([]byte(before), []string{"demo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pruneImports("p.go", []byte(before), after)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("pruneImports:\n%s\nwant:\n%s", got, want)
	}

	// An import used only under a name its path does not suggest is left
	// for the compiler to judge.
	before = "package p\n\nimport \"example.com/pkg\"\n\nvar _ = other.X // trim:demo\n"
	after, _, _ = removeMarked([]byte(before), []string{"demo"}, nil)
	if got, err := pruneImports("p.go", []byte(before), after); err != nil || string(got) != "package p\n\nimport \"example.com/pkg\"\n" {
		t.Errorf("pruneImports of an import whose name is unknown = %q, %v; want it kept", got, err)
	}
	for _, before := range []string{
		"package p\n\nimport \"example.com/gone\"\n\nvar _ = gone.X // trim:demo\n",
		"package p\n\nimport (\n\t\"example.com/gone\"\n)\n\nvar _ = gone.X // trim:demo\n",
	} {
		after, _, _ := removeMarked([]byte(before), []string{"demo"}, nil)
		got, err := pruneImports("p.go", []byte(before), after)
		if err != nil || string(got) != "package p\n" {
			t.Errorf("pruneImports of the last import = %q, %v; want it gone, parentheses and all", got, err)
		}
		if !emptyGoFile(got) {
			t.Errorf("emptyGoFile(%q) = false", got)
		}
	}
}

const testManifest = `# The parts.
keep CHANGELOG.md
keep vendor/*.txt
keep third_party/

# The demo, with its own comment.
part demo
about the demo
about and what else it removes
trace demo
trace Demo
delete demo
delete cmd/demo.go
line config.json "demo": true,

part other
about the other part
trace other-thing
delete other/
`

func TestParseManifest(t *testing.T) {
	m, err := parseManifest("trim.parts", []byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.names(); !slices.Equal(got, []string{"demo", "other"}) {
		t.Errorf("parts %v, want [demo other]", got)
	}
	demo := m.part("demo")
	if !slices.Equal(demo.paths, []string{"demo", "cmd/demo.go"}) || !slices.Equal(demo.traces, []string{"demo", "Demo"}) || len(demo.about) != 2 ||
		!slices.Equal(demo.lines, []listedLine{{"config.json", `"demo": true,`}}) {
		t.Errorf("demo = %+v", demo)
	}
	if got := m.part("other").paths; !slices.Equal(got, []string{"other"}) {
		t.Errorf("other's paths = %v, want [other] (no trailing slash)", got)
	}
	for file, want := range map[string]bool{"CHANGELOG.md": true, "a/b/CHANGELOG.md": true, "vendor/x.txt": true, "a/vendor/x.txt": false, "README.md": false, "third_party/a/b.go": true, "third_party.go": false} {
		if got := m.matchKeep(file); got != want {
			t.Errorf("matchKeep(%q) = %v, want %v", file, got, want)
		}
	}
	wantWithout := "# The parts.\nkeep CHANGELOG.md\nkeep vendor/*.txt\nkeep third_party/\n\npart other\nabout the other part\ntrace other-thing\ndelete other/\n"
	if got := string(m.without([]*part{demo})); got != wantWithout {
		t.Errorf("without demo:\n%s\nwant:\n%s", got, wantWithout)
	}
	if _, err := m.lookup([]string{"demo", "nope"}); err == nil || !strings.Contains(err.Error(), "no part named nope; the parts are: demo, other") {
		t.Errorf("lookup of an unknown part: %v", err)
	}

	for _, bad := range []string{
		"part Demo\nabout x\ntrace x\n",
		"part demo\nabout x\ntrace x\npart demo\nabout y\ntrace y\n",
		"about x\n",
		"part demo\nabout x\n",
		"part demo\nabout x\ntrace x\nkeep y\n",
		"part demo\nabout x\ntrace x\ndelete ../up\n",
		"part demo\nabout x\ntrace x\nremove y\n",
		"part demo\nabout\n",
		"part demo\nabout x\ntrace x\nline file-without-text\n",
	} {
		if _, err := parseManifest("trim.parts", []byte(bad)); err == nil {
			t.Errorf("parseManifest(%q): no error", bad)
		}
	}
}

// writeTree writes files (path: contents) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestTrimTree(t *testing.T) {
	root := writeTree(t, map[string]string{
		manifestPath:       testManifest,
		"demo/a.go":        "package demo\n",
		"demo/sub/b":       "b\n",
		"cmd/demo.go":      "package main\n",
		"cmd/main.go":      "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/demo\"\n)\n\nfunc main() {\n\tdemo.Run() // trim:demo\n\tfmt.Println()\n}\n",
		"cmd/demo_test.go": "package main\n\nimport \"testing\"\n\n// trim:demo begin\n\nfunc TestDemo(t *testing.T) {}\n\n// trim:demo end\n",
		"cmd/doc.go":       "// Command cmd is a command.\npackage main\n\nvar x = 1 // trim:demo\n",
		"other/x.txt":      "x\n",
		"config.json":      "{\n  \"demo\": true,\n  \"x\": 1\n}\n",
		"README.md":        "# R\n\n<!-- trim:demo begin -->\nThe demo.\n<!-- trim:demo end -->\n\nThe rest. <!-- trim:other -->\nThe end.\n",
		"CHANGELOG.md":     "- demo added\n",
		// Binary files and patches are not edited, whatever they hold.
		"bin/blob":     "\x00trim:other\n",
		"docs/x.patch": "+x // trim:other\n+// trim:other begin\n",
	})
	m, err := readManifest(filepath.Join(root, manifestPath))
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := checkTree(root, m); err != nil || len(problems) > 0 {
		t.Fatalf("checkTree before trimming: %v, %v", problems, err)
	}
	parts, _ := m.lookup([]string{"demo"})
	left, err := leftovers(root, m, parts)
	if want := "README.md:4: The demo. [\"demo\", demo]"; err != nil || !slices.Contains(left, want) {
		t.Fatalf("leftovers before trimming = %q, %v; want %q among them", left, err, want)
	}

	if files, err := deletedFiles(root, parts); err != nil || !slices.Equal(files, []string{"cmd/demo.go", "demo/a.go", "demo/sub/b"}) {
		t.Errorf("deletedFiles = %v, %v; want cmd/demo.go, demo/a.go, demo/sub/b", files, err)
	}

	r, err := trimTree(root, m, parts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cmd/demo.go", "cmd/demo_test.go", "demo"}; !slices.Equal(r.deleted, want) {
		t.Errorf("deleted %v, want %v", r.deleted, want)
	}
	if want := []string{"README.md", "cmd/doc.go", "cmd/main.go", "config.json", manifestPath}; !slices.Equal(r.edited, want) {
		t.Errorf("edited %v, want %v", r.edited, want)
	}
	for name, want := range map[string]string{
		"cmd/main.go": "package main\n\nimport (\n\t\"fmt\"\n)\n\nfunc main() {\n\tfmt.Println()\n}\n",
		"README.md":   "# R\n\nThe rest. <!-- trim:other -->\nThe end.\n",
		"config.json": "{\n  \"x\": 1\n}\n",
		"cmd/doc.go":  "// Command cmd is a command.\npackage main\n",
	} {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, gone := range []string{"demo", "cmd/demo.go"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "cmd")); err != nil {
		t.Errorf("cmd, not empty, is gone: %v", err)
	}

	// The demo is gone from the manifest; the check with the old one finds
	// nothing left but the changelog, which the manifest keeps.
	after, err := readManifest(filepath.Join(root, manifestPath))
	if err != nil {
		t.Fatal(err)
	}
	if got := after.names(); !slices.Equal(got, []string{"other"}) {
		t.Errorf("parts left %v, want [other]", got)
	}
	if left, err := leftovers(root, m, parts); err != nil || len(left) > 0 {
		t.Errorf("leftovers after trimming: %v, %v", left, err)
	}
	if problems, err := checkTree(root, after); err != nil || len(problems) > 0 {
		t.Errorf("checkTree after trimming: %v, %v", problems, err)
	}

	// Once other is trimmed too, an empty directory goes with it.
	parts, _ = after.lookup([]string{"other"})
	if _, err := trimTree(root, after, parts); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "README.md")); string(got) != "# R\n\nThe end.\n" {
		t.Errorf("README.md = %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "other")); err == nil {
		t.Error("other is still there")
	}
}

func TestTrimTreeChangesNothingOnError(t *testing.T) {
	files := map[string]string{
		manifestPath:  testManifest,
		"demo/a.go":   "package demo\n",
		"cmd/demo.go": "package main\n",
		"other/x.txt": "x\n",
		"config.json": "{\n  \"demo\": true,\n}\n",
		"broken.md":   "<!-- trim:demo begin -->\n",
	}
	root := writeTree(t, files)
	m, err := readManifest(filepath.Join(root, manifestPath))
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := m.lookup([]string{"demo"})
	if _, err := trimTree(root, m, parts); err == nil || !strings.Contains(err.Error(), "broken.md: line 1") {
		t.Fatalf("trimTree with an unbalanced marker: %v, want an error naming it", err)
	}
	problems, err := checkTree(root, m)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "broken.md") {
		t.Errorf("checkTree = %v, %v; want the unbalanced marker", problems, err)
	}
	if err := os.WriteFile(filepath.Join(root, "broken.md"), []byte("fixed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files["broken.md"] = "fixed\n"
	if err := os.WriteFile(filepath.Join(root, "config.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files["config.json"] = "{}\n"
	if _, err := trimTree(root, m, parts); err == nil || !strings.Contains(err.Error(), `config.json: no line "\"demo\": true,"`) {
		t.Errorf("trimTree with a listed line gone: %v, want an error naming it", err)
	}
	if problems, _ := checkTree(root, m); len(problems) != 1 || !strings.Contains(problems[0], "config.json, which has no such line") {
		t.Errorf("checkTree with a listed line gone = %q, want it named", problems)
	}
	if err := os.Remove(filepath.Join(root, "cmd/demo.go")); err != nil {
		t.Fatal(err)
	}
	if _, err := trimTree(root, m, parts); err == nil || !strings.Contains(err.Error(), "cmd/demo.go") {
		t.Errorf("trimTree with a path gone: %v, want an error naming it", err)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if name != "cmd/demo.go" && (err != nil || string(got) != data) {
			t.Errorf("%s changed: %q, %v", name, got, err)
		}
	}
}
