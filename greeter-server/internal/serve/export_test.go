package serve

import (
	"testing"
	"time"
)

// ShortenKeepalive makes the servers New builds during t ping an idle client
// after keepaliveTime and give up on it after timeout. t must not run in
// parallel with other tests that start servers.
func ShortenKeepalive(t *testing.T, time, timeout time.Duration) {
	oldTime, oldTimeout := keepaliveTime, keepaliveTimeout
	keepaliveTime, keepaliveTimeout = time, timeout
	t.Cleanup(func() { keepaliveTime, keepaliveTimeout = oldTime, oldTimeout })
}
