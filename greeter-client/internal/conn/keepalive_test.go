package conn_test

import (
	"testing"
	"time"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
)

// The keepalive enforcement of a grpc-go server, and of a gRPC C-core server
// (Python, C++), left at its defaults (keepalive.EnforcementPolicy's
// documentation; C-core's grpc.http2.min_recv_ping_interval_without_data_ms
// and grpc.keepalive_permit_without_calls).
const (
	defaultPolicyMinTime             = 5 * time.Minute
	defaultPolicyPermitWithoutStream = false
)

// TestKeepaliveWithinDefaultPolicy checks the keepalive settings against
// gRPC's default ping policy in process.
// test/keepalive_default_test.go is its long form, with real servers for a // trim:helloworld
// minute (scripts/test-keepalive.sh). // trim:helloworld
// A server that keeps gRPC's default ping policy sends GOAWAY "too_many_pings" to a client that pings more often
// than every 5 minutes while a stream is open, or at all while none is.
// Keepalive must stay on all the same: only then does grpc-go set
// KeepaliveTimeout as TCP_USER_TIMEOUT (see TestTCPUserTimeout).
func TestKeepaliveWithinDefaultPolicy(t *testing.T) {
	t.Parallel()
	kp := conn.KeepaliveParams()
	if kp.Time < defaultPolicyMinTime {
		t.Errorf("keepalive pings every %s, want at least every %s: a server with the default policy closes the connection after three such pings on a quiet stream", kp.Time, defaultPolicyMinTime)
	}
	if kp.PermitWithoutStream && !defaultPolicyPermitWithoutStream {
		t.Error("keepalive pings connections with no stream open; a server with the default policy counts each such ping as a strike")
	}
	if kp.Time <= 0 || kp.Time >= 24*time.Hour || kp.Timeout <= 0 {
		t.Errorf("keepalive %+v is off or has no timeout, want it on: grpc-go sets TCP_USER_TIMEOUT only with keepalive on", kp)
	}
	if kp.Time != conn.KeepaliveTime || kp.Timeout != conn.KeepaliveTimeout || kp.PermitWithoutStream != conn.KeepalivePermitWithoutStream {
		t.Errorf("KeepaliveParams() = %+v, want the constants KeepaliveTime, KeepaliveTimeout and KeepalivePermitWithoutStream", kp)
	}
}
