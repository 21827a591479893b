package hellostream_test

import (
	"context"
	"testing"
	"time"

	"github.com/greeter-go/greeter/greeter-client/internal/cmd/hellostream"
	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/iostreams"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    hellostream.Options
		wantSet bool
	}{
		{args: nil, want: hellostream.Options{Name: "world"}},
		{args: []string{"-n", "Ada", "--count", "5", "--interval", "250ms"}, want: hellostream.Options{Name: "Ada", Count: 5, Interval: 250 * time.Millisecond}, wantSet: true},
		{args: []string{"-i", "1s"}, want: hellostream.Options{Name: "world", Interval: time.Second}, wantSet: true},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *hellostream.Options
		cmd := hellostream.NewCmd(ios, &conn.Factory{}, func(_ context.Context, o *hellostream.Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("hello-stream %v: %v", tt.args, err)
		}
		if got.Name != tt.want.Name || got.Count != tt.want.Count || got.Interval != tt.want.Interval || got.CountOrIntervalSet != tt.wantSet {
			t.Errorf("hello-stream %v: %+v, want %+v (set %v)", tt.args, got, tt.want, tt.wantSet)
		}
	}
}
