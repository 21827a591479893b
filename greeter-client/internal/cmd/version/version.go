// Package version implements "greeter-client version", which prints the
// client's module version and the greeter-api version it was built with.
package version

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
	"github.com/greeter-go/greeter/greeter-client/internal/output"
)

const (
	clientModule = "github.com/greeter-go/greeter/greeter-client"
	apiModule    = "github.com/greeter-go/greeter/greeter-api"
)

// stamped, when a build sets it with
//
//	-ldflags '-X github.com/greeter-go/greeter/greeter-client/internal/cmd/version.stamped=v0.2.0'
//
// is the client's version: a build from the source tree needs it, for there
// the Go toolchain can only say "(devel)". It follows greeter-server's
// internal/version, so both binaries report their versions by the same rules.
var stamped string

// Options are the inputs of one run of version.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *conn.Factory
	// BuildInfo reads the build information; tests replace it.
	BuildInfo func() (*debug.BuildInfo, bool)
}

// NewCmd returns the version command. If runF is not nil it runs instead
// of printing.
func NewCmd(ios *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Factory: f, BuildInfo: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the client's version and the greeter-api version it was built with",
		Long: `Print greeter-client's module version, the greeter-api version it was built
with, and the Go version. A build from a source tree says "(devel)"; a
greeter-api taken from the tree instead of a release says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
}

// Versions returns the client's and greeter-api's versions from the build
// information bi (ok false: none) and the link-time stamp: the stamp if set,
// else the main module's version; greeter-api's as required, noting a
// replacement by a directory. What is not known is "unknown".
func Versions(bi *debug.BuildInfo, ok bool, stamp string) (client, api string) {
	client, api = "unknown", "unknown"
	if stamp != "" {
		client = stamp
	}
	if !ok {
		return client, api
	}
	if bi.Main.Path == clientModule && bi.Main.Version != "" && stamp == "" {
		client = bi.Main.Version
	}
	for _, dep := range bi.Deps {
		if dep.Path == apiModule {
			api = dep.Version
			if dep.Replace != nil && dep.Replace.Version == "" {
				api += " (from " + dep.Replace.Path + ")"
			}
		}
	}
	return client, api
}

// Run prints the versions.
func Run(_ context.Context, opts *Options) error {
	client, api := Versions(nil, false, stamped)
	if bi, ok := opts.BuildInfo(); ok {
		client, api = Versions(bi, true, stamped)
	}
	v, err := structpb.NewStruct(map[string]any{"greeter_client": client, "greeter_api": api, "go": runtime.Version()})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("greeter-client %s\ngreeter-api %s\n%s", client, api, runtime.Version())
	return output.New(opts.IO.Out, opts.Factory.Options.Output).Print(v, text)
}
