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
