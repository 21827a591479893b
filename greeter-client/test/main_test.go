package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
