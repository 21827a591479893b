package hellogroup_test

import (
	"context"
	"slices"
	"testing"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hellogroup"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{args: nil, want: nil},
		{args: []string{"--name", "Ann", "-n", "Bob"}, want: []string{"Ann", "Bob"}},
		{args: []string{"-n", "Ann, Bob"}, want: []string{"Ann, Bob"}},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *hellogroup.Options
		cmd := hellogroup.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *hellogroup.Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("hello-group %v: %v", tt.args, err)
		}
		if !slices.Equal(got.Names, tt.want) {
			t.Errorf("hello-group %v: Names = %q, want %q", tt.args, got.Names, tt.want)
		}
	}
}
