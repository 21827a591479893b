package serve

import (
	"testing"
	"time"
)

// TestLimits are shortened limits for one test; a zero field keeps the
// server's own value.
type TestLimits struct {
	KeepaliveTime, KeepaliveTimeout     time.Duration
	ConnectionTimeout                   time.Duration
	MaxConnectionIdle, MaxConnectionAge time.Duration
	MaxConnectionAgeGrace               time.Duration
	MaxUnaryDuration, MaxStreamDuration time.Duration
	MaxConnections                      int
	TLSReloadInterval                   time.Duration
}

// SetLimits makes the servers New and Run build during t use l. t must not
// run in parallel with other tests that start servers.
func SetLimits(t *testing.T, l TestLimits) {
	t.Helper()
	durations := []struct {
		v   *time.Duration
		set time.Duration
	}{
		{&keepaliveTime, l.KeepaliveTime}, {&keepaliveTimeout, l.KeepaliveTimeout},
		{&connectionTimeout, l.ConnectionTimeout},
		{&maxConnectionIdle, l.MaxConnectionIdle}, {&maxConnectionAge, l.MaxConnectionAge},
		{&maxConnectionAgeGrace, l.MaxConnectionAgeGrace},
		{&maxUnaryDuration, l.MaxUnaryDuration}, {&maxStreamDuration, l.MaxStreamDuration},
		{&tlsReloadInterval, l.TLSReloadInterval},
	}
	for _, d := range durations {
		if d.set != 0 {
			old := *d.v
			*d.v = d.set
			t.Cleanup(func() { *d.v = old })
		}
	}
	if l.MaxConnections != 0 {
		old := maxConnections
		maxConnections = l.MaxConnections
		t.Cleanup(func() { maxConnections = old })
	}
}
