package cli_test

import (
	"bytes"
	"context"
	"slices"
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
	cmd := cli.NewCmd(&out, &out, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, func(_ *cobra.Command, o *cli.Options) error {
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
			"GREETER_SERVER_ADDR": ":6000", "GREETER_SERVER_TLS_CERT": "c.pem", "GREETER_SERVER_TLS_KEY": "k.pem", "GREETER_SERVER_TLS_CLIENT_CA": "ca.pem",
			"GREETER_SERVER_METRICS_ADDR": ":9090", "GREETER_SERVER_LOG_LEVEL": "debug", "GREETER_SERVER_LOG_FORMAT": "json",
			"GREETER_SERVER_SHUTDOWN_TIMEOUT": "3s", "GREETER_SERVER_STREAM_GRACE": "1s", "GREETER_SERVER_REFLECTION": "false",
		}, want: func(o *cli.Options) bool {
			return o.Config.Addr == ":6000" && o.Config.TLS.Cert == "c.pem" && o.Config.TLS.Key == "k.pem" && o.Config.TLS.ClientCA == "ca.pem" &&
				o.Config.MetricsAddr == ":9090" && o.LogLevel == "debug" && o.LogFormat == "json" &&
				o.Config.ShutdownTimeout == 3*time.Second && o.Config.StreamGrace == time.Second && o.Config.DisableReflection
		}},
		// trim:http begin
		{desc: "HTTP listener defaults", want: func(o *cli.Options) bool {
			return o.Config.HTTPAddr == "localhost:8080" && len(o.Config.CORSOrigins) == 0
		}},
		{desc: "HTTP listener address from env", env: map[string]string{"GREETER_SERVER_HTTP_ADDR": ":8081"},
			want: func(o *cli.Options) bool { return o.Config.HTTPAddr == ":8081" }},
		{desc: "an empty variable turns the HTTP listener off", env: map[string]string{"GREETER_SERVER_HTTP_ADDR": ""},
			want: func(o *cli.Options) bool { return o.Config.HTTPAddr == "" }},
		{desc: "an empty flag turns the HTTP listener off", args: []string{"--http-addr="}, env: map[string]string{"GREETER_SERVER_HTTP_ADDR": ":8081"},
			want: func(o *cli.Options) bool { return o.Config.HTTPAddr == "" }},
		// trim:http end
		{desc: "an empty variable of another flag is ignored", env: map[string]string{"GREETER_SERVER_ADDR": "", "GREETER_SERVER_LOG_LEVEL": "", "GREETER_SERVER_SHUTDOWN_TIMEOUT": "", "GREETER_ADDR": ":6000"},
			want: func(o *cli.Options) bool {
				return o.Config.Addr == ":6000" && o.LogLevel == "info" && o.Config.ShutdownTimeout == 15*time.Second
			}},
		{desc: "flags win over env", args: []string{"--addr", "127.0.0.1:7000", "--log-level", "warn", "--reflection=true"},
			env: map[string]string{"GREETER_SERVER_ADDR": ":6000", "GREETER_SERVER_LOG_LEVEL": "debug", "GREETER_SERVER_LOG_FORMAT": "json", "GREETER_SERVER_REFLECTION": "false"},
			want: func(o *cli.Options) bool {
				return o.Config.Addr == "127.0.0.1:7000" && o.LogLevel == "warn" && o.LogFormat == "json" && !o.Config.DisableReflection
			}},
		// trim:http begin
		{desc: "CORS origins from env, comma-separated", env: map[string]string{"GREETER_SERVER_CORS_ORIGIN": "https://app.example.com,http://localhost:3000"},
			want: func(o *cli.Options) bool {
				return slices.Equal(o.Config.CORSOrigins, []string{"https://app.example.com", "http://localhost:3000"})
			}},
		{desc: "CORS origins from repeated flags win over env", args: []string{"--cors-origin", "https://a.example", "--cors-origin", "https://b.example"},
			env: map[string]string{"GREETER_SERVER_CORS_ORIGIN": "https://app.example.com"},
			want: func(o *cli.Options) bool {
				return slices.Equal(o.Config.CORSOrigins, []string{"https://a.example", "https://b.example"})
			}},
		// trim:http end
		{desc: "the client's variables are not read", env: map[string]string{"GREETER_CLIENT_ADDR": "greeter.example:443", "GREETER_CLIENT_TIMEOUT": "1s"},
			want: func(o *cli.Options) bool { return o.Config.Addr == "localhost:50051" }},
		{desc: "legacy names still work", env: map[string]string{"GREETER_ADDR": ":6000", "GREETER_LOG_LEVEL": "warn"},
			want: func(o *cli.Options) bool { return o.Config.Addr == ":6000" && o.LogLevel == "warn" }},
		{desc: "new names win over legacy names", env: map[string]string{"GREETER_ADDR": ":6000", "GREETER_SERVER_ADDR": ":7000"},
			want: func(o *cli.Options) bool { return o.Config.Addr == ":7000" }},
		{desc: "flags win over legacy names", args: []string{"--addr", ":8000"}, env: map[string]string{"GREETER_ADDR": ":6000"},
			want: func(o *cli.Options) bool { return o.Config.Addr == ":8000" }},
		{desc: "a stream grace as long as the shutdown timeout", args: []string{"--stream-grace", "10s", "--shutdown-timeout", "10s"},
			want: func(o *cli.Options) bool {
				return o.Config.StreamGrace == 10*time.Second && o.Config.ShutdownTimeout == 10*time.Second
			}},
		{desc: "no stream grace, no shutdown timeout", args: []string{"--stream-grace", "0", "--shutdown-timeout", "0"},
			want: func(o *cli.Options) bool { return o.Config.StreamGrace == 0 && o.Config.ShutdownTimeout == 0 }},
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

// TestLegacyEnvWarns checks that a legacy GREETER_ name is logged as
// deprecated when it is used, and only then.
func TestLegacyEnvWarns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		desc string
		args []string
		env  map[string]string
		warn bool
	}{
		{desc: "legacy name used", env: map[string]string{"GREETER_ADDR": ":6000"}, warn: true},
		{desc: "new name set too", env: map[string]string{"GREETER_ADDR": ":6000", "GREETER_SERVER_ADDR": ":7000"}},
		{desc: "flag given", args: []string{"--addr", ":8000"}, env: map[string]string{"GREETER_ADDR": ":6000"}},
	}
	const want = "$GREETER_ADDR is deprecated and stops working in the release after next; rename it $GREETER_SERVER_ADDR"
	for _, tt := range tests {
		_, out, err := parse(t, tt.args, tt.env)
		if err != nil {
			t.Fatalf("%s: %v", tt.desc, err)
		}
		if got := strings.Contains(out, want); got != tt.warn {
			t.Errorf("%s: warned = %v, want %v; log:\n%s", tt.desc, got, tt.warn, out)
		}
		if tt.warn && !strings.Contains(out, "level=WARN") {
			t.Errorf("%s: the deprecation is not logged at WARN:\n%s", tt.desc, out)
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
		{env: map[string]string{"GREETER_SERVER_LOG_LEVEL": "loud"}, want: `invalid $GREETER_SERVER_LOG_LEVEL "loud"`},
		{env: map[string]string{"GREETER_LOG_FORMAT": "xml"}, want: `invalid $GREETER_LOG_FORMAT "xml"`},
		{env: map[string]string{"GREETER_SERVER_SHUTDOWN_TIMEOUT": "soon"}, want: `invalid $GREETER_SERVER_SHUTDOWN_TIMEOUT "soon"`},
		{env: map[string]string{"GREETER_STREAM_GRACE": "soon"}, want: `invalid $GREETER_STREAM_GRACE "soon"`},
		{env: map[string]string{"GREETER_SERVER_REFLECTION": "maybe"}, want: `invalid $GREETER_SERVER_REFLECTION "maybe"`},
		{args: []string{"--addr="}, want: "--addr must not be empty"},
		{args: []string{"extra"}, want: "unknown command"},
		{args: []string{"--cors-origin", "https://app.example.com/"}, want: `invalid --cors-origin: CORS origin "https://app.example.com/"`},    // trim:http
		{env: map[string]string{"GREETER_SERVER_CORS_ORIGIN": "app.example.com"}, want: `invalid --cors-origin: CORS origin "app.example.com"`}, // trim:http
		{args: []string{"--stream-grace", "20s"}, want: "--stream-grace (20s) must not be longer than --shutdown-timeout (15s)"},
		{args: []string{"--shutdown-timeout", "3s"}, want: "--stream-grace (5s) must not be longer than --shutdown-timeout (3s)"},
		{args: []string{"--shutdown-timeout", "3s"}, env: map[string]string{"GREETER_SERVER_STREAM_GRACE": "4s"},
			want: "$GREETER_SERVER_STREAM_GRACE (4s) must not be longer than --shutdown-timeout (3s)"},
		{env: map[string]string{"GREETER_SERVER_SHUTDOWN_TIMEOUT": "-1s"}, want: "invalid $GREETER_SERVER_SHUTDOWN_TIMEOUT -1s: must not be negative"},
		{args: []string{"--stream-grace=-1s"}, want: "invalid --stream-grace -1s: must not be negative"},
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
		"--addr", "$GREETER_SERVER_ADDR", `(default "localhost:50051")`,
		"--tls-cert", "$GREETER_SERVER_TLS_CERT", "--tls-key", "$GREETER_SERVER_TLS_KEY", "--tls-client-ca", "$GREETER_SERVER_TLS_CLIENT_CA",
		"--metrics-addr", "$GREETER_SERVER_METRICS_ADDR", "(default off)", "--reflection", "(default true)",
		"--log-level", `(default "info")`, "--log-format", `(default "text")`,
		"--shutdown-timeout", "(default 15s)", "--stream-grace", "(default 5s)", "--version",
		"--http-addr", "--cors-origin", "$GREETER_SERVER_CORS_ORIGIN", "curl -H", // trim:http
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help output does not contain %q:\n%s", want, out)
		}
	}
	if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "--version print greeter-server's version and the greeter-api version it was built with, and exit") {
		t.Errorf("--help does not say what --version does:\n%s", out)
	}
	// -v is deprecated (TestVersionShorthand), and the version flag has no
	// variable: it is never read from the environment.
	for _, unwanted := range []string{"-v, --version", "version for greeter-server", "$GREETER_SERVER_VERSION", "$GREETER_SERVER_HELP"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("--help output contains %q:\n%s", unwanted, out)
		}
	}
}

