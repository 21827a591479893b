package serve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
	"github.com/greeter-go/greeter/greeter-server/internal/auth/authtest"
)

// The issuer and policy of the ours+auth bench server, made by the parent.
const (
	benchIssuerEnv = "GREETER_BENCH_ISSUER"
	benchPolicyEnv = "GREETER_BENCH_POLICY"
	benchAudience  = "greeter"
	benchPolicy    = `{"name": "bench", "allow_rules": [{"name": "bench", "request": {"paths": ["/greeter.v1.GreeterService/*"], "headers": [{"key": "x-jwt-subject", "values": ["bench"]}]}}]}`
)

// BenchmarkAuth measures what authentication costs greeter-server on the
// gRPC listener, side by side as benchServerCPU does: ours (authentication
// off) and ours+auth (an OIDC issuer started here, on loopback, and a policy
// that allows the token's subject), each in a child process with
// GOMAXPROCS=1, every iteration one SayHello to each. It reports each
// server's CPU time per call and their ratio (auth/ours):
//
//   - call=remembered-token: both are sent the same valid token every time;
//     ours+auth verified it once and remembers it. The ratio must stay
//     within 1.10.
//   - call=refused-no-token: both are sent no token; ours answers, ours+auth
//     refuses in its tap handle, before the request is read. The ratio is
//     what a refused call costs next to an accepted one.
//
// BenchmarkCheck (below) measures the first call with a new token: the
// signature check that remembering saves.
func BenchmarkAuth(b *testing.B) {
	iss := authtest.NewIssuer(b)
	policy := filepath.Join(b.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(benchPolicy), 0o600); err != nil {
		b.Fatal(err)
	}
	env := []string{benchIssuerEnv + "=" + iss.URL, benchPolicyEnv + "=" + policy}
	token := iss.Token(b, iss.RSA, authtest.Claims{Subject: "bench", Audience: []string{benchAudience}})
	req := &greeterv1.SayHelloRequest{Name: "you"}
	for _, tc := range []struct {
		name   string
		md     metadata.MD
		refuse bool
	}{
		{"remembered-token", metadata.Pairs("authorization", "Bearer "+token), false},
		{"refused-no-token", metadata.MD{}, true},
	} {
		b.Run("call="+tc.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), tc.md), 5*time.Minute)
			defer cancel()
			servers := []*benchServer{startBenchServer(b, "ours"), startBenchServer(b, "ours+auth", env...)}
			clients := make([]greeterv1.GreeterServiceClient, len(servers))
			before := make([]time.Duration, len(servers))
			call := func(i int) error {
				_, err := clients[i].SayHello(ctx, req)
				if i == 1 && tc.refuse {
					if status.Code(err) != codes.Unauthenticated {
						return fmt.Errorf("a call without a token: %w, want Unauthenticated", err)
					}
					return nil
				}
				return err
			}
			for i, s := range servers {
				conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				clients[i] = greeterv1.NewGreeterServiceClient(conn)
				for range 100 { // warm up the connection, the server and its key cache
					if err := call(i); err != nil {
						b.Fatal(err)
					}
				}
				before[i] = s.cpu(b)
			}
			b.ResetTimer()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					for i := range clients {
						if err := call(i); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.StopTimer()
			ours := float64(servers[0].cpu(b)-before[0]) / float64(b.N)
			withAuth := float64(servers[1].cpu(b)-before[1]) / float64(b.N)
			b.ReportMetric(ours, "ours-cpu-ns/op")
			b.ReportMetric(withAuth, "auth-cpu-ns/op")
			b.ReportMetric(withAuth/ours, "auth/ours")
		})
	}
}

// BenchmarkCheck measures one authentication decision in process: a token
// the guard remembers, and the first call with a new token, signed with
// RS256 or ES256, whose signature must be checked (the tokens are made
// before the timer starts).
func BenchmarkCheck(b *testing.B) {
	iss := authtest.NewIssuer(b)
	g, err := auth.New(auth.Config{Issuer: iss.URL, Audience: benchAudience})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	check := func(token string) {
		_, err := g.Check(context.Background(), auth.Call{Method: "/greeter.v1.GreeterService/SayHello", Header: auth.MD{"authorization": {"Bearer " + token}}}, true)
		if err != nil {
			b.Fatal(err)
		}
	}
	check(iss.Token(b, iss.RSA, authtest.Claims{Subject: "warm", Audience: []string{benchAudience}})) // fetch the keys
	b.Run("token=remembered", func(b *testing.B) {
		token := iss.Token(b, iss.RSA, authtest.Claims{Subject: "bench", Audience: []string{benchAudience}})
		check(token)
		b.ResetTimer()
		for range b.N {
			check(token)
		}
	})
	for _, k := range []*authtest.Key{iss.RSA, iss.EC} {
		b.Run("token=new-"+string(k.Algorithm), func(b *testing.B) {
			tokens := make([]string, b.N)
			for i := range tokens {
				tokens[i] = iss.Token(b, k, authtest.Claims{Subject: fmt.Sprint("bench-", i), Audience: []string{benchAudience}})
			}
			b.ResetTimer()
			for _, token := range tokens {
				check(token)
			}
		})
	}
}
