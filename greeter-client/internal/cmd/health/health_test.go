package health_test

import (
	"context"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/health"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"": "", "--service greeter.v1.GreeterService": "greeter.v1.GreeterService", "-s x": "x"} {
		ios, _, _, _ := iostreams.Test()
		var got *health.Options
		cmd := health.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *health.Options) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(args))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("health %s: %v", args, err)
		}
		if got.Service != want {
			t.Errorf("health %s: Service = %q, want %q", args, got.Service, want)
		}
	}
}
