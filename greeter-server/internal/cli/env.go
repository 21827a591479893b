package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// env is how a flag falls back to the environment: to the variable named
// prefix and the flag's name in upper case with _ for - (--log-level is
// GREETER_SERVER_LOG_LEVEL), or else, for one more release, to the same name
// with legacyPrefix. A flag on the command line wins over both.
//
// greeter-client's root command has a copy of this type (the two modules are
// released apart); the client's ignores empty variables throughout, as it
// has no flag that an empty value turns off.
type env struct {
	prefix, legacyPrefix string
	lookupEnv            func(string) (string, bool)
	// emptyOK names the flags whose variable counts as set when it is
	// empty, because an empty value means something (an empty address
	// turns its listener off). For every other flag an empty variable is
	// ignored, as an unset one is: compose files and Helm charts often pass
	// "" for "not set".
	emptyOK map[string]bool
	// from maps each flag set from the environment to its variable.
	from map[string]string
	// warnings holds one line for each legacy variable used.
	warnings []string
}

func newEnv(prefix, legacyPrefix string, lookupEnv func(string) (string, bool)) *env {
	return &env{prefix: prefix, legacyPrefix: legacyPrefix, lookupEnv: lookupEnv, from: map[string]string{}, emptyOK: map[string]bool{}}
}

// name is the variable of flag.
func (e *env) name(flag string) string {
	return e.prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// apply sets every flag not given on the command line from its variable, or
// from its legacy variable if only that is set. An empty variable counts as
// unset, except for the flags in emptyOK (an empty address variable turns
// its listener off, as the empty flag does). A repeatable flag takes a
// comma-separated list.
// A bad value is an error naming the variable.
func (e *env) apply(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" || fl.Name == "version" {
			return
		}
		name := e.name(fl.Name)
		lookup := func(name string) (string, bool) {
			v, set := e.lookupEnv(name)
			return v, set && (v != "" || e.emptyOK[fl.Name])
		}
		source := name
		v, set := lookup(name)
		if !set {
			source = e.legacyPrefix + strings.TrimPrefix(name, e.prefix)
			if v, set = lookup(source); !set {
				return
			}
		}
		values := []string{v}
		if t := fl.Value.Type(); t == "stringArray" || t == "stringSlice" {
			values = nil
			if v != "" {
				values = strings.Split(v, ",")
			}
		}
		for _, v := range values {
			if setErr := fl.Value.Set(v); setErr != nil {
				err = fmt.Errorf("invalid $%s %q: %w", source, v, setErr)
				return
			}
		}
		e.from[fl.Name] = source
		if source != name {
			e.warnings = append(e.warnings, fmt.Sprintf("$%s is deprecated and stops working in the release after next; rename it $%s", source, name))
		}
	})
	return err
}

// ref names where the value of flag came from, for an error message:
// "--log-level", or "$GREETER_SERVER_LOG_LEVEL" if the environment set it.
func (e *env) ref(flag string) string {
	if v, ok := e.from[flag]; ok {
		return "$" + v
	}
	return "--" + flag
}
