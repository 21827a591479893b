// Package version reports which version of greeter-server is running and
// which greeter-api it was built with, from the build information the Go
// toolchain embeds in the binary.
package version

import (
	"fmt"
	"runtime/debug"
)

const (
	serverModule = "github.com/greeter-go/greeter/greeter-server"
	apiModule    = "github.com/greeter-go/greeter/greeter-api"
)

// stamped, when a build sets it with
//
//	-ldflags '-X github.com/greeter-go/greeter/greeter-server/internal/version.stamped=v0.2.0'
//
// is the server's version. A build from the source tree needs it: there the
// Go toolchain can only say "(devel)". scripts/image.sh sets it from git.
var stamped string

// Info is the version of the running server and of the greeter-api it was
// built with. A version is "(devel)" in an unstamped build from a source
// tree, and "unknown" if the binary carries no build information.
type Info struct {
	Server string
	API    string
}

// Get returns the versions embedded in the running binary.
func Get() Info {
	info := Info{Server: "unknown", API: "unknown"}
	if stamped != "" {
		info.Server = stamped
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Path == serverModule && bi.Main.Version != "" && stamped == "" {
		info.Server = bi.Main.Version
	}
	for _, dep := range bi.Deps {
		if dep.Path == apiModule {
			info.API = dep.Version
			if dep.Replace != nil && dep.Replace.Version == "" {
				info.API += " (from " + dep.Replace.Path + ")"
			}
		}
	}
	return info
}

// String formats i as one line, such as
// "greeter-server v0.2.0 (greeter-api v0.1.0)".
func (i Info) String() string {
	return fmt.Sprintf("greeter-server %s (greeter-api %s)", i.Server, i.API)
}
