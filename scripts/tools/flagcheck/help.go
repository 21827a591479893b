package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

// A flagInfo is one flag that a command's help lists.
type flagInfo struct {
	long  string // without "--"
	short string // without "-"; "" if none
	// value says that the flag takes its value from the next argument when
	// not given as --flag=value: pflag prints a type (string, duration, ...)
	// for every flag but a bool, and an optional value as [=...].
	value bool
}

// A command is a program or one of its subcommands, as its help shows it.
type command struct {
	path  []string            // the program's name, then the subcommands' names
	flags map[string]flagInfo // every flag it accepts, inherited ones included
	local []flagInfo          // the flags of its "Flags:" section, in order
	subs  map[string]*command
}

func (c *command) String() string { return strings.Join(c.path, " ") }

// shorthand returns the flag of c whose shorthand is s.
func (c *command) shorthand(s string) (flagInfo, bool) {
	for _, f := range c.flags {
		if f.short == s {
			return f, true
		}
	}
	return flagInfo{}, false
}

// A program is a cobra program to check, with its documentation.
type program struct {
	name   string // as the doc names it: greeter-server
	binary string // the executable to run
	doc    string // its Markdown documentation
	root   *command
	all    []*command          // root first, then depth first by name
	every  map[string]flagInfo // every flag of every command
}

// flags returns every flag of every command of p.
func (p *program) flags() map[string]flagInfo { return p.every }

// skippedCommands are cobra's own commands: their flags are cobra's, not
// the program's, and need no documentation of their own.
var skippedCommands = map[string]bool{"help": true, "completion": true}

// maxDepth bounds the subcommands followed, against a program whose help
// lists a command that lists itself.
const maxDepth = 5

// load runs p's binary with --help, and each subcommand's, and sets p.root
// and the rest of p.
func (p *program) load(ctx context.Context) error {
	root, err := p.loadCommand(ctx, nil)
	if err != nil {
		return err
	}
	p.root = root
	p.index()
	return nil
}

// index sets p.all and p.every from p.root.
func (p *program) index() {
	p.all = nil
	var walk func(*command)
	walk = func(c *command) {
		p.all = append(p.all, c)
		for _, name := range slices.Sorted(maps.Keys(c.subs)) {
			walk(c.subs[name])
		}
	}
	walk(p.root)
	p.every = map[string]flagInfo{}
	for _, c := range p.all {
		maps.Copy(p.every, c.flags)
	}
}

func (p *program) loadCommand(ctx context.Context, args []string) (*command, error) {
	if len(args) > maxDepth {
		return nil, fmt.Errorf("%s %s: subcommands nested deeper than %d", p.name, strings.Join(args, " "), maxDepth)
	}
	out, err := runHelp(ctx, p.binary, args)
	if err != nil {
		return nil, err
	}
	h, err := parseHelp(out)
	if err != nil {
		return nil, fmt.Errorf("%s %s --help: %w", p.binary, strings.Join(args, " "), err)
	}
	c := &command{path: append([]string{p.name}, args...), flags: map[string]flagInfo{}, subs: map[string]*command{}}
	for _, f := range h.local {
		c.flags[f.long] = f
		c.local = append(c.local, f)
	}
	for _, f := range h.global {
		c.flags[f.long] = f
	}
	for _, name := range h.commands {
		if skippedCommands[name] {
			continue
		}
		sub, err := p.loadCommand(ctx, append(slices.Clip(args), name))
		if err != nil {
			return nil, err
		}
		c.subs[name] = sub
	}
	return c, nil
}

// runHelp returns what `binary args... --help` prints.
func runHelp(ctx context.Context, binary string, args []string) (string, error) {
	argv := append(slices.Clip(args), "--help")
	cmd := exec.CommandContext(ctx, binary, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", binary, strings.Join(argv, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	if stdout.Len() == 0 {
		return stderr.String(), nil // a program that prints its help on stderr
	}
	return stdout.String(), nil
}

// A help is what parseHelp reads in a command's help.
type help struct {
	local, global []flagInfo
	commands      []string
}

// flagLine is a flag of pflag's FlagUsages: "  -n, --name string   usage" or
// "      --addr string   usage", the type absent for a bool, an optional
// value shown as [=...], then at least two spaces before the usage. The
// exact indentation tells a flag from a wrapped usage line.
var flagLine = regexp.MustCompile(`^(?:  -([^-\s]), |      )--([A-Za-z0-9][^\s\[=]*)(\[=[^\]]*\])?(?: (\S+?)(\[=[^\]]*\])?)?(?:  |$)`)

// parseHelp reads the help that cobra prints: the flags of its "Flags:"
// and "Global Flags:" sections and the commands of its "Available
// Commands:" section (or of command groups: any section titled
// "... Commands:"). Other sections, such as the description or examples,
// are not read, even where they show flags.
func parseHelp(out string) (help, error) {
	var h help
	var section string
	sawFlags := false
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			section = ""
			continue
		}
		if !strings.HasPrefix(line, " ") {
			section = ""
			switch {
			case line == "Flags:" || line == "Global Flags:":
				section = line
				sawFlags = true
			case strings.HasSuffix(line, "Commands:"):
				section = "Commands:"
			}
			continue
		}
		switch section {
		case "Flags:", "Global Flags:":
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				continue // a usage line that wrapped
			}
			f := flagInfo{long: m[2], short: m[1], value: m[4] != "" && m[3] == "" && m[5] == ""}
			if section == "Flags:" {
				h.local = append(h.local, f)
			} else {
				h.global = append(h.global, f)
			}
		case "Commands:":
			if fields := strings.Fields(line); strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
				h.commands = append(h.commands, fields[0])
			}
		}
	}
	if !sawFlags {
		return h, errors.New(`no "Flags:" section: is this cobra's help?`)
	}
	return h, nil
}
