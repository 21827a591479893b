// Command gomod prints one field of a go.mod file, parsed with
// golang.org/x/mod/modfile, for the scripts that need one: the module path,
// the go version, or the version of a module it requires. It prints nothing
// for a module that is not required.
//
// Usage:
//
//	go -C scripts/tools tool gomod FILE module
//	go -C scripts/tools tool gomod FILE go
//	go -C scripts/tools tool gomod FILE require MODULE
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/modfile"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gomod:", err)
		os.Exit(1)
	}
}

const usage = "usage: gomod FILE module|go|require MODULE"

func run(w io.Writer, args []string) error {
	if len(args) < 2 {
		return errors.New(usage)
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	value, err := field(args[0], data, args[1:])
	if err != nil {
		return err
	}
	if value != "" {
		fmt.Fprintln(w, value)
	}
	return nil
}

// field returns the field of the go.mod file data (named name, for errors)
// that query asks for.
func field(name string, data []byte, query []string) (string, error) {
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return "", err
	}
	switch {
	case len(query) == 1 && query[0] == "module":
		if f.Module == nil {
			return "", fmt.Errorf("%s has no module line", name)
		}
		return f.Module.Mod.Path, nil
	case len(query) == 1 && query[0] == "go":
		if f.Go == nil {
			return "", fmt.Errorf("%s has no go line", name)
		}
		return f.Go.Version, nil
	case len(query) == 2 && query[0] == "require":
		for _, r := range f.Require {
			if r.Mod.Path == query[1] {
				return r.Mod.Version, nil
			}
		}
		return "", nil
	}
	return "", errors.New(usage)
}
