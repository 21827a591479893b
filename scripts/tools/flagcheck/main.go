// Command flagcheck checks that cobra programs and their documentation
// agree on the programs' flags. scripts/check-docs.sh runs it.
//
// Usage:
//
//	flagcheck -program NAME=BINARY=DOC [-program NAME=BINARY=DOC ...] [-doc FILE ...]
//
// NAME is the program's name as its docs write it (greeter-server), BINARY
// the executable to ask, DOC its Markdown documentation; several programs
// may share one DOC. flagcheck runs BINARY --help, then BINARY SUB --help
// for every subcommand that the help lists under "Available Commands:"
// (recursively; not cobra's own help and completion commands), and reads
// the flags of each "Flags:" and "Global Flags:" section (hidden and
// deprecated flags and shorthands are not listed there, so they do not
// count). Each -doc FILE is another document, checked by rule (b) alone:
// it need not mention every flag, but every flag it shows must exist.
// Then it checks three rules:
//
//	(a) DOC mentions every flag of NAME but --help, as --flag: a whole
//	    word, so --name-file does not mention --name.
//	(b) Every flag that DOC shows is a flag, of the command it is shown with
//	    where flagcheck can tell which that is (below).
//	(c) A shorthand means one long flag in every command of every program
//	    given: -n is --name everywhere it exists, or --total everywhere.
//
// For rule (b), flagcheck reads DOC as Markdown and decides, for each flag
// it shows, whose flag it is:
//
//   - A command line, in a code block or a code span, that runs one of the
//     programs: its command word (after a $ prompt, VAR=value assignments
//     and wrappers such as sudo and env) names it, bare or as a path
//     (./greeter-server), or it is `go run` of a package whose last element
//     names it, or `docker run` (podman, nerdctl) of an image reference
//     with a registry or tag whose name it is (ghcr.io/o/greeter-server:v1).
//     Its arguments are read as cobra reads them: subcommand names select
//     the command, and every --flag and -x shorthand must be one of that
//     command's, inherited ones included. A placeholder where a subcommand
//     may be (<command>, COMMAND) accepts any flag of the program.
//   - A code span that starts with a subcommand name, as in a table of
//     commands (`hello [--name NAME]`), is read the same way, as that
//     subcommand of DOC's program (or else of another program given).
//   - A code span that starts with a --flag (`--addr`, `--tls-cert FILE`),
//     and a --flag in prose, must be a flag of one of the programs given:
//     a doc may name another program's flags. --tls-* matches any flag
//     that starts with --tls-.
//   - Anything else is another tool's command (curl --data, kubectl get
//     --raw, go test -run), output, or configuration, and is not read: a
//     flag of ours there cannot be told from theirs.
//
// A doc that shows a third-party flag on its own, outside its command,
// allows it in an HTML comment: <!-- flagcheck: allow --enable-feature -->.
// There is no built-in list of such flags: each name on it would hide a
// flag of ours gone stale under the same name (--header, --data).
//
// flagcheck prints each problem on a line, FILE:LINE: message for a flag a
// doc shows, and exits 1 if there is any; 2 on a usage error or when a
// program or a doc cannot be read.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// helpTimeout bounds the time to run every program's --help, which is
// instant unless a program hangs.
const helpTimeout = time.Minute

// run runs flagcheck with the command-line arguments args and returns its
// exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var programs programList
	var others docList
	flags := flag.NewFlagSet("flagcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Var(&programs, "program", "a program to check, as NAME=BINARY=DOC (repeatable)")
	flags.Var(&others, "doc", "another document whose flags must exist (rule b alone; repeatable)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: flagcheck -program NAME=BINARY=DOC [-program NAME=BINARY=DOC ...] [-doc FILE ...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 0 || len(programs) == 0 {
		flags.Usage()
		return 2
	}
	problems, err := check(ctx, programs, others)
	if err != nil {
		fmt.Fprintln(stderr, "flagcheck:", err)
		return 2
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "flagcheck: %d problems\n", len(problems))
		return 1
	}
	return 0
}

// programList is the value of the repeatable -program flag.
type programList []*program

func (l *programList) String() string { return "" }

func (l *programList) Set(s string) error {
	name, rest, _ := strings.Cut(s, "=")
	i := strings.LastIndex(rest, "=")
	if name == "" || i <= 0 || i == len(rest)-1 {
		return errors.New("want NAME=BINARY=DOC")
	}
	*l = append(*l, &program{name: name, binary: rest[:i], doc: rest[i+1:]})
	return nil
}

// docList is the value of the repeatable -doc flag.
type docList []string

func (l *docList) String() string { return "" }

func (l *docList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// check loads programs and returns the problems of rules (b) and (a) for
// each program's doc, of rule (b) for each of others, then those of rule
// (c).
func check(ctx context.Context, programs []*program, others []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, helpTimeout)
	defer cancel()
	for _, p := range programs {
		if err := p.load(ctx); err != nil {
			return nil, err
		}
	}
	var problems []string
	var docs []string
	for _, p := range programs {
		if !slices.Contains(docs, p.doc) {
			docs = append(docs, p.doc)
		}
	}
	for _, doc := range docs {
		src, err := os.ReadFile(doc)
		if err != nil {
			return nil, err
		}
		var owners []*program
		for _, p := range programs {
			if p.doc == doc {
				owners = append(owners, p)
			}
		}
		d := newDocCheck(doc, string(src), owners, programs)
		problems = append(problems, d.report()...)
		for _, p := range owners {
			problems = append(problems, undocumented(p, d.mentions)...)
		}
	}
	for _, doc := range others {
		if slices.Contains(docs, doc) {
			continue
		}
		src, err := os.ReadFile(doc)
		if err != nil {
			return nil, err
		}
		problems = append(problems, newDocCheck(doc, string(src), nil, programs).report()...)
	}
	return append(problems, shorthands(programs)...), nil
}

// undocumented returns the problems of rule (a) for program p, whose doc
// mentions the flags mentions.
func undocumented(p *program, mentions map[string]bool) []string {
	var out []string
	seen := map[string]bool{"help": true}
	for _, c := range p.all {
		for _, f := range c.local {
			if !seen[f.long] && !mentions[f.long] {
				out = append(out, fmt.Sprintf("%s: never mentions --%s, a flag of %s", p.doc, f.long, c))
			}
			seen[f.long] = true
		}
	}
	return out
}

// shorthands returns the problems of rule (c): each shorthand that stands
// for different long flags in different commands.
func shorthands(programs []*program) []string {
	type meaning struct {
		long  string
		where []string
	}
	meanings := map[string][]*meaning{}
	for _, p := range programs {
		for _, c := range p.all {
			for _, f := range c.local {
				if f.short == "" {
					continue
				}
				ms := meanings[f.short]
				i := slices.IndexFunc(ms, func(m *meaning) bool { return m.long == f.long })
				if i < 0 {
					ms = append(ms, &meaning{long: f.long})
					meanings[f.short] = ms
					i = len(ms) - 1
				}
				ms[i].where = append(ms[i].where, c.String())
			}
		}
	}
	var out []string
	for short, ms := range meanings {
		if len(ms) < 2 {
			continue
		}
		var parts []string
		for _, m := range ms {
			parts = append(parts, fmt.Sprintf("--%s in %s", m.long, strings.Join(m.where, ", ")))
		}
		out = append(out, fmt.Sprintf("shorthand -%s stands for different flags: %s", short, strings.Join(parts, "; ")))
	}
	slices.Sort(out)
	return out
}
