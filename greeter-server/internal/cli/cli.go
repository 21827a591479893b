// Package cli defines the greeter-server command line: its flags, their
// environment variables, and how they become a serve.Config.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/telemetry"
	"github.com/greeter-go/greeter/greeter-server/internal/version"
	"github.com/greeter-go/greeter/greeter-server/internal/web"
)

// EnvPrefix starts the name of the environment variable of every flag:
// --log-level is GREETER_SERVER_LOG_LEVEL. The client's variables start with
// GREETER_CLIENT_, so one shell can configure both programs.
const EnvPrefix = "GREETER_SERVER_"

// LegacyEnvPrefix is the prefix both programs used to share, which made
// GREETER_ADDR a listen address to the server and a target to the client.
// Its names are still read, with a warning, when neither the flag nor the
// new variable is set; they stop working in the release after next.
const LegacyEnvPrefix = "GREETER_"

// Options holds the parsed command line.
type Options struct {
	Config    serve.Config
	LogLevel  string
	LogFormat string
}

// NewCmd returns the greeter-server root command. It prints --help and
// --version to stdout, logs to stderr, and reads environment variables through
// lookupEnv (os.LookupEnv in main). runF, if
// not nil, replaces serving, so tests can check what the flags parse to.
func NewCmd(stdout, stderr io.Writer, lookupEnv func(string) (string, bool), runF func(*cobra.Command, *Options) error) *cobra.Command {
	opts := &Options{}
	env := newEnv(EnvPrefix, LegacyEnvPrefix, lookupEnv)
	env.emptyOK["http-addr"] = true                                          // trim:http
	getenv := func(name string) string { v, _ := lookupEnv(name); return v } // trim:tracing
	reflection := true
	cmd := &cobra.Command{
		Use:   "greeter-server",
		Short: "Serve the Greeter gRPC API",
		// One paragraph each, so that scripts/trim.sh can remove a part's.
		Long: strings.Join([]string{`greeter-server serves greeter.v1.GreeterService, with the standard gRPC
health service and server reflection. Its gRPC listener (--addr) serves
native gRPC, on grpc-go's own HTTP/2 transport: for gRPC clients
(greeter-client, grpcurl, ghz) and service meshes.`,
			// trim:helloworld begin
			`It serves the canonical helloworld.Greeter service too, so that gRPC's
helloworld examples in every language can call it.`,
			// trim:helloworld end
			// trim:http begin
			`Its HTTP listener (--http-addr) serves HTTP/1.1 and HTTP/2 (h2c, or TLS):
the Connect protocol (JSON or binary protobuf, so curl can call it),
gRPC-Web, native gRPC too, the greeting page at / (/?name=Ann greets at
once) and GET /healthz (200 while serving, 503 otherwise). It decides per
request, so a proxy may send any mix over one connection. For example:

  curl -H 'Content-Type: application/json' -d '{"name":"Ann"}' \
    http://localhost:8080/greeter.v1.GreeterService/SayHello`,
			// trim:http end
			`On SIGINT or SIGTERM the server shuts down gracefully: health reports
NOT_SERVING, no new connections or calls are accepted, and open calls may
finish. Streams still open --stream-grace after the signal are told to
finish and end with UNAVAILABLE, which tells their clients to retry;
unary calls are not told. Whatever is still open --shutdown-timeout after
the signal, unary calls included, is cut. So --stream-grace must not be
longer than --shutdown-timeout, and should be shorter, to leave streams
time to end before they are cut. A second signal stops the server at once.`,
			`Every flag can also be set by the environment variable named after it:
--log-level is GREETER_SERVER_LOG_LEVEL. A flag on the command line wins.
The old names without SERVER_ (GREETER_LOG_LEVEL) still work for one
release, with a warning.`,
			tracingHelp, // trim:tracing
		}, "\n\n"),
		Version:       version.Get().String(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return env.apply(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(stderr, env, opts.LogLevel, opts.LogFormat)
			if err != nil {
				return err
			}
			for _, w := range env.warnings {
				logger.Warn(w)
			}
			// trim:tracing begin
			tracing, err := telemetry.FromEnv(cmd.Context(), getenv, "greeter-server", version.Get().Server)
			if err != nil {
				return fmt.Errorf("tracing: %w", err)
			}
			if tracing != nil {
				logger = slog.New(telemetry.LogHandler(logger.Handler()))
				logger.Info("tracing on", "exporter", tracesExporter(getenv))
			}
			// serve.Run flushes the spans when it shuts down; this stops
			// tracing on the paths that never get there (a port in use).
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_ = tracing.Shutdown(ctx)
			}()
			opts.Config.Tracing = tracing
			// trim:tracing end
			opts.Config.Logger = logger
			opts.Config.Version = version.Get().Server
			opts.Config.DisableReflection = !reflection
			if opts.Config.Addr == "" {
				return fmt.Errorf("%s must not be empty: the gRPC listener cannot be turned off (use :50051 for every interface)", env.ref("addr"))
			}
			if err := checkShutdown(env, opts.Config.ShutdownTimeout, opts.Config.StreamGrace); err != nil {
				return err
			}
			// trim:http begin
			for _, origin := range opts.Config.CORSOrigins {
				if err := web.CheckOrigin(origin); err != nil {
					return fmt.Errorf("invalid --cors-origin: %w", err)
				}
			}
			// trim:http end
			if runF != nil {
				return runF(cmd, opts)
			}
			return serve.Run(cmd.Context(), opts.Config, nil)
		},
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetErr(stderr)
	cmd.SetOut(stdout)

	f := cmd.Flags()
	f.StringVar(&opts.Config.Addr, "addr", "localhost:50051", "TCP address of the gRPC listener (native gRPC); the default accepts loopback connections only, use :50051 for every interface")
	f.StringVar(&opts.Config.HTTPAddr, "http-addr", "localhost:8080", "TCP address of the HTTP listener (Connect, gRPC-Web, gRPC, the page, /healthz; HTTP/1.1 and HTTP/2, TLS with the same --tls-* flags); use :8080 for every interface, empty to turn it off") // trim:http
	f.StringVar(&opts.Config.TLS.Cert, "tls-cert", "", "PEM certificate (chain) file; with --tls-key, serve TLS 1.2+ instead of plaintext (default off)")
	f.StringVar(&opts.Config.TLS.Key, "tls-key", "", "PEM private key file of --tls-cert (default off)")
	f.StringVar(&opts.Config.TLS.ClientCA, "tls-client-ca", "", "PEM file of CA certificates; require and verify a client certificate signed by one of them (mutual TLS; with --oidc-issuer a client may connect without one and send a bearer token instead; default off)")
	f.StringVar(&opts.Config.Auth.OIDCIssuer, "oidc-issuer", "", "OIDC issuer URL (https://; http:// only on loopback), such as a Kubernetes cluster's service-account issuer; every call but health checks must then carry authorization: Bearer <JWT> signed by the issuer's published keys (or, with --tls-client-ca, a client certificate) (default off)")
	f.StringVar(&opts.Config.Auth.OIDCAudience, "oidc-audience", "", "the audience (aud) bearer tokens must be issued for, such as greeter-server; required with --oidc-issuer")
	f.StringVar(&opts.Config.Auth.PolicyFile, "authz-policy", "", "gRPC authorization policy file (JSON, the format of grpc-go's authz package): which callers may call which methods; reloaded when it changes, a broken file keeps the last good policy; a token's subject is the header x-jwt-subject (default off: every authenticated caller may call every method)")
	f.StringVar(&opts.Config.MetricsAddr, "metrics-addr", "", "TCP address of a Prometheus /metrics endpoint, such as localhost:9090 (default off)")
	f.StringVar(&opts.Config.AdminAddr, "admin-addr", "", "TCP address of the admin listener for live debugging, such as localhost:6060: Go's pprof over HTTP at /debug/pprof/ and gRPC channelz; plaintext and unauthenticated, keep it on loopback (default off)")
	f.StringVar(&opts.LogLevel, "log-level", "info", "lowest level logged: debug, info, warn or error; debug adds one access log line per call")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&opts.Config.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "the hard bound on graceful shutdown: whatever is still open this long after SIGINT or SIGTERM, unary calls and streams alike, is cut; not shorter than --stream-grace")
	f.DurationVar(&opts.Config.StreamGrace, "stream-grace", 5*time.Second, "how long after SIGINT or SIGTERM open streams may run before they are told to finish, ending with UNAVAILABLE so that their clients retry (unary calls are not told); must not be longer than --shutdown-timeout, and should be shorter, to leave streams time to end before they are cut")
	f.StringSliceVar(&opts.Config.CORSOrigins, "cors-origin", nil, "an origin (scheme://host[:port]) whose web pages may call the API over Connect and gRPC-Web; repeat the flag or separate origins with commas; the server's own page needs none (default none: other origins are refused)") // trim:http
	f.BoolVar(&reflection, "reflection", true, "serve gRPC server reflection, so tools such as grpcurl can list and call the API without its proto files")
	f.VisitAll(func(fl *pflag.Flag) {
		fl.Usage += fmt.Sprintf(" [$%s]", env.name(fl.Name))
	})
	// Declared here, after the variables are named, since none sets it:
	// cobra's own would say "version for greeter-server" and take -v, which
	// greeter-client uses for --verbose. -v still works for now, with a
	// notice on stderr (not stdout, where the version goes).
	f.BoolP("version", "v", false, "print greeter-server's version and the greeter-api version it was built with, and exit")
	_ = f.MarkShorthandDeprecated("version", "use --version; -v is to mean --verbose, as in greeter-client")
	f.SetOutput(stderr)
	return cmd
}

// checkShutdown refuses a shutdown timeout and stream grace that cannot
// work together: negative ones, and a grace longer than the timeout, which
// would cut streams before they are told to finish. serve.Run refuses the
// latter too; here the message names the variable that set a value.
func checkShutdown(env *env, timeout, grace time.Duration) error {
	switch {
	case timeout < 0:
		return fmt.Errorf("invalid %s %v: must not be negative", env.ref("shutdown-timeout"), timeout)
	case grace < 0:
		return fmt.Errorf("invalid %s %v: must not be negative", env.ref("stream-grace"), grace)
	case grace > timeout:
		return fmt.Errorf("%s (%v) must not be longer than %s (%v): streams would be cut before they are told to finish",
			env.ref("stream-grace"), grace, env.ref("shutdown-timeout"), timeout)
	}
	return nil
}

func newLogger(w io.Writer, env *env, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid %s %q: want debug, info, warn or error", env.ref("log-level"), level)
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	default:
		return nil, fmt.Errorf("invalid %s %q: want text or json", env.ref("log-format"), format)
	}
}
