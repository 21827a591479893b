// Package greeting is the greeting core shared by every gRPC service of
// greeter-server: it owns the request rules and the greeting texts, so each
// service is a thin adapter over one definition.
//
// The rules are the ones documented in proto/greeter/v1/greeter.proto; a
// change to either must be made to both.
package greeting

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"
)

// The limits of the Greeter API, as documented in the proto.
const (
	// MaxNameLength is the most characters (Unicode code points) a name may hold.
	MaxNameLength = 100
	// DefaultStreamCount is how many greetings a stream sends when the request
	// leaves count unset (zero).
	// helloworld.Greeter's SayHelloStreamReply, whose request has no // trim:helloworld
	// count, always sends this many. // trim:helloworld
	DefaultStreamCount = 3
	// MaxStreamCount is the most greetings one SayHelloStream call may ask for.
	MaxStreamCount = 100
	// MaxStreamInterval is the longest wait between two streamed greetings.
	MaxStreamInterval = 10 * time.Second
	// MaxGroupSize is the most names one SayHelloGroup call may send.
	MaxGroupSize = 1000
	// MaxChatNames is the most names one chat call may send: the cap on the
	// greetings a single call can make the server stream.
	// helloworld's SayHelloBidiStream is a chat call too. // trim:helloworld
	MaxChatNames = 1000
)

// InvalidError reports a request field that breaks its documented rule.
// Adapters turn it into a gRPC InvalidArgument status.
type InvalidError struct {
	// Field is the request field at fault, as named in the proto ("name").
	Field string
	// Rule says what the field must be, in words a caller can act on.
	Rule string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Rule)
}

// CheckName reports whether name follows the name rule: valid UTF-8, 1 to
// MaxNameLength characters, not only white space, no control characters. field
// names the request field in the error it returns.
func CheckName(field, name string) error {
	if !utf8.ValidString(name) {
		return &InvalidError{Field: field, Rule: "must be valid UTF-8"}
	}
	if name == "" {
		return &InvalidError{Field: field, Rule: "is required and must not be empty"}
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return &InvalidError{Field: field, Rule: fmt.Sprintf("must be at most %d characters, got %d", MaxNameLength, n)}
	}
	if strings.TrimFunc(name, unicode.IsSpace) == "" {
		return &InvalidError{Field: field, Rule: "must not be only white space"}
	}
	if i := strings.IndexFunc(name, unicode.IsControl); i >= 0 {
		return &InvalidError{Field: field, Rule: fmt.Sprintf("must not contain control characters, found %U", []rune(name[i:])[0])}
	}
	return nil
}

// Hello returns the greeting for name, "Hello, NAME!", or an *InvalidError
// if name breaks the name rule.
func Hello(name string) (string, error) {
	if err := CheckName("name", name); err != nil {
		return "", err
	}
	return "Hello, " + name + "!", nil
}

// HelloAgain returns the second greeting for name, "Hello again, NAME!", or an
// *InvalidError if name breaks the name rule.
func HelloAgain(name string) (string, error) {
	if err := CheckName("name", name); err != nil {
		return "", err
	}
	return "Hello again, " + name + "!", nil
}

// Stream is a checked plan for a stream of greetings: send Message Count
// times, waiting Interval between two of them.
type Stream struct {
	Message  string
	Count    int
	Interval time.Duration
}

// NewStream checks a SayHelloStream request and returns its plan: count is
// 1 to MaxStreamCount, zero meaning DefaultStreamCount; interval is nil (no
// wait) or 0 to MaxStreamInterval in whole milliseconds.
func NewStream(name string, count uint32, interval *durationpb.Duration) (Stream, error) {
	msg, err := Hello(name)
	if err != nil {
		return Stream{}, err
	}
	n := int(count)
	switch {
	case count == 0:
		n = DefaultStreamCount
	case count > MaxStreamCount:
		return Stream{}, &InvalidError{Field: "count", Rule: fmt.Sprintf("must be from 1 to %d (0 means %d), got %d", MaxStreamCount, DefaultStreamCount, count)}
	}
	wait, err := checkInterval(interval)
	if err != nil {
		return Stream{}, err
	}
	return Stream{Message: msg, Count: n, Interval: wait}, nil
}

func checkInterval(interval *durationpb.Duration) (time.Duration, error) {
	if interval == nil {
		return 0, nil
	}
	if err := interval.CheckValid(); err != nil {
		return 0, &InvalidError{Field: "interval", Rule: fmt.Sprintf("must be a valid google.protobuf.Duration (%v)", err)}
	}
	d := interval.AsDuration()
	switch {
	case d < 0:
		return 0, &InvalidError{Field: "interval", Rule: fmt.Sprintf("must not be negative, got %v", d)}
	case d > MaxStreamInterval:
		return 0, &InvalidError{Field: "interval", Rule: fmt.Sprintf("must be at most %v, got %v", MaxStreamInterval, d)}
	case d%time.Millisecond != 0:
		return 0, &InvalidError{Field: "interval", Rule: fmt.Sprintf("must be in whole milliseconds, got %v", d)}
	}
	return d, nil
}

// Group collects the names of one SayHelloGroup call. The zero value is an
// empty group ready to use.
type Group struct {
	names []string
}

// Add checks name and adds it to the group, or returns an *InvalidError if
// the name breaks the name rule or the group already holds MaxGroupSize names.
func (g *Group) Add(name string) error {
	if len(g.names) >= MaxGroupSize {
		return &InvalidError{Field: "name", Rule: fmt.Sprintf("a group holds at most %d names; this call sent more", MaxGroupSize)}
	}
	if err := CheckName("name", name); err != nil {
		return err
	}
	g.names = append(g.names, name)
	return nil
}

// Greeting returns one greeting to the whole group, such as
// "Hello, Ann, Bob and Cy!", and how many names it holds, or an *InvalidError
// if the group is empty.
func (g *Group) Greeting() (string, uint32, error) {
	n := len(g.names)
	if n == 0 {
		return "", 0, &InvalidError{Field: "name", Rule: fmt.Sprintf("a group holds between 1 and %d names; this call sent none", MaxGroupSize)}
	}
	list := g.names[0]
	if n > 1 {
		list = strings.Join(g.names[:n-1], ", ") + " and " + g.names[n-1]
	}
	return "Hello, " + list + "!", uint32(n), nil //nolint:gosec // 1 <= n <= MaxGroupSize (1000) fits
}

// Chat greets the names of one chat call as they arrive. The zero value is a
// chat ready to use.
type Chat struct {
	greeted int
}

// Reply returns the greeting for the next name of the call, "Hello, NAME!",
// or an *InvalidError if the name breaks the name rule or the call already
// sent MaxChatNames names.
func (c *Chat) Reply(name string) (string, error) {
	if c.greeted >= MaxChatNames {
		return "", &InvalidError{Field: "name", Rule: fmt.Sprintf("a call carries at most %d names; this call sent more", MaxChatNames)}
	}
	msg, err := Hello(name)
	if err != nil {
		return "", err
	}
	c.greeted++
	return msg, nil
}
