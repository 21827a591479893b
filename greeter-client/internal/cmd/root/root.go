// Package root assembles greeter-client's command tree and its global flags,
// reads their GREETER_CLIENT_* environment fallbacks, and turns the outcome of a
// run into an exit code.
package root

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/bench"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/chat"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/health"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/helloagain"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hellogroup"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hellostream"
	"github.com/greeter-go/greeter/greeter-client/internal/cmd/version"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
	"github.com/greeter-go/greeter/greeter-client/internal/telemetry"
)

// EnvPrefix starts the name of every global flag's environment fallback:
// --connect-timeout falls back to GREETER_CLIENT_CONNECT_TIMEOUT. The
// server's variables start with GREETER_SERVER_, so one shell can configure
// both programs.
const EnvPrefix = "GREETER_CLIENT_"

// LegacyEnvPrefix is the prefix both programs used to share, which made
// GREETER_ADDR a target to the client and a listen address to the server.
// Its names are still read, with a warning, when neither the flag nor the
// new variable is set; they stop working in the release after next.
const LegacyEnvPrefix = "GREETER_"

// TokenEnv holds a bearer token sent with every call. It is a variable and
// never a flag, so that the token does not show in the process list;
// --token-file is the other way to give one.
const TokenEnv = EnvPrefix + "TOKEN"

// NewCmd returns the greeter-client root command with every subcommand.
// getenv looks up the environment fallbacks of the global flags.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, getenv func(string) string) *cobra.Command {
	env := newEnv(EnvPrefix, LegacyEnvPrefix, getenv)
	cmd := &cobra.Command{
		Use:   "greeter-client <command> [flags]",
		Short: "Call the Greeter gRPC API",
		// One paragraph each, so that scripts/trim.sh can remove a part's.
		Long: strings.Join([]string{
			`greeter-client calls a Greeter server, such as greeter-server.`,
			// trim:helloworld begin
			`With --api helloworld it calls any server of gRPC's canonical helloworld
example instead.`,
			// trim:helloworld end
			`Every global flag falls back to an environment variable, named in its help;
a flag on the command line wins. The old names without CLIENT_
(GREETER_ADDR) still work for one release, with a warning.`,
			tracingHelp, // trim:tracing
			`A bearer token goes with every call, as "authorization: Bearer TOKEN", when
--token-file names a file holding it, or $GREETER_CLIENT_TOKEN holds the
token itself (a variable, never a flag, so that it does not show in ps);
setting both is a usage error. The file is read again when it changes, as
Kubernetes rotates a projected service-account token. Without TLS, the
token is sent only to a loopback address (localhost, 127.0.0.0/8, ::1, a
unix socket), unless --insecure-token allows it.`,
			`Results go to stdout; diagnostics and errors go to stderr. A call that
fails before any response prints nothing on stdout; streaming commands keep
the greetings that arrived before the failure, and bench always prints its
report.`,
			exitcode.Table,
		}, "\n\n"),
		Example: `  greeter-client hello --name Ada
  greeter-client --addr dns:///greeter.example.com:443 --tls hello -n Ada
  printf 'ann\nbob\n' | greeter-client chat
  GREETER_CLIENT_OUTPUT=json greeter-client hello-stream -n Ada | jq .sequence`,
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		// Root runs only when no command matched: an unknown command is a
		// usage error, not a help page with exit code 0.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return exitcode.Usagef("%s; run 'greeter-client --help' for the commands", msg)
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			err := env.apply(cmd.Root().PersistentFlags())
			for _, w := range env.warnings {
				fmt.Fprintln(ios.ErrOut, "greeter-client: warning:", w)
			}
			if err != nil {
				return &exitcode.UsageError{Err: err}
			}
			f.Options.Token = getenv(TokenEnv)
			return validate(env, &f.Options)
		},
	}
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.Usagef("%v; run '%s --help' for usage", err, c.CommandPath())
	})

	o := &f.Options
	fl := cmd.PersistentFlags()
	fl.StringVar(&o.Addr, "addr", "localhost:50051", "gRPC target of the server: host:port, dns:///host:port, unix:///path, ...")
	fl.DurationVar(&o.Timeout, "timeout", 10*time.Second, "deadline of every call, streams included; in chat, of each greeting, not of the whole chat (must be > 0)")
	fl.DurationVar(&o.ConnectTimeout, "connect-timeout", 5*time.Second, "how long to wait for a connection")
	fl.BoolVar(&o.TLS, "tls", false, "use TLS (implied by --ca, --cert, --key and --server-name)")
	fl.StringVar(&o.CA, "ca", "", "PEM file of the CA certificates that verify the server (default: the system's)")
	fl.StringVar(&o.Cert, "cert", "", "PEM client certificate for mutual TLS (needs --key)")
	fl.StringVar(&o.Key, "key", "", "PEM private key of --cert")
	fl.StringVar(&o.ServerName, "server-name", "", "name to verify the server's certificate against (default: the host of --addr)")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "metadata key=value sent with every call (repeatable; the variable takes a comma-separated list)")
	fl.StringVar(&o.TokenFile, "token-file", "", "file holding a bearer token sent with every call, read again when it changes (or give the token itself in $"+TokenEnv+")")
	fl.BoolVar(&o.InsecureToken, "insecure-token", false, "send the token even without TLS to a non-loopback address: anyone on the path can read and replay it")
	// Flags newer than the rename of the variables have no legacy name.
	for _, name := range []string{"token-file", "insecure-token"} {
		_ = fl.SetAnnotation(name, noLegacyEnv, []string{"true"})
	}
	fl.StringVarP(&o.Output, "output", "o", output.Text, "output format: text, or json (one protojson object per response and line)")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "print headers, trailers, status and timing of each call on stderr")
	fl.StringVar(&o.API, "api", greeter.APIGreeterV1, "API to call: "+strings.Join(greeter.APIs(), " or "))
	fl.StringVar(&o.Compress, "compress", "", "compress every request with this compressor: gzip (the server answers compressed in kind; default none)")
	fl.VisitAll(func(fl *pflag.Flag) {
		fl.Usage += fmt.Sprintf(" [$%s]", env.name(fl.Name))
	})

	cmd.AddCommand(
		hello.NewCmd(ios, f, nil),
		helloagain.NewCmd(ios, f, nil),
		hellostream.NewCmd(ios, f, nil),
		hellogroup.NewCmd(ios, f, nil),
		chat.NewCmd(ios, f, nil),
		health.NewCmd(ios, f, nil),
		bench.NewCmd(ios, f, nil),
		version.NewCmd(ios, f, nil),
	)
	for _, c := range cmd.Commands() {
		c.Args = usageArgs(c.Args)
	}
	return cmd
}

