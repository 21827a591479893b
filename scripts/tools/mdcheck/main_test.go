package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const fixture = "testdata/repo"

// TestFixture checks the fixture repository: each line marked
// <!-- want "TEXT" --> must be reported with a message containing TEXT, and
// no other line may be reported.
func TestFixture(t *testing.T) {
	t.Parallel()
	files, err := markdownFiles(fixture)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := newChecker(fixture).check(files)
	if err != nil {
		t.Fatal(err)
	}
	want := wants(t, files)
	if len(want) == 0 {
		t.Fatal("the fixture has no want comments")
	}
	for _, p := range problems {
		key := p.file + ":" + strconv.Itoa(p.line)
		i := slices.IndexFunc(want[key], func(w string) bool { return strings.Contains(p.msg, w) })
		if i < 0 {
			t.Errorf("unexpected problem %s", p)
			continue
		}
		want[key] = slices.Delete(want[key], i, i+1)
	}
	for key, ws := range want {
		for _, w := range ws {
			t.Errorf("%s: no problem reported, want one containing %q", key, w)
		}
	}
}

var wantComment = regexp.MustCompile(`<!-- want "([^"]+)" -->`)

// wants returns the want comments of files, by FILE:LINE.
func wants(t *testing.T, files []string) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	for _, f := range files {
		src, err := os.ReadFile(filepath.Join(fixture, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, m := range wantComment.FindAllStringSubmatch(line, -1) {
				key := f + ":" + strconv.Itoa(i+1)
				want[key] = append(want[key], m[1])
			}
		}
	}
	return want
}

func TestMarkdownFiles(t *testing.T) {
	t.Parallel()
	got, err := markdownFiles(fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md", "docs/a file.md", "docs/guide.md", "docs/sub/README.md"}
	if !slices.Equal(got, want) {
		t.Errorf("markdownFiles(%q) = %q, want %q", fixture, got, want)
	}
}

// TestMarkdownFilesGit checks that in a git work tree the files are those
// git tracks or would track: not ignored ones, not deleted ones.
func TestMarkdownFilesGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q")
	write(".gitignore", "build/\n")
	write("README.md", "# tracked\n")
	write("gone.md", "# tracked, then deleted\n")
	write("docs/new.md", "# untracked\n")
	write("build/out.md", "# ignored\n")
	write("pkg/testdata/fixture.md", "# a fixture\n")
	write("web/node_modules/dep/README.md", "# a dependency\n")
	write("notes.txt", "not Markdown\n")
	git("add", ".gitignore", "README.md", "gone.md", "pkg", "web")
	if err := os.Remove(filepath.Join(dir, "gone.md")); err != nil {
		t.Fatal(err)
	}
	got, err := markdownFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "docs/new.md"}; !slices.Equal(got, want) {
		t.Errorf("markdownFiles(git work tree) = %q, want %q", got, want)
	}
}

func TestAnchors(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join(fixture, "docs/guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for a := range parseDocument(string(src)).anchors {
		got = append(got, a)
	}
	slices.Sort(got)
	want := []string{
		"--addr-and-tls",
		"a--b",
		"a-link-in-a-heading",
		"c-and-c",
		"closing-hashes",
		"custom-anchor",
		"escaped-_underscores_",
		"examples",
		"examples-1",
		"examples-1-1",
		"examples-2",
		"old-name",
		"setext-heading",
		"setup-and-install",
		"snake_case-and-bold-and-emphasis",
		"the-guide",
		"tracing-opentelemetry",
		"who-may-call-tokens-certificates-and-a-policy",
		"ünïcödé-and-emoji-",
	}
	if !slices.Equal(got, want) {
		t.Errorf("anchors of docs/guide.md = %q, want %q", got, want)
	}
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ text, want string }{
		{"Quick start", "quick-start"},
		{"Who may call: tokens, certificates and a policy", "who-may-call-tokens-certificates-and-a-policy"},
		{"Tracing (OpenTelemetry)", "tracing-opentelemetry"},
		{"--addr and TLS", "--addr-and-tls"},
		{"C++ & C#", "c--c"},
		{"snake_case", "snake_case"},
		{"v1.2.3 — what's new?", "v123--whats-new"},
		{"Ünïcödé 🎉", "ünïcödé-"},
		{"", ""},
	} {
		if got := slug(tt.text); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSlugger(t *testing.T) {
	t.Parallel()
	s := slugger{}
	var got []string
	for _, h := range []string{"A", "A", "A-1", "A", "B", ""} {
		got = append(got, s.slug(h))
	}
	if want := []string{"a", "a-1", "a-1-1", "a-2", "b", ""}; !slices.Equal(got, want) {
		t.Errorf("slugs of A, A, A-1, A, B, \"\" = %q, want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	clean := t.TempDir()
	if err := os.WriteFile(filepath.Join(clean, "README.md"), []byte("# Title\n\n[self](#title)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args       []string
		code       int
		stdoutHas  string
		stdoutNone bool
	}{
		{[]string{"-root", clean}, 0, "", true},
		{[]string{"-root", fixture}, 1, "README.md:55: link target docs/missing.md does not exist\n", false},
		{[]string{"-root", fixture, "extra"}, 2, "", true},
		{[]string{"-nope"}, 2, "", true},
		{[]string{"-root", filepath.Join(clean, "missing")}, 2, "", true},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdoutHas) || (tt.stdoutNone && stdout.Len() > 0) {
			t.Errorf("mdcheck %q = %d, stdout:\n%s\nstderr:\n%s\nwant %d with %q on stdout", tt.args, code, &stdout, &stderr, tt.code, tt.stdoutHas)
		}
	}
}
