package root_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// TestHelp keeps every command's --help deliberate: a change to it shows up
// as a diff of a golden file under testdata/help. Rewrite them with
// go test ./internal/cmd/root -update.
func TestHelp(t *testing.T) {
	t.Parallel()
	commands := []string{"", "hello", "hello-again", "hello-stream", "hello-group", "chat", "health", "bench", "version", "completion"}
	for _, command := range commands {
		args := append(strings.Fields(command), "--help")
		out, errOut, code := run(t, "", nil, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("greeter-client %v: exit code %d, stderr %q", args, code, errOut)
		}
		name := command
		if name == "" {
			name = "greeter-client"
		}
		golden := filepath.Join("testdata", "help", name+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v; run go test ./internal/cmd/root -update", err)
		}
		if out != string(want) {
			t.Errorf("greeter-client %v differs from %s; if the change is deliberate, run go test ./internal/cmd/root -update\ngot:\n%s", args, golden, out)
		}
	}
}