// usageArgs makes an argument check report a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return exitcode.Usagef("%v; run '%s --help' for usage", err, cmd.CommandPath())
		}
		return nil
	}
}

func validate(env *env, o *conn.Options) error {
	switch {
	case o.Timeout <= 0:
		return exitcode.Usagef("%s must be more than 0, got %s: every call has a deadline", env.ref("timeout"), o.Timeout)
	case o.ConnectTimeout <= 0:
		return exitcode.Usagef("%s must be more than 0, got %s", env.ref("connect-timeout"), o.ConnectTimeout)
	case o.Output != output.Text && o.Output != output.JSON:
		return exitcode.Usagef("%s must be text or json, got %q", env.ref("output"), o.Output)
	case !slices.Contains(greeter.APIs(), o.API):
		return exitcode.Usagef("%s must be %s, got %q", env.ref("api"), strings.Join(greeter.APIs(), " or "), o.API)
	case o.Compress != "" && !slices.Contains(conn.Compressors, o.Compress):
		return exitcode.Usagef("%s must be %s, got %q", env.ref("compress"), strings.Join(conn.Compressors, " or "), o.Compress)
	}
	// Before any command reads its input: how the token is given is a
	// mistake to report at once.
	return o.CheckToken()
}

// Main runs greeter-client with args and returns its exit code. Errors are
// printed on stderr as one line.
func Main(ctx context.Context, ios *iostreams.IOStreams, args []string, getenv func(string) string) int {
	f := &conn.Factory{Warn: func(err error) { fmt.Fprintln(ios.ErrOut, "greeter-client: warning:", err) }}
	// trim:tracing begin
	// With tracing on (see package telemetry), every call is traced, and the
	// spans are flushed before Main returns, whatever the outcome.
	tracing, tracingErr := telemetry.FromEnv(ctx, getenv)
	if tracingErr != nil {
		fmt.Fprintln(ios.ErrOut, "greeter-client: tracing:", tracingErr)
		return exitcode.Usage
	}
	defer func() {
		if err := tracing.Shutdown(); err != nil {
			fmt.Fprintln(ios.ErrOut, "greeter-client: warning: spans may be lost:", err)
		}
	}()
	if tracing != nil {
		f.DialOptions = append(f.DialOptions, tracing.DialOption())
	}
	// trim:tracing end
	defer f.Close()
	cmd := NewCmd(ios, f, getenv)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(ios.ErrOut, "greeter-client: interrupted")
		return exitcode.Interrupted
	}
	if err != nil {
		fmt.Fprintln(ios.ErrOut, "greeter-client:", err)
	}
	return exitcode.Code(err)
}
