package conn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/resolver"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// TestHealthCheckService keeps HealthCheckService, the service probeHealth
// asks about, the one ServiceConfig's health checking watches.
func TestHealthCheckService(t *testing.T) {
	t.Parallel()
	var sc struct {
		HealthCheckConfig *struct {
			ServiceName *string `json:"serviceName"`
		} `json:"healthCheckConfig"`
	}
	if err := json.Unmarshal([]byte(conn.ServiceConfig), &sc); err != nil {
		t.Fatal(err)
	}
	if sc.HealthCheckConfig == nil || sc.HealthCheckConfig.ServiceName == nil {
		t.Fatal("ServiceConfig has no healthCheckConfig.serviceName")
	}
	if got := *sc.HealthCheckConfig.ServiceName; got != conn.HealthCheckService {
		t.Errorf("ServiceConfig checks the health of %q, HealthCheckService is %q", got, conn.HealthCheckService)
	}
}

func wantNotServing(t *testing.T, err error, addr string) {
	t.Helper()
	var nerr *exitcode.NotServingError
	if !errors.As(err, &nerr) || nerr.Status != "NOT_SERVING" || exitcode.Code(err) != exitcode.Unhealthy {
		t.Fatalf("Conn: %v (exit code %d), want a NotServingError with status NOT_SERVING and exit code %d", err, exitcode.Code(err), exitcode.Unhealthy)
	}
	if !strings.Contains(err.Error(), "server at "+addr+" is up but not serving") {
		t.Errorf("Conn: %q, want it to name %s as up but not serving", err, addr)
	}
}

// TestConnNotServing: health checking puts the connection to a server that
// reports NOT_SERVING in TRANSIENT_FAILURE at once; Conn asks the server
// itself and says it is up but not serving.
func TestConnNotServing(t *testing.T) {
	t.Parallel()
	addr := greetertest.StartNotServing(t)
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	start := time.Now()
	_, err := f.Conn(context.Background())
	wantNotServing(t, err, addr)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Conn took %s, want it at once", elapsed)
	}
}

// staticResolver resolves "static:///a,b" to the addresses a and b: a fleet
// of replicas, like a DNS name with several records.
type staticResolver struct{}

func (staticResolver) Scheme() string { return "static" }

func (staticResolver) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	var st resolver.State
	for _, a := range strings.Split(target.Endpoint(), ",") {
		st.Endpoints = append(st.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
	}
	return staticResolver{}, cc.UpdateState(st)
}

func (staticResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (staticResolver) Close()                                {}

func init() { resolver.Register(staticResolver{}) }

// silentListener accepts connections and never answers the HTTP/2
// handshake, so a connection to it stays CONNECTING.
func silentListener(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	return lis.Addr().String()
}

// TestConnNotServingFleet: in a fleet where one replica never finishes
// connecting and the other reports NOT_SERVING, the connection stays
// CONNECTING; Conn asks near the end of --connect-timeout, and reports the
// answering replica's status, within --connect-timeout.
func TestConnNotServingFleet(t *testing.T) {
	t.Parallel()
	addr := "static:///" + silentListener(t) + "," + greetertest.StartNotServing(t)
	const timeout = 1500 * time.Millisecond
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: timeout}}
	t.Cleanup(func() { f.Close() })
	start := time.Now()
	_, err := f.Conn(context.Background())
	elapsed := time.Since(start)
	wantNotServing(t, err, addr)
	if elapsed > timeout+500*time.Millisecond {
		t.Errorf("Conn took %s, want at most --connect-timeout %s", elapsed, timeout)
	}
}

// TestConnectTimeoutSilentFleet: when no replica answers, Conn still fails
// with exit code 3 after --connect-timeout, not later.
func TestConnectTimeoutSilentFleet(t *testing.T) {
	t.Parallel()
	addr := "static:///" + silentListener(t) + "," + silentListener(t)
	const timeout = time.Second
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 5 * time.Second, ConnectTimeout: timeout}}
	t.Cleanup(func() { f.Close() })
	start := time.Now()
	_, err := f.Conn(context.Background())
	elapsed := time.Since(start)
	if exitcode.Code(err) != exitcode.Connect || !strings.Contains(err.Error(), "no connection within --connect-timeout") {
		t.Errorf("Conn: %v (exit code %d), want exit code 3 and a --connect-timeout error", err, exitcode.Code(err))
	}
	if elapsed > timeout+500*time.Millisecond {
		t.Errorf("Conn took %s, want about --connect-timeout %s", elapsed, timeout)
	}
}
