package serve_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/benchconnect/greeter/v1/greeterv1connect"
)

// BenchmarkHTTPListener compares greeter-server's HTTP listener (ours+http:
// vanguard for Connect and gRPC-Web, grpc.Server.ServeHTTP for gRPC, with
// every interceptor and limit of the default configuration) with a plain
// connect-go server of the same SayHello (connect-go), side by side as
// benchServerCPU does: both in child processes with GOMAXPROCS=1, every
// iteration one call to each. It reports each server's CPU time per call
// (ours-cpu-ns/op, connect-cpu-ns/op) and their ratio (ours/connect), for
// each protocol a client may send to the HTTP listener: native gRPC over
// h2c, and Connect JSON, Connect binary and gRPC-Web over HTTP/1.1 (what
// curl and browsers without TLS speak).
func BenchmarkHTTPListener(b *testing.B) {
	protocols := []struct {
		name string
		h2   bool
		opts []connect.ClientOption
	}{
		{"grpc", true, []connect.ClientOption{connect.WithGRPC()}},
		{"connect+json", false, []connect.ClientOption{connect.WithProtoJSON()}},
		{"connect+proto", false, nil},
		{"grpc-web", false, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, p := range protocols {
		b.Run("protocol="+p.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			tr := &http.Transport{MaxIdleConnsPerHost: 16, Protocols: new(http.Protocols)}
			if p.h2 {
				tr.Protocols.SetUnencryptedHTTP2(true)
			} else {
				tr.Protocols.SetHTTP1(true)
			}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			servers := []*benchServer{startBenchServer(b, "ours+http"), startBenchServer(b, "connect-go")}
			clients := make([]*connect.Client[greeterv1.SayHelloRequest, greeterv1.SayHelloResponse], len(servers))
			before := make([]time.Duration, len(servers))
			msg := &greeterv1.SayHelloRequest{Name: "you"}
			for i, s := range servers {
				clients[i] = connect.NewClient[greeterv1.SayHelloRequest, greeterv1.SayHelloResponse](hc,
					"http://"+s.addr+greeterv1connect.GreeterServiceSayHelloProcedure, p.opts...)
				for range 100 { // warm up the connections and the server
					if _, err := clients[i].CallUnary(ctx, connect.NewRequest(msg)); err != nil {
						b.Fatalf("%s: %v", p.name, err)
					}
				}
				before[i] = s.cpu(b)
			}
			b.ResetTimer()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					for _, c := range clients {
						// A request of its own: connect-go writes its headers.
						resp, err := c.CallUnary(ctx, connect.NewRequest(msg))
						if err != nil || resp.Msg.GetMessage() != "Hello, you!" {
							b.Errorf("%s: SayHello = %v, %v", p.name, resp, err)
							return
						}
					}
				}
			})
			b.StopTimer()
			ours := float64(servers[0].cpu(b)-before[0]) / float64(b.N)
			other := float64(servers[1].cpu(b)-before[1]) / float64(b.N)
			b.ReportMetric(ours, "ours-cpu-ns/op")
			b.ReportMetric(other, "connect-cpu-ns/op")
			b.ReportMetric(ours/other, "ours/connect")
		})
	}
}

// connectGreeter serves SayHello, the method the benchmarks call, through
// connect-go's generated handler, from the same service implementation.
type connectGreeter struct {
	greeterv1connect.UnimplementedGreeterServiceHandler
	impl greeterv1.GreeterServiceServer
}

var _ greeterv1connect.GreeterServiceHandler = connectGreeter{}

func (g connectGreeter) SayHello(ctx context.Context, req *connect.Request[greeterv1.SayHelloRequest]) (*connect.Response[greeterv1.SayHelloResponse], error) {
	resp, err := g.impl.SayHello(ctx, req.Msg)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp), nil
}
