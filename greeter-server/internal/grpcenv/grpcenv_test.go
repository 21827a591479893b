package grpcenv

import (
	"os"
	"strings"
	"testing"
)

// TestInitSetsControlBufferLimit checks what init did in this test binary:
// the limit is set, unless the environment this test started in set it.
func TestInitSetsControlBufferLimit(t *testing.T) {
	want := ControlBufferThrottleLimit
	if preset, ok := startEnv[controlBufferVariable]; ok {
		want = preset
	}
	if got := os.Getenv(controlBufferVariable); got != want {
		t.Errorf("%s = %q after init, want %q", controlBufferVariable, got, want)
	}
}

// startEnv is the setting as the process started: a package's variables are
// initialized before its init functions run.
var startEnv = func() map[string]string {
	env := map[string]string{}
	if v, ok := os.LookupEnv(controlBufferVariable); ok {
		env[controlBufferVariable] = v
	}
	return env
}()

// TestPackagePath: init decides whether to start again by this package's
// import path, which it reads from the runtime.
func TestPackagePath(t *testing.T) {
	got := packagePath()
	if !strings.HasSuffix(got, "/greeter-server/internal/grpcenv") {
		t.Errorf("packagePath() = %q, want this package's import path", got)
	}
	// This repository's path sorts before grpc-go's envconfig, so init
	// only sets the variable; a renamed copy may not (test-rename.sh).
	if strings.HasPrefix(got, "github.com/") && got >= envconfigPath {
		t.Errorf("%q sorts after %q", got, envconfigPath)
	}
}
