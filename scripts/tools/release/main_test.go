package main

import (
	"strings"
	"testing"
)

func TestValidVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version string
		ok      bool
	}{
		{"v0.1.0", true},
		{"v1.2.3", true},
		{"v10.20.30", true},
		{"v1.0.0-rc.1", true},
		{"v0.0.0-test.1", true},
		{"v1.0.0-alpha-beta.2", true},
		{"1.2.3", false},          // no v
		{"1.2", false},            // no v, no patch
		{"v1.2", false},           // shorthand Go accepts in a query, not as a tag
		{"v1", false},             // likewise
		{"v01.2.3", false},        // leading zero
		{"v1.2.3+build.1", false}, // build metadata: not a module version
		{"v1.2.3-", false},        // empty prerelease
		{"v1.2.3-01", false},      // numeric prerelease with a leading zero
		{"", false},
	} {
		if err := validVersion(tt.version); (err == nil) != tt.ok {
			t.Errorf("validVersion(%q) = %v, want ok=%v", tt.version, err, tt.ok)
		}
	}
}

func TestLatest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		tags []string
		want string
	}{
		{"none", nil, ""},
		{"one", []string{"greeter-api/v0.1.0"}, "v0.1.0"},
		// A release orders after its prereleases; sort -V put v1.0.0-rc.1
		// after v1.0.0, the bug release.sh once had.
		{"release after its prereleases", []string{"greeter-api/v1.0.0", "greeter-api/v1.0.0-rc.1", "greeter-api/v1.0.0-alpha.2"}, "v1.0.0"},
		{"prerelease of the next release", []string{"greeter-api/v1.0.0", "greeter-api/v1.1.0-rc.1"}, "v1.1.0-rc.1"},
		// Numeric prerelease identifiers compare as numbers, not text.
		{"rc.10 after rc.9", []string{"greeter-api/v1.0.0-rc.9", "greeter-api/v1.0.0-rc.10"}, "v1.0.0-rc.10"},
		{"numbers, not text", []string{"greeter-api/v0.9.0", "greeter-api/v0.10.0"}, "v0.10.0"},
		{"other modules and junk ignored", []string{"greeter-server/v9.0.0", "greeter-api/vnext", "greeter-api/v0.2.0"}, "v0.2.0"},
	} {
		if got := latest("greeter-api", tt.tags); got != tt.want {
			t.Errorf("%s: latest(%q) = %q, want %q", tt.name, tt.tags, got, tt.want)
		}
	}
}

func TestMajorKind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ previous, version, want string }{
		{"", "v0.1.0", "same-major"},
		{"", "v1.0.0", "new-major"},
		{"v0.3.0", "v0.4.0", "same-major"},
		{"v0.3.0", "v1.0.0-rc.1", "new-major"},
		{"v1.0.0-rc.1", "v1.0.0", "same-major"},
		{"v1.9.0", "v2.0.0", "new-major"},
	} {
		if got := majorKind(tt.previous, tt.version); got != tt.want {
			t.Errorf("majorKind(%q, %q) = %q, want %q", tt.previous, tt.version, got, tt.want)
		}
	}
}

func TestCheckPathMajor(t *testing.T) {
	t.Parallel()
	const path = "github.com/greeter-go/greeter/greeter-api"
	for _, tt := range []struct {
		path, version string
		ok            bool
	}{
		{path, "v0.1.0", true},
		{path, "v1.5.0", true},
		{path, "v2.0.0", false},
		{path + "/v2", "v2.0.0", true},
		{path + "/v2", "v3.0.0", false},
	} {
		err := checkPathMajor("greeter-api", tt.path, tt.version)
		if (err == nil) != tt.ok {
			t.Errorf("checkPathMajor(%q, %q) = %v, want ok=%v", tt.path, tt.version, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "must end in /"+tt.version[:2]) {
			t.Errorf("checkPathMajor(%q, %q) = %q, want it to say what the path must end in", tt.path, tt.version, err)
		}
	}
}

func TestHasChangelogEntry(t *testing.T) {
	t.Parallel()
	changelog := []byte("# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-01-02\n\n- x\n\n## [0.1.0-rc.1] - 2025-12-01\n")
	for _, tt := range []struct {
		version string
		want    bool
	}{
		{"v0.2.0", true},
		{"v0.1.0-rc.1", true},
		{"v0.1.0", false},
		{"v0.2.1", false},
		{"v0.2", false},
		{"v0x2.0", false}, // the dots are literal, not "any character"
	} {
		if got := hasChangelogEntry(changelog, tt.version); got != tt.want {
			t.Errorf("hasChangelogEntry(changelog, %q) = %v, want %v", tt.version, got, tt.want)
		}
	}
}
