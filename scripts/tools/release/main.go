// Command release decides whether a version of one of this repository's
// modules may be released; scripts/release.sh runs it before it changes
// anything, and does the rest (the API checks, the release commit, the tag).
//
// Usage:
//
//	go -C scripts/tools run ./release -root ROOT MODULE VERSION
//
// It refuses, with a message on stderr and exit status 1, a VERSION that is
// not a canonical semantic version (vMAJOR.MINOR.PATCH[-PRERELEASE]), a v2+
// VERSION whose module path does not end in /vMAJOR, a tag MODULE/VERSION that
// exists, a dirty working tree, a MODULE/CHANGELOG.md without a
// "## [VERSION]" entry, a VERSION not above the module's last release in
// semantic-version order (where a release follows its prereleases), and, for
// greeter-server and greeter-client, a greeter-api requirement that is not
// released. Otherwise it prints "new-major" if VERSION's major version is
// above the last release's (so the API may break), else "same-major".
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

const apiModule = "github.com/greeter-go/greeter/greeter-api"

func main() {
	root := flag.String("root", ".", "the repository's root `directory`")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: release [-root DIR] greeter-api|greeter-server|greeter-client VERSION")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	r := &repo{root: *root}
	kind, err := r.check(flag.Arg(0), flag.Arg(1), time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	fmt.Println(kind)
}

// repo is the git checkout that holds the modules.
type repo struct{ root string }

// check runs every check in the order described above and returns
// "new-major" or "same-major".
func (r *repo) check(module, version string, now time.Time) (string, error) {
	switch module {
	case "greeter-api", "greeter-server", "greeter-client":
	default:
		return "", fmt.Errorf("unknown module %q: want greeter-api, greeter-server or greeter-client", module)
	}
	if err := validVersion(version); err != nil {
		return "", err
	}
	mf, err := r.modFile(module)
	if err != nil {
		return "", err
	}
	if err := checkPathMajor(module, mf.Module.Mod.Path, version); err != nil {
		return "", err
	}
	tag := module + "/" + version
	if r.hasTag(tag) {
		return "", fmt.Errorf("tag %s already exists", tag)
	}
	status, err := r.git("status", "--short")
	if err != nil {
		return "", err
	}
	if status != "" {
		return "", fmt.Errorf("the working tree is not clean; commit or stash first:\n%s", status)
	}
	changelog, err := os.ReadFile(filepath.Join(r.root, module, "CHANGELOG.md"))
	if err != nil {
		return "", err
	}
	if !hasChangelogEntry(changelog, version) {
		v := strings.TrimPrefix(version, "v")
		return "", fmt.Errorf("%s/CHANGELOG.md has no entry for %s; add a \"## [%s] - %s\" section", module, v, v, now.UTC().Format(time.DateOnly))
	}
	tags, err := r.git("tag", "--list", module+"/v*")
	if err != nil {
		return "", err
	}
	previous := latest(module, strings.Fields(tags))
	if previous != "" && semver.Compare(version, previous) <= 0 {
		return "", fmt.Errorf("%s is not above the last release of %s, %s", version, module, previous)
	}
	if module != "greeter-api" {
		required := requiredVersion(mf, apiModule)
		if !r.hasTag("greeter-api/" + required) {
			return "", fmt.Errorf("%s requires greeter-api %s, which is not released; release it first, then run scripts/use-api.sh VERSION", module, required)
		}
	}
	return majorKind(previous, version), nil
}

// validVersion reports whether version is a full semantic version as Go
// modules tag them: vMAJOR.MINOR.PATCH with an optional -PRERELEASE, no
// build metadata, no shorthand such as v1.2.
func validVersion(version string) error {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("%s is not a semantic version of the form vMAJOR.MINOR.PATCH[-PRERELEASE]", version)
	}
	return nil
}

// checkPathMajor refuses a v2+ version of a module whose path lacks the
// /vMAJOR suffix that Go requires of it.
func checkPathMajor(module, path, version string) error {
	major := semver.Major(version)
	if major == "v0" || major == "v1" || strings.HasSuffix(path, "/"+major) {
		return nil
	}
	return fmt.Errorf("%s is a %s release, so %s's module path must end in /%s (it is %s); see \"Major versions\" in docs/api.md", version, major, module, major, path)
}

// hasChangelogEntry reports whether changelog has a "## [X.Y.Z]" heading for
// version (written without its "v").
func hasChangelogEntry(changelog []byte, version string) bool {
	heading := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(strings.TrimPrefix(version, "v")) + `\]`)
	return heading.Match(changelog)
}

// latest returns the highest version among tags of the form MODULE/VERSION,
// in semantic-version order, ignoring tags that are not valid versions; ""
// if there is none.
func latest(module string, tags []string) string {
	var max string
	for _, tag := range tags {
		v, ok := strings.CutPrefix(tag, module+"/")
		if !ok || !semver.IsValid(v) {
			continue
		}
		if max == "" || semver.Compare(v, max) > 0 {
			max = v
		}
	}
	return max
}

// majorKind says whether version starts a major version above previous's
// (previous "" counts as v0).
func majorKind(previous, version string) string {
	prev := "v0"
	if previous != "" {
		prev = semver.Major(previous)
	}
	if semver.Compare(semver.Major(version), prev) > 0 {
		return "new-major"
	}
	return "same-major"
}

// requiredVersion returns the version of path that mf requires, or "".
func requiredVersion(mf *modfile.File, path string) string {
	for _, req := range mf.Require {
		if req.Mod.Path == path {
			return req.Mod.Version
		}
	}
	return ""
}

func (r *repo) modFile(module string) (*modfile.File, error) {
	name := filepath.Join(r.root, module, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return modfile.ParseLax(name, data, nil)
}

func (r *repo) hasTag(tag string) bool {
	_, err := r.git("rev-parse", "-q", "--verify", "refs/tags/"+tag)
	return err == nil
}

// git runs git in the repository and returns its output without the final
// newline.
func (r *repo) git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", r.root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
}
