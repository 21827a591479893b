package version_test

import (
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-server/internal/version"
)

func TestGet(t *testing.T) {
	t.Parallel()
	got := version.Get()
	// This test binary does not link greeter-api (the greeter-server binary
	// does; cmd/greeter-server's test checks its --version), and is built
	// from the source tree, so its own version is "(devel)".
	if got.Server == "" || got.Server == "unknown" || got.API == "" {
		t.Errorf("Get() = %+v, want the server version found", got)
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	info := version.Info{Server: "v0.2.0", API: "v0.1.0"}
	if got, want := info.String(), "greeter-server v0.2.0 (greeter-api v0.1.0)"; got != want {
		t.Errorf("Info%+v.String() = %q, want %q", info, got, want)
	}
	if !strings.HasPrefix(version.Get().String(), "greeter-server ") {
		t.Errorf("Get().String() = %q, want it to start with %q", version.Get().String(), "greeter-server ")
	}
}
