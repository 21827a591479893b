package greeting_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

func TestHello(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want string
	}{
		{name: "you", want: "Hello, you!"},
		{name: "Ada Lovelace", want: "Hello, Ada Lovelace!"},
		{name: " padded ", want: "Hello,  padded !"},
		{name: "世界", want: "Hello, 世界!"},
		{name: strings.Repeat("é", greeting.MaxNameLength), want: "Hello, " + strings.Repeat("é", greeting.MaxNameLength) + "!"},
	}
	for _, tt := range tests {
		got, err := greeting.Hello(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Hello(%q) = %q, %v, want %q, nil", tt.name, got, err, tt.want)
		}
	}
	if got, err := greeting.HelloAgain("you"); err != nil || got != "Hello again, you!" {
		t.Errorf("HelloAgain(%q) = %q, %v, want %q, nil", "you", got, err, "Hello again, you!")
	}
}

func TestHelloRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		wantRule string
	}{
		{name: "", wantRule: "required"},
		{name: "   ", wantRule: "white space"},
		{name: strings.Repeat("a", greeting.MaxNameLength+1), wantRule: "at most 100 characters, got 101"},
		{name: "bad\xffutf8", wantRule: "valid UTF-8"},
		{name: "line\nbreak", wantRule: "control characters, found U+000A"},
		{name: "\x1b[31mred", wantRule: "control characters, found U+001B"},
	}
	for _, tt := range tests {
		for _, greet := range []func(string) (string, error){greeting.Hello, greeting.HelloAgain} {
			got, err := greet(tt.name)
			var invalid *greeting.InvalidError
			if !errors.As(err, &invalid) {
				t.Errorf("greeting(%q) = %q, %v, want an *InvalidError", tt.name, got, err)
				continue
			}
			if invalid.Field != "name" || !strings.Contains(invalid.Rule, tt.wantRule) {
				t.Errorf("greeting(%q) error = %q, want field %q and rule containing %q", tt.name, err, "name", tt.wantRule)
			}
		}
	}
}
