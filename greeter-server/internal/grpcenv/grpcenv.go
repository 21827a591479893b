// Package grpcenv sets the grpc-go settings that grpc-go reads only from the
// environment, once, while its packages initialize. Importing it (blank)
// from package main makes them part of the binary, so a deployment is safe
// without setting anything; a variable the environment already sets wins.
//
// It has to take effect before grpc-go's own initialization, and Go
// initializes packages in the order of their import paths among those whose
// imports are done (the Go spec, "Package initialization"). This package
// imports only what grpc-go's internal/envconfig imports too (os) or what
// is initialized before everything (runtime, syscall), so it is ready
// whenever envconfig is, and runs first exactly when its import path sorts
// before "google.golang.org/grpc/internal/envconfig": for this repository's
// path (github.com/...) it does, and setting the variable is enough; a test
// of the built binary (greeter-server/test) shows the order. Under a module
// path that sorts after it (a copy renamed to zoo.example/..., say), grpc-go
// has read its environment before this runs, so the process starts itself
// again, at once, with the variable set (scripts/test-rename.sh renames to
// such a path and checks the running server's environment). Setting the
// variable yourself, as a debugger that should not see a second exec may
// want, skips all of this.
//
// This is the one init function in the repository with an effect outside
// itself, because grpc-go offers no other way.
package grpcenv

import (
	"os"
	"runtime"
	"syscall"
)

// ControlBufferThrottleLimit is how many control frames (SETTINGS and PING
// acknowledgements, stream resets) grpc-go queues for a connection that does
// not read them before it stops reading that connection. grpc-go 1.85 raised
// its default from 100 to 10,000 frames; a client that floods SETTINGS
// frames (each holding up to 2,700 settings) and never reads then held
// 300-400 MiB of the server's memory, and a flood of opened and reset
// streams 600-800 MiB. 100 queued frames is more than any well-behaved
// client causes, and holds those floods to a few MiB.
const ControlBufferThrottleLimit = "100"

// controlBufferVariable is grpc-go's (experimental) name for that setting.
const controlBufferVariable = "GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT"

// envconfigPath is the package that reads grpc-go's environment.
const envconfigPath = "google.golang.org/grpc/internal/envconfig"

func init() {
	if _, set := os.LookupEnv(controlBufferVariable); set {
		return
	}
	if err := os.Setenv(controlBufferVariable, ControlBufferThrottleLimit); err != nil {
		return
	}
	if path := packagePath(); path == "" || path < envconfigPath {
		return // this init ran first: grpc-go will read the variable
	}
	exe, err := os.Executable()
	if err == nil {
		err = syscall.Exec(exe, os.Args, os.Environ()) //nolint:gosec // this very binary, with its own arguments
	}
	// Still here: the exec failed. Serve on, unprotected, and say so (with
	// os alone: fmt would make this package wait for more initialization
	// than envconfig does).
	_, _ = os.Stderr.WriteString(os.Args[0] + ": cannot restart with " + controlBufferVariable + "=" + ControlBufferThrottleLimit +
		" set (" + err.Error() + "); grpc-go keeps its default control buffer limit: set the variable in the environment\n")
}

// packagePath returns this package's import path, from the name the
// runtime gives this function ("path/to/grpcenv.packagePath"); "" if the
// runtime cannot say.
func packagePath() string {
	pc, _, _, ok := runtime.Caller(0)
	f := runtime.FuncForPC(pc)
	if !ok || f == nil {
		return ""
	}
	name := f.Name()
	slash := 0
	for i := range len(name) {
		if name[i] == '/' {
			slash = i
		}
	}
	for i := slash; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return ""
}
