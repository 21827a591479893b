package greeting_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

func TestNewStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		count    uint32
		interval *durationpb.Duration
		want     greeting.Stream
	}{
		{count: 0, interval: nil, want: greeting.Stream{Message: "Hello, you!", Count: 3}},
		{count: 1, interval: durationpb.New(0), want: greeting.Stream{Message: "Hello, you!", Count: 1}},
		{count: 100, interval: durationpb.New(10 * time.Second), want: greeting.Stream{Message: "Hello, you!", Count: 100, Interval: 10 * time.Second}},
		{count: 5, interval: durationpb.New(250 * time.Millisecond), want: greeting.Stream{Message: "Hello, you!", Count: 5, Interval: 250 * time.Millisecond}},
	}
	for _, tt := range tests {
		got, err := greeting.NewStream("you", tt.count, tt.interval)
		if err != nil || got != tt.want {
			t.Errorf("NewStream(%q, %d, %v) = %+v, %v, want %+v, nil", "you", tt.count, tt.interval, got, err, tt.want)
		}
	}
}

func TestNewStreamRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		count     uint32
		interval  *durationpb.Duration
		wantField string
		wantRule  string
	}{
		{name: "", wantField: "name", wantRule: "required"},
		{name: "you", count: 101, wantField: "count", wantRule: "from 1 to 100 (0 means 3), got 101"},
		{name: "you", interval: durationpb.New(-time.Millisecond), wantField: "interval", wantRule: "must not be negative"},
		{name: "you", interval: durationpb.New(10*time.Second + time.Millisecond), wantField: "interval", wantRule: "at most 10s"},
		{name: "you", interval: durationpb.New(1500 * time.Microsecond), wantField: "interval", wantRule: "whole milliseconds"},
		{name: "you", interval: &durationpb.Duration{Seconds: 1, Nanos: -1}, wantField: "interval", wantRule: "valid google.protobuf.Duration"},
	}
	for _, tt := range tests {
		got, err := greeting.NewStream(tt.name, tt.count, tt.interval)
		checkInvalid(t, err, tt.wantField, tt.wantRule)
		if got != (greeting.Stream{}) {
			t.Errorf("NewStream(%q, %d, %v) = %+v, want the zero Stream", tt.name, tt.count, tt.interval, got)
		}
	}
}

func TestGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		names []string
		want  string
	}{
		{names: []string{"Ann"}, want: "Hello, Ann!"},
		{names: []string{"Ann", "Bob"}, want: "Hello, Ann and Bob!"},
		{names: []string{"Ann", "Bob", "Cy"}, want: "Hello, Ann, Bob and Cy!"},
	}
	for _, tt := range tests {
		var g greeting.Group
		for _, n := range tt.names {
			if err := g.Add(n); err != nil {
				t.Fatalf("Add(%q) = %v, want nil", n, err)
			}
		}
		got, n, err := g.Greeting()
		if err != nil || got != tt.want || int(n) != len(tt.names) {
			t.Errorf("Greeting() of %q = %q, %d, %v, want %q, %d, nil", tt.names, got, n, err, tt.want, len(tt.names))
		}
	}
}

func TestGroupRejects(t *testing.T) {
	t.Parallel()
	var empty greeting.Group
	_, _, err := empty.Greeting()
	checkInvalid(t, err, "name", "between 1 and 1000 names")

	var g greeting.Group
	checkInvalid(t, g.Add("a\tb"), "name", "control characters")
	for i := range greeting.MaxGroupSize {
		if err := g.Add("x"); err != nil {
			t.Fatalf("Add #%d = %v, want nil", i+1, err)
		}
	}
	checkInvalid(t, g.Add("x"), "name", "at most 1000 names")
}

func TestChat(t *testing.T) {
	t.Parallel()
	var c greeting.Chat
	for i := range greeting.MaxChatNames {
		got, err := c.Reply("you")
		if err != nil || got != "Hello, you!" {
			t.Fatalf("Reply #%d(%q) = %q, %v, want %q, nil", i+1, "you", got, err, "Hello, you!")
		}
	}
	_, err := c.Reply("you")
	checkInvalid(t, err, "name", "at most 1000 names")

	var fresh greeting.Chat
	_, err = fresh.Reply(strings.Repeat("x", 101))
	checkInvalid(t, err, "name", "at most 100 characters")
}

func checkInvalid(t *testing.T, err error, field, rule string) {
	t.Helper()
	var invalid *greeting.InvalidError
	if !errors.As(err, &invalid) {
		t.Errorf("error = %v, want an *InvalidError", err)
		return
	}
	if invalid.Field != field || !strings.Contains(invalid.Rule, rule) {
		t.Errorf("error = %q, want field %q and rule containing %q", err, field, rule)
	}
}