// TestHelpExplainsShutdown checks that --help says how --stream-grace and
// --shutdown-timeout relate: both count from the signal, the grace tells
// streams to finish, the timeout cuts whatever is left, and the grace must
// not be longer.
func TestHelpExplainsShutdown(t *testing.T) {
	t.Parallel()
	_, out, err := parse(t, []string{"--help"}, nil)
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"Streams still open --stream-grace after the signal are told to finish and end with UNAVAILABLE",
		"unary calls are not told",
		"Whatever is still open --shutdown-timeout after the signal, unary calls included, is cut",
		"--stream-grace must not be longer than --shutdown-timeout, and should be shorter",
		"--shutdown-timeout duration the hard bound on graceful shutdown",
		"not shorter than --stream-grace",
		"--stream-grace duration how long after SIGINT or SIGTERM open streams may run before they are told to finish",
		"must not be longer than --shutdown-timeout",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("--help does not say %q:\n%s", want, out)
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

// TestVersionShorthand checks that -v, deprecated so that it can come to
// mean --verbose as in greeter-client, still prints the version, alone on
// stdout, with the deprecation on stderr, and serves nothing.
func TestVersionShorthand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		var stdout, stderr bytes.Buffer
		ran := false
		cmd := cli.NewCmd(&stdout, &stderr, func(string) (string, bool) { return "", false }, func(*cobra.Command, *cli.Options) error {
			ran = true
			return nil
		})
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		if err != nil || ran || !strings.HasPrefix(stdout.String(), "greeter-server ") || strings.Count(stdout.String(), "\n") != 1 {
			t.Errorf("greeter-server %s = stdout %q, %v, served %v; want one line with the version, nil, not served", args[0], stdout.String(), err, ran)
		}
		deprecated := strings.Contains(stderr.String(), "-v has been deprecated, use --version")
		if wantDeprecated := args[0] == "-v"; deprecated != wantDeprecated {
			t.Errorf("greeter-server %s: stderr %q; want a deprecation notice: %v", args[0], stderr.String(), wantDeprecated)
		}
	}
}
