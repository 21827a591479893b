package test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Binaries built once by TestMain, from this workspace.
var (
	serverBin string
	clientBin string
)

func TestMain(m *testing.M) {
	// -short is the inner loop's unit tests (go test -short work): these
	// build and run the real binaries, so they wait for the full run.
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping the system tests, which build and run the real programs: -short")
		os.Exit(0)
	}
	// The binaries are built here, outside the test binary, where go test's
	// result cache cannot see them: run these tests with -count=1 (as
	// scripts/test.sh does), or a change to either program alone may find
	// an old result cached.
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
	go runOnInterrupt()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// environWithoutGreeter returns this process's environment without the
// GREETER_* variables, so a developer's settings (which both programs read as
// flag defaults) cannot change the processes under test.
func environWithoutGreeter() []string {
	const prefix = "GREETER_"
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

var interruptCleanups struct {
	sync.Mutex
	fns []func()
}

// onInterrupt registers f to run if the test binary is stopped by SIGINT or
// SIGTERM, when t.Cleanup functions do not run; tests that change the
// machine (network namespaces) use it to undo what they did.
func onInterrupt(f func()) {
	interruptCleanups.Lock()
	defer interruptCleanups.Unlock()
	interruptCleanups.fns = append(interruptCleanups.fns, f)
}

func runOnInterrupt() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	interruptCleanups.Lock()
	for _, f := range interruptCleanups.fns {
		f()
	}
	fmt.Fprintf(os.Stderr, "interrupted by %v; cleaned up\n", s)
	os.Exit(1)
}
