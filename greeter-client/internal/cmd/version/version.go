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

const apiModule = "github.com/greeter-go/greeter/greeter-api"

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

// Run prints the versions.
func Run(_ context.Context, opts *Options) error {
	client, api := "(unknown)", "(unknown)"
	if bi, ok := opts.BuildInfo(); ok {
		client = bi.Main.Version
		for _, d := range bi.Deps {
			if d.Path != apiModule {
				continue
			}
			api = d.Version
			switch {
			case api == "(devel)":
				api += " (built from this tree's greeter-api through go.work)"
			case d.Replace != nil:
				api += " (replaced by " + d.Replace.Path + ")"
			}
		}
	}
	v, err := structpb.NewStruct(map[string]any{"greeter_client": client, "greeter_api": api, "go": runtime.Version()})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("greeter-client %s\ngreeter-api %s\n%s", client, api, runtime.Version())
	return output.New(opts.IO.Out, opts.Factory.Options.Output).Print(v, text)
}
