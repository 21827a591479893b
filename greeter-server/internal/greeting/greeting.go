// Package greeting is the greeting core shared by every gRPC service of
// greeter-server: it owns the request rules and the greeting texts, so the
// greeter.v1 and helloworld services are thin adapters over one definition.
//
// The rules are the ones documented in proto/greeter/v1/greeter.proto; a
// change to either must be made to both.
package greeting

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the most characters (Unicode code points) a name may hold.
const MaxNameLength = 100

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
