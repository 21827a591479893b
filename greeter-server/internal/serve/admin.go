package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/admin"
)

// startAdmin serves the admin surface on addr, if addr is set, until the
// returned stop is called: one listener, routed by request,
//
//   - Go's profiler over HTTP/1.1 or HTTP/2, at /debug/pprof/ (go tool
//     pprof http://ADDR/debug/pprof/profile, curl);
//   - grpc-go's admin services over gRPC (plaintext HTTP/2): channelz, which
//     shows the server's listeners, connections and call counts (grpcdebug,
//     grpcurl). CSDS joins it only in builds that link xDS, which this one
//     does not.
//
// It never shares the public port: profiles and connection details are for
// operators, and a CPU profile costs the server while it runs. It is
// plaintext and unauthenticated, so it should listen on loopback (reach it
// with kubectl port-forward); it warns when it does not.
func startAdmin(ctx context.Context, addr string, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for admin on %s: %w", addr, err)
	}
	g := grpc.NewServer()
	cleanup, err := admin.Register(g)
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("admin services: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC clients speak HTTP/2 with prior knowledge
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				g.ServeHTTP(w, r)
				return
			}
			mux.ServeHTTP(w, r)
		}),
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(lis) }()
	logger.Info("admin listening", "addr", lis.Addr().String(), "pprof", "/debug/pprof/", "grpc", "channelz")
	if !isLoopback(lis.Addr()) {
		logger.Warn("admin surface (pprof, channelz) on a non-loopback address; anyone who can reach it can profile the server and see its connections; keep --admin-addr on loopback", "addr", lis.Addr().String())
	}
	return func() {
		_ = srv.Close()
		g.Stop()
		if cleanup != nil {
			cleanup()
		}
	}, nil
}
