// Package helloagain implements "greeter-client hello-again", which calls
// SayHelloAgain. It shares its flags and run with package hello.
package helloagain

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hello"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// NewCmd returns the hello-again command. If runF is not nil it runs instead
// of the real call.
func NewCmd(io *iostreams.IOStreams, f *conn.Factory, runF func(context.Context, *hello.Options) error) *cobra.Command {
	return hello.NewCmdAgain(io, f, runF)
}
