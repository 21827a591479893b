package version_test

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"testing"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/version"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestRun(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/greeter-go/greeter/greeter-client", Version: "v0.2.0"},
		Deps: []*debug.Module{{Path: "github.com/greeter-go/greeter/greeter-api", Version: "v0.1.0"}},
	}
	ios, _, out, _ := iostreams.Test()
	opts := &version.Options{IO: ios, Factory: &conn.Factory{Options: conn.Options{Output: "json"}}, BuildInfo: func() (*debug.BuildInfo, bool) { return info, true }}
	if err := version.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("version --output json printed %q: %v", out, err)
	}
	if got["greeter_client"] != "v0.2.0" || got["greeter_api"] != "v0.1.0" {
		t.Errorf("version = %v, want greeter_client v0.2.0 and greeter_api v0.1.0", got)
	}
}

// TestVersions holds the rules greeter-server's internal/version follows
// too: a stamp wins, a build from the tree says (devel), a greeter-api
// replaced by a directory says where from.
func TestVersions(t *testing.T) {
	t.Parallel()
	const client, api = "github.com/greeter-go/greeter/greeter-client", "github.com/greeter-go/greeter/greeter-api"
	released := &debug.BuildInfo{
		Main: debug.Module{Path: client, Version: "v0.2.0"},
		Deps: []*debug.Module{{Path: api, Version: "v0.1.0"}},
	}
	fromTree := &debug.BuildInfo{
		Main: debug.Module{Path: client, Version: "(devel)"},
		Deps: []*debug.Module{{Path: api, Version: "v0.1.0", Replace: &debug.Module{Path: "../greeter-api"}}},
	}
	other := &debug.BuildInfo{Main: debug.Module{Path: "example.com/other", Version: "v1.0.0"}}
	for _, tt := range []struct {
		name       string
		bi         *debug.BuildInfo
		ok         bool
		stamp      string
		client, ap string
	}{
		{"released", released, true, "", "v0.2.0", "v0.1.0"},
		{"stamped", released, true, "v9.8.7", "v9.8.7", "v0.1.0"},
		{"from the tree", fromTree, true, "", "(devel)", "v0.1.0 (from ../greeter-api)"},
		{"linked into another module", other, true, "", "unknown", "unknown"},
		{"no build information", nil, false, "", "unknown", "unknown"},
		{"no build information, stamped", nil, false, "v9.8.7", "v9.8.7", "unknown"},
	} {
		c, a := version.Versions(tt.bi, tt.ok, tt.stamp)
		if c != tt.client || a != tt.ap {
			t.Errorf("%s: Versions() = %q, %q, want %q, %q", tt.name, c, a, tt.client, tt.ap)
		}
	}
}
