package root

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// env is how a flag falls back to the environment: to the variable named
// prefix and the flag's name in upper case with _ for - (--timeout is
// GREETER_CLIENT_TIMEOUT), or else, for one more release, to the same name
// with legacyPrefix. A flag on the command line wins over both.
//
// greeter-server's internal/cli has the same type with the same behaviour;
// the two modules are released apart, so each keeps its copy.
type env struct {
	prefix, legacyPrefix string
	getenv               func(string) string
	// from maps each flag set from the environment to its variable.
	from map[string]string
	// warnings holds one line for each legacy variable used.
	warnings []string
}

// noLegacyEnv is the annotation of a flag added after the variables were
// renamed: it never had a legacy variable, so none is read for it.
const noLegacyEnv = "greeter-client/no-legacy-env"

func newEnv(prefix, legacyPrefix string, getenv func(string) string) *env {
	return &env{prefix: prefix, legacyPrefix: legacyPrefix, getenv: getenv, from: map[string]string{}}
}

// name is the variable of flag.
func (e *env) name(flag string) string {
	return e.prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// apply sets every flag not given on the command line from its variable, or
// from its legacy variable if only that is set. A repeatable flag takes a
// comma-separated list. A bad value is an error naming the variable.
func (e *env) apply(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" || fl.Name == "version" {
			return
		}
		name := e.name(fl.Name)
		source, v := name, e.getenv(name)
		if _, ok := fl.Annotations[noLegacyEnv]; v == "" && ok {
			return
		}
		if v == "" {
			source = e.legacyPrefix + strings.TrimPrefix(name, e.prefix)
			if v = e.getenv(source); v == "" {
				return
			}
		}
		values := []string{v}
		if t := fl.Value.Type(); t == "stringArray" || t == "stringSlice" {
			values = strings.Split(v, ",")
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
// "--timeout", or "$GREETER_CLIENT_TIMEOUT" if the environment set it.
func (e *env) ref(flag string) string {
	if v, ok := e.from[flag]; ok {
		return "$" + v
	}
	return "--" + flag
}
