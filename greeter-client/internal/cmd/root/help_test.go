package root_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/root"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// commands returns the name of every command that root.NewCmd registers,
// in order, so tests that cover every command cover a new one without being
// edited. cobra's own help and completion commands are added only when the
// root runs, so they are not among them.
func commands(t *testing.T) []string {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var names []string
	for _, c := range root.NewCmd(ios, &conn.Factory{}, func(string) string { return "" }).Commands() {
		names = append(names, c.Name())
	}
	if len(names) == 0 {
		t.Fatal("root.NewCmd registers no command")
	}
	return names
}

// TestHelp keeps every command's --help deliberate: a change to it shows up
// as a diff of a golden file under testdata/help, one per command (a new
// command gets its file from -update; a file whose command is gone fails the
// test). Rewrite them with go test ./internal/cmd/root -update.
func TestHelp(t *testing.T) {
	t.Parallel()
	commands := append([]string{""}, append(commands(t), "completion")...)
	goldens, err := filepath.Glob(filepath.Join("testdata", "help", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, golden := range goldens {
		name := strings.TrimSuffix(filepath.Base(golden), ".golden")
		if name != "greeter-client" && !slices.Contains(commands, name) {
			if *update {
				if err := os.Remove(golden); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s is the help of no command; if the command is gone, run go test ./internal/cmd/root -update", golden)
		}
	}
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
