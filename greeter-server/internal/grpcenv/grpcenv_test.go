package grpcenv

import (
	"os"
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
