package main

import "testing"

const goMod = `// A comment mentioning github.com/greeter-go/greeter/greeter-api v9.9.9
module github.com/greeter-go/greeter/greeter-server

go 1.26.0

require github.com/greeter-go/greeter/greeter-api v0.1.0 // a comment

require (
	google.golang.org/grpc v1.80.0
	golang.org/x/net v0.61.0 // indirect
)
`

func TestField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		query []string
		want  string
	}{
		{[]string{"module"}, "github.com/greeter-go/greeter/greeter-server"},
		{[]string{"go"}, "1.26.0"},
		{[]string{"require", "github.com/greeter-go/greeter/greeter-api"}, "v0.1.0"},
		{[]string{"require", "golang.org/x/net"}, "v0.61.0"},
		{[]string{"require", "example.com/not/required"}, ""},
	} {
		got, err := field("go.mod", []byte(goMod), tt.query)
		if err != nil || got != tt.want {
			t.Errorf("field(go.mod, %q) = %q, %v, want %q, nil", tt.query, got, err, tt.want)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		data  string
		query []string
	}{
		{goMod, []string{"toolchain"}},
		{goMod, []string{"require"}},
		{"go 1.26\n", []string{"module"}},
		{"module x\n", []string{"go"}},
		{"module x\nrequire (\n", []string{"module"}},
	} {
		if got, err := field("go.mod", []byte(tt.data), tt.query); err == nil {
			t.Errorf("field(%q, %q) = %q, nil, want an error", tt.data, tt.query, got)
		}
	}
}
