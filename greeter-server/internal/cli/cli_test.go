package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-server/internal/cli"
)

// parse runs the command with args and env, without serving, and returns the
// options it would serve with.
func parse(t *testing.T, args []string, env map[string]string) (*cli.Options, string, error) {
	t.Helper()
	var out bytes.Buffer
	var got *cli.Options
	cmd := cli.NewCmd(&out, &out, func(k string) string { return env[k] }, func(_ *cobra.Command, o *cli.Options) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return got, out.String(), err
}

func TestFlagsAndEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		desc string
		args []string
		env  map[string]string
		want func(*cli.Options) bool
	}{
		{desc: "defaults", want: func(o *cli.Options) bool {
			return o.Config.Addr == "localhost:50051" && o.Config.ShutdownTimeout == 15*time.Second && o.Config.StreamGrace == 5*time.Second &&
				o.LogLevel == "info" && o.LogFormat == "text" && o.Config.MetricsAddr == "" && o.Config.TLS.Cert == ""
		}},
		{desc: "env", env: map[string]string{
			"GREETER_ADDR": ":6000", "GREETER_TLS_CERT": "c.pem", "GREETER_TLS_KEY": "k.pem", "GREETER_TLS_CLIENT_CA": "ca.pem",
			"GREETER_METRICS_ADDR": ":9090", "GREETER_LOG_LEVEL": "debug", "GREETER_LOG_FORMAT": "json",
			"GREETER_SHUTDOWN_TIMEOUT": "3s", "GREETER_STREAM_GRACE": "1s",
		}, want: func(o *cli.Options) bool {
			return o.Config.Addr == ":6000" && o.Config.TLS.Cert == "c.pem" && o.Config.TLS.Key == "k.pem" && o.Config.TLS.ClientCA == "ca.pem" &&
				o.Config.MetricsAddr == ":9090" && o.LogLevel == "debug" && o.LogFormat == "json" &&
				o.Config.ShutdownTimeout == 3*time.Second && o.Config.StreamGrace == time.Second
		}},
		{desc: "flags win over env", args: []string{"--addr", "127.0.0.1:7000", "--log-level", "warn"},
			env: map[string]string{"GREETER_ADDR": ":6000", "GREETER_LOG_LEVEL": "debug", "GREETER_LOG_FORMAT": "json"},
			want: func(o *cli.Options) bool {
				return o.Config.Addr == "127.0.0.1:7000" && o.LogLevel == "warn" && o.LogFormat == "json"
			}},
	}
	for _, tt := range tests {
		got, out, err := parse(t, tt.args, tt.env)
		if err != nil || got == nil || !tt.want(got) {
			t.Errorf("%s: greeter-server %q with env %v = %+v, %v (output %q), not what the test wants", tt.desc, tt.args, tt.env, got, err, out)
		}
		if err == nil && got.Config.Logger == nil {
			t.Errorf("%s: Config.Logger = nil, want a logger", tt.desc)
		}
	}
}

func TestRejectsBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--log-level", "loud"}, want: `invalid --log-level "loud"`},
		{args: []string{"--log-format", "xml"}, want: `invalid --log-format "xml"`},
		{env: map[string]string{"GREETER_SHUTDOWN_TIMEOUT": "soon"}, want: `invalid GREETER_SHUTDOWN_TIMEOUT "soon"`},
		{args: []string{"extra"}, want: "unknown command"},
	}
	for _, tt := range tests {
		_, _, err := parse(t, tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("greeter-server %q with env %v = %v, want an error containing %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	t.Parallel()
	_, out, err := parse(t, []string{"--help"}, nil)
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{
		"--addr", "$GREETER_ADDR", `(default "localhost:50051")`,
		"--tls-cert", "$GREETER_TLS_CERT", "--tls-key", "$GREETER_TLS_KEY", "--tls-client-ca", "$GREETER_TLS_CLIENT_CA",
		"--metrics-addr", "$GREETER_METRICS_ADDR", "(default off)",
		"--log-level", `(default "info")`, "--log-format", `(default "text")`,
		"--shutdown-timeout", "(default 15s)", "--stream-grace", "(default 5s)", "--version",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help output does not contain %q:\n%s", want, out)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	_, out, err := parse(t, []string{"--version"}, nil)
	if err != nil || !strings.HasPrefix(out, "greeter-server ") || !strings.Contains(out, "(greeter-api ") {
		t.Errorf("--version = %q, %v, want %q", out, err, "greeter-server VERSION (greeter-api VERSION)")
	}
}
