// Package iostreams holds the input and output streams a command reads and
// writes, so tests can run commands against buffers instead of a terminal.
package iostreams

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the standard streams of one command run, and whether each
// is a terminal. Commands ask these fields, never the process, so a test
// can pretend to be a terminal or a pipe.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// InTTY, OutTTY and ErrTTY report whether In, Out and ErrOut are
	// terminals: chat prompts only on a terminal, bench draws its progress
	// line only on one.
	InTTY, OutTTY, ErrTTY bool
}

// System returns the process's own standard streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// Test returns streams backed by buffers: stdin, stdout and stderr. None of
// them is a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// EachLine calls fn with every line of In that is not blank, with the line
// ending and surrounding white space removed, until In ends or fn fails.
func (s *IOStreams) EachLine(fn func(line string) error) error {
	sc := bufio.NewScanner(s.In)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}
