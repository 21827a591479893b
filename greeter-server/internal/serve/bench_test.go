package serve_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/service"
	"github.com/greeter-go/greeter/greeter-server/internal/telemetry"
)

// The benchmarks compare the server's own CPU time per call, so each server
// runs in a child process (this test binary, started with benchServerEnv
// set) and reports its CPU time (getrusage, user+sys) when asked. The client
// load in this process is the same for every server. ns/op is the wall time
// of one call to each of the two servers compared.
const benchServerEnv = "GREETER_BENCH_SERVER"

// benchServers are the servers compared, the first with each of the others:
// a bare grpc-go server with no
// options or interceptors serving the same greeter.v1 service; ours as
// greeter-server runs by default (log level info, metrics off); ours with
// Prometheus metrics on; ours with the access log on (debug level,
// written to a discarding handler, so formatting is measured but not I/O);
// and ours with tracing on as the README recommends under load, sampling 1%
// of calls (parentbased_traceidratio 0.01; the benchmark's client sends no
// trace context, so the ratio decides), exporting to a batch processor whose
// exporter discards, so the instrumentation is measured, not the network.
// bare+stats is the bare server with a gRPC stats handler that does nothing:
// the floor of any tracing built on one (otelgrpc's is one). Last,
// bare+ServeHTTP is the bare server behind net/http's HTTP/2 server
// through grpc.Server.ServeHTTP: the design the router (router.go) avoids by
// keeping native gRPC on grpc-go's own transport.
var benchServers = []string{"bare", "ours", "ours+metrics", "ours+accesslog", "ours+tracing", "bare+stats", "bare+ServeHTTP"}

// runBenchServer serves one kind of server on a loopback port, prints the
// address, then answers every line on stdin with its CPU time in
// nanoseconds, until stdin closes.
func runBenchServer(kind string) int {
	var srv interface{ Serve(net.Listener) error }
	switch kind {
	case "bare":
		g := grpc.NewServer()
		greeterv1.RegisterGreeterServiceServer(g, service.NewGreeterV1())
		srv = g
	case "bare+stats":
		g := grpc.NewServer(grpc.StatsHandler(nopStats{}))
		greeterv1.RegisterGreeterServiceServer(g, service.NewGreeterV1())
		srv = g
	case "bare+ServeHTTP":
		g := grpc.NewServer()
		greeterv1.RegisterGreeterServiceServer(g, service.NewGreeterV1())
		protocols := new(http.Protocols)
		protocols.SetUnencryptedHTTP2(true)
		srv = &http.Server{Handler: g, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	default:
		cfg := serve.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		switch kind {
		case "ours+metrics":
			cfg.MetricsAddr = "unused:0" // New records metrics; only Run listens there
		case "ours+accesslog":
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
		case "ours+tracing":
			cfg.Tracing = telemetry.New(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
				sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))
		}
		s, err := serve.New(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		srv = s
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { _ = srv.Serve(lis) }()
	fmt.Println(lis.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return 0
}

// nopStats is a gRPC stats handler that does nothing.
type nopStats struct{}

func (nopStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (nopStats) HandleRPC(context.Context, stats.RPCStats)                         {}
func (nopStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (nopStats) HandleConn(context.Context, stats.ConnStats)                       {}

// benchServer is a running child server.
type benchServer struct {
	addr string
	in   io.WriteCloser
	out  *bufio.Scanner
}

func startBenchServer(b *testing.B, kind string) *benchServer {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"="+kind, "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &benchServer{in: in, out: bufio.NewScanner(outPipe)}
	b.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	if !s.out.Scan() {
		b.Fatalf("bench server %s did not print its address", kind)
	}
	s.addr = strings.TrimSpace(s.out.Text())
	return s
}

// cpu returns the server's CPU time so far.
func (s *benchServer) cpu(b *testing.B) time.Duration {
	b.Helper()
	if _, err := io.WriteString(s.in, "cpu\n"); err != nil {
		b.Fatal(err)
	}
	if !s.out.Scan() {
		b.Fatal("bench server did not report its CPU time")
	}
	ns, err := strconv.ParseInt(s.out.Text(), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}

// benchServerCPU compares each of our configurations with the bare server
// side by side: both run at once, and every iteration makes the same call
// once on each, so load from the rest of the machine falls on both alike. It
// reports each server's CPU time per call (bare-cpu-ns/op, ours-cpu-ns/op)
// and their ratio (ours/bare).
func benchServerCPU(b *testing.B, call func(context.Context, greeterv1.GreeterServiceClient) error) {
	for _, kind := range benchServers[1:] {
		b.Run("server="+kind, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			servers := []*benchServer{startBenchServer(b, benchServers[0]), startBenchServer(b, kind)}
			clients := make([]greeterv1.GreeterServiceClient, len(servers))
			before := make([]time.Duration, len(servers))
			for i, s := range servers {
				conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				clients[i] = greeterv1.NewGreeterServiceClient(conn)
				for range 100 { // warm up the connection and the server
					if err := call(ctx, clients[i]); err != nil {
						b.Fatal(err)
					}
				}
				before[i] = s.cpu(b)
			}
			b.ResetTimer()
			// Several calls in flight, as on a loaded server, so the figure is
			// the work per call rather than the cost of waking an idle process.
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					for _, c := range clients {
						if err := call(ctx, c); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.StopTimer()
			bare := float64(servers[0].cpu(b)-before[0]) / float64(b.N)
			ours := float64(servers[1].cpu(b)-before[1]) / float64(b.N)
			b.ReportMetric(bare, "bare-cpu-ns/op")
			b.ReportMetric(ours, "ours-cpu-ns/op")
			b.ReportMetric(ours/bare, "ours/bare")
		})
	}
}

func BenchmarkUnary(b *testing.B) {
	req := &greeterv1.SayHelloRequest{Name: "you"}
	benchServerCPU(b, func(ctx context.Context, c greeterv1.GreeterServiceClient) error {
		_, err := c.SayHello(ctx, req)
		return err
	})
}

func BenchmarkStream(b *testing.B) {
	req := &greeterv1.SayHelloStreamRequest{Name: "you", Count: 10}
	benchServerCPU(b, func(ctx context.Context, c greeterv1.GreeterServiceClient) error {
		stream, err := c.SayHelloStream(ctx, req)
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	})
}
