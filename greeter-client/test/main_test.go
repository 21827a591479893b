package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binaries built once by TestMain, from this workspace.
var (
	serverBin string
	clientBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "greeter-client-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "greeter-server")
	clientBin = filepath.Join(dir, "greeter-client")
	for bin, pkg := range map[string]string{
		serverBin: "github.com/greeter-go/greeter/greeter-server/cmd/greeter-server",
		clientBin: "github.com/greeter-go/greeter/greeter-client/cmd/greeter-client",
	} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// environWithout returns this process's environment without the variables
// that start with prefix, so a developer's GREETER_* settings (which both
// programs read as flag defaults) cannot change the processes under test.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}
