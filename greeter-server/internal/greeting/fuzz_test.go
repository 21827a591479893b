package greeting_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

// validName is the name rule of the proto, written out independently of
// greeting.CheckName so the fuzzer can compare the two.
func validName(name string) bool {
	n := utf8.RuneCountInString(name)
	return utf8.ValidString(name) && n >= 1 && n <= greeting.MaxNameLength &&
		strings.TrimFunc(name, unicode.IsSpace) != "" &&
		!strings.ContainsFunc(name, unicode.IsControl)
}

// FuzzHello checks, for any string, that Hello and HelloAgain accept exactly
// the names the rule allows, greet them verbatim, and reject the rest with
// an *InvalidError that names the field.
func FuzzHello(f *testing.F) {
	for _, seed := range []string{"you", "", " ", "\t", "a\nb", "\x1b[2J", "a\xffb", "世界", strings.Repeat("é", 100), strings.Repeat("é", 101), "\u00a0", "\u2028", "\u200b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, greet := range []struct {
			fn     func(string) (string, error)
			prefix string
		}{{greeting.Hello, "Hello, "}, {greeting.HelloAgain, "Hello again, "}} {
			got, err := greet.fn(name)
			if validName(name) {
				if want := greet.prefix + name + "!"; err != nil || got != want {
					t.Fatalf("greeting(%q) = %q, %v, want %q, nil", name, got, err, want)
				}
				continue
			}
			var invalid *greeting.InvalidError
			if !errors.As(err, &invalid) || invalid.Field != "name" || invalid.Rule == "" || got != "" {
				t.Fatalf("greeting(%q) = %q, %v, want \"\" and an *InvalidError for field name", name, got, err)
			}
		}
	})
}

// FuzzNewStream checks that any SayHelloStream request either becomes a plan
// within the documented limits or is rejected naming the right field.
func FuzzNewStream(f *testing.F) {
	f.Add("you", uint32(0), int64(0), int32(0), true)
	f.Add("you", uint32(100), int64(10), int32(0), true)
	f.Add("you", uint32(101), int64(0), int32(0), false)
	f.Add("you", uint32(1), int64(-1), int32(0), true)
	f.Add("you", uint32(1), int64(0), int32(1500), true)
	f.Add("you", uint32(1), int64(1), int32(-1), true)
	f.Fuzz(func(t *testing.T, name string, count uint32, seconds int64, nanos int32, hasInterval bool) {
		var interval *durationpb.Duration
		if hasInterval {
			interval = &durationpb.Duration{Seconds: seconds, Nanos: nanos}
		}
		plan, err := greeting.NewStream(name, count, interval)
		if err != nil {
			var invalid *greeting.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("NewStream(%q, %d, %v) error %v is not an *InvalidError", name, count, interval, err)
			}
			switch invalid.Field {
			case "name", "count", "interval":
			default:
				t.Fatalf("NewStream(%q, %d, %v) blames field %q", name, count, interval, invalid.Field)
			}
			return
		}
		if !validName(name) {
			t.Fatalf("NewStream accepted the invalid name %q", name)
		}
		if plan.Message != "Hello, "+name+"!" {
			t.Fatalf("NewStream(%q).Message = %q", name, plan.Message)
		}
		if plan.Count < 1 || plan.Count > greeting.MaxStreamCount || (count != 0 && plan.Count != int(count)) {
			t.Fatalf("NewStream(count %d).Count = %d, want %d within 1..%d", count, plan.Count, count, greeting.MaxStreamCount)
		}
		if plan.Interval < 0 || plan.Interval > greeting.MaxStreamInterval || plan.Interval%time.Millisecond != 0 {
			t.Fatalf("NewStream(interval %v).Interval = %v, outside the documented range", interval, plan.Interval)
		}
	})
}

// FuzzGroup checks that a group greets every accepted name in order and
// never holds more than MaxGroupSize names.
func FuzzGroup(f *testing.F) {
	f.Add("Ann\x00Bob\x00Cy")
	f.Add("\x00")
	f.Add("")
	f.Fuzz(func(t *testing.T, joined string) {
		var g greeting.Group
		var accepted []string
		for _, name := range strings.Split(joined, "\x00") {
			if err := g.Add(name); err == nil {
				accepted = append(accepted, name)
			} else if validName(name) && len(accepted) < greeting.MaxGroupSize {
				t.Fatalf("Group.Add(%q) = %v for a valid name", name, err)
			}
		}
		msg, n, err := g.Greeting()
		if len(accepted) == 0 {
			if err == nil {
				t.Fatalf("Greeting() of an empty group = %q, nil, want an error", msg)
			}
			return
		}
		if err != nil || int(n) != len(accepted) || !strings.HasPrefix(msg, "Hello, "+accepted[0]) || !strings.HasSuffix(msg, accepted[len(accepted)-1]+"!") {
			t.Fatalf("Greeting() = %q, %d, %v for names %q", msg, n, err, accepted)
		}
	})
}
