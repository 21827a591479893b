package root_test

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/root"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

// TestShorthands checks that a shorthand letter means one long flag in
// every command, global flags and cobra's help and completion commands
// included, so that -n in one command is not something else in the next.
// Deprecated shorthands, which keep old scripts working for a while, are
// left out.
func TestShorthands(t *testing.T) {
	t.Parallel()
	ios, _, _, _ := iostreams.Test()
	cmd := root.NewCmd(ios, &conn.Factory{}, func(string) string { return "" })
	// Cobra adds these when it executes; the walk must see them.
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultCompletionCmd()

	type use struct{ flag, command string }
	first := map[string]use{} // by shorthand
	commands := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		commands++
		c.InitDefaultHelpFlag()
		visit := func(f *pflag.Flag) {
			if f.Shorthand == "" || f.ShorthandDeprecated != "" {
				return
			}
			u, ok := first[f.Shorthand]
			if !ok {
				first[f.Shorthand] = use{flag: f.Name, command: c.CommandPath()}
				return
			}
			if u.flag != f.Name {
				t.Errorf("-%s is --%s in %q, but --%s in %q", f.Shorthand, u.flag, u.command, f.Name, c.CommandPath())
			}
		}
		c.LocalFlags().VisitAll(visit)
		c.InheritedFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)

	// The walk must have seen the commands and their flags, or it checked
	// nothing.
	if commands < 10 {
		t.Errorf("walked %d commands, want every command of greeter-client", commands)
	}
	for short, long := range map[string]string{"n": "name", "c": "count", "h": "help", "o": "output"} {
		if got := first[short].flag; got != long {
			t.Errorf("-%s is %q, want --%s", short, "--"+got, long)
		}
	}
}
