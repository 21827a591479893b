package conn_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/conn"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// refusedName is the name the refusing replicas of these tests answer with
// UNAVAILABLE, as a replica does that is overloaded or cut off from what it
// needs.
const refusedName = "refused"

// attempts counts the SayHello attempts replicas receive, by the call each
// belongs to (the "x-call" metadata callMany sends).
type attempts struct {
	mu     sync.Mutex
	byCall map[string]int
	total  int
}

// count returns a server option that adds a replica's SayHello attempts to
// a.
func (a *attempts) count() grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == greeterv1.GreeterService_SayHello_FullMethodName {
			md, _ := metadata.FromIncomingContext(ctx)
			a.mu.Lock()
			if a.byCall == nil {
				a.byCall = map[string]int{}
			}
			a.byCall[strings.Join(md.Get("x-call"), ",")]++
			a.total++
			a.mu.Unlock()
		}
		return handler(ctx, req)
	})
}

func (a *attempts) of(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byCall[call]
}

func (a *attempts) sum() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// startFleet starts one replica per entry of refuse, each refusing
// SayHello for refusedName with UNAVAILABLE if its entry is true and
// greeting it otherwise, and returns a target that resolves to all of them
// and each replica's attempt counts.
func startFleet(t *testing.T, refuse ...bool) (string, []*attempts) {
	t.Helper()
	var addrs []string
	var counts []*attempts
	for _, r := range refuse {
		a := new(attempts)
		fail := map[string]error{}
		if r {
			fail[refusedName] = status.Error(codes.Unavailable, "refusing every call")
		}
		addrs = append(addrs, greetertest.StartFailing(t, fail, a.count()))
		counts = append(counts, a)
	}
	return "static:///" + strings.Join(addrs, ","), counts
}

// callMany makes calls SayHello calls for refusedName from workers
// goroutines on f's connection, each with its number as "x-call" metadata,
// and returns the numbers of the calls that failed, and the first error
// that was not UNAVAILABLE.
func callMany(t *testing.T, f *conn.Factory, calls, workers int) (failed []string, other error) {
	t.Helper()
	cc, err := f.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := greeterv1.NewGreeterServiceClient(cc)
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if next == calls {
					mu.Unlock()
					return
				}
				call := strconv.Itoa(next)
				next++
				mu.Unlock()
				ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-call", call), 10*time.Second)
				_, err := client.SayHello(ctx, &greeterv1.SayHelloRequest{Name: refusedName})
				cancel()
				if err == nil {
					continue
				}
				mu.Lock()
				failed = append(failed, call)
				if status.Code(err) != codes.Unavailable && other == nil {
					other = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failed, other
}

// attemptsOf returns how many attempts of call the replicas received.
func attemptsOf(counts []*attempts, call string) int {
	n := 0
	for _, a := range counts {
		n += a.of(call)
	}
	return n
}

func sum(counts []*attempts) int {
	n := 0
	for _, a := range counts {
		n += a.sum()
	}
	return n
}

// TestRetryThrottlingRefusingFleet: when every replica refuses every call
// with UNAVAILABLE, the retry policy alone would try each call four times,
// multiplying the load on a fleet that is already failing. The throttle
// (ServiceConfig's retryThrottling) lets the first failures be retried and
// then tries each call once: counted at the replicas, the attempts per call
// fall towards one.
func TestRetryThrottlingRefusingFleet(t *testing.T) {
	t.Parallel()
	addr, counts := startFleet(t, true, true, true)
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 10 * time.Second, ConnectTimeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	const calls = 300
	failed, other := callMany(t, f, calls, 16)
	if other != nil {
		t.Errorf("a call failed with %v, want UNAVAILABLE", other)
	}
	if len(failed) != calls {
		t.Errorf("%d of %d calls failed, want all: every replica refuses", len(failed), calls)
	}
	attempts := sum(counts)
	perCall := float64(attempts) / calls
	// Unthrottled: 4 attempts a call. Throttled with maxTokens 100: the
	// failures before half the tokens are spent (49) are retried, then one
	// attempt a call, so (300+49)/300 = 1.16 at most.
	if perCall > 1.3 {
		t.Errorf("the replicas received %d attempts for %d calls (%.2f a call), want at most 1.3 a call: retries are not throttled", attempts, calls, perCall)
	}
	t.Logf("%d calls, all refused: %d attempts at the replicas, %.2f a call", calls, attempts, perCall)
}

// TestRetryThrottlingOneRefusingReplica: the throttle must not take away
// what retries are for. With one replica in three refusing every call, the
// calls it refuses are still retried: every call either succeeds or fails
// after all four attempts (the few that met the refusing replica four times
// running), none after fewer, which is what a throttled retry looks like.
func TestRetryThrottlingOneRefusingReplica(t *testing.T) {
	t.Parallel()
	addr, counts := startFleet(t, true, false, false)
	f := &conn.Factory{Options: conn.Options{Addr: addr, Timeout: 10 * time.Second, ConnectTimeout: 5 * time.Second}}
	t.Cleanup(func() { f.Close() })
	const calls = 600
	failed, other := callMany(t, f, calls, 16)
	if other != nil {
		t.Errorf("a call failed with %v", other)
	}
	throttled := 0
	for _, call := range failed {
		if n := attemptsOf(counts, call); n < 4 {
			throttled++
			if throttled <= 5 {
				t.Errorf("call %s failed after %d attempts, want 4: its retries were throttled", call, n)
			}
		}
	}
	if throttled > 0 {
		t.Errorf("%d of %d calls failed without using their four attempts, with only one replica in three refusing", throttled, calls)
	}
	if refused := counts[0].sum(); refused < calls/10 {
		t.Errorf("the refusing replica received %d attempts of %d calls, want its share: the test needs it in the rotation", refused, calls)
	}
	t.Logf("%d calls, one replica of three refusing: %d, %d, %d attempts; %d failed after 4 attempts, %d with fewer", calls, counts[0].sum(), counts[1].sum(), counts[2].sum(), len(failed)-throttled, throttled)
}

// TestRetryThrottlingConfig checks the throttle's values against the
// limits of gRFC A6 (grpc-go rejects a service config outside them, and
// then every connection fails): maxTokens in (0, 1000], tokenRatio > 0.
func TestRetryThrottlingConfig(t *testing.T) {
	t.Parallel()
	var sc struct {
		RetryThrottling *struct {
			MaxTokens  float64 `json:"maxTokens"`
			TokenRatio float64 `json:"tokenRatio"`
		} `json:"retryThrottling"`
	}
	if err := json.Unmarshal([]byte(conn.ServiceConfig), &sc); err != nil {
		t.Fatal(err)
	}
	rt := sc.RetryThrottling
	if rt == nil {
		t.Fatal("ServiceConfig has no retryThrottling")
	}
	if rt.MaxTokens <= 0 || rt.MaxTokens > 1000 || rt.TokenRatio <= 0 {
		t.Errorf("retryThrottling %+v, want 0 < maxTokens <= 1000 and tokenRatio > 0", *rt)
	}
}
