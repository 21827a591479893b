// Package output prints responses as text for people or as JSON for
// programs: one protojson object per response and per line, with the field
// names of the proto, ready for jq.
package output

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The output formats of --output.
const (
	Text = "text"
	JSON = "json"
)

// Printer writes responses in one format.
type Printer struct {
	w    io.Writer
	json bool
}

// New returns a Printer that writes to w in format (Text or JSON).
func New(w io.Writer, format string) *Printer {
	return &Printer{w: w, json: format == JSON}
}

var marshal = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// Print writes one response: text on its own line, or m as one JSON object.
func (p *Printer) Print(m proto.Message, text string) error {
	if !p.json {
		_, err := fmt.Fprintln(p.w, text)
		return err
	}
	b, err := marshal.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s as JSON: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	_, err = fmt.Fprintf(p.w, "%s\n", b)
	return err
}

// Message is a response with a greeting.
type Message interface {
	proto.Message
	GetMessage() string
}

// PrintAll prints each message recv returns, as it arrives, until the
// stream ends. It returns nil when the stream ended with OK.
func PrintAll[M Message](p *Printer, recv func() (M, error)) error {
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.Print(m, m.GetMessage()); err != nil {
			return err
		}
	}
}
