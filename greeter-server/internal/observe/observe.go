// Package observe holds greeter-server's gRPC interceptors for what an
// operator sees and relies on: panic recovery with the access log (Unary,
// Stream), and Prometheus metrics (Metrics). Package serve chains them; each
// works on any grpc.Server.
package observe

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// AccessLogLevel is the level of the access log lines. At the default log
// level (info) they are off, and then cost one Enabled check per call.
const AccessLogLevel = slog.LevelDebug

// Unary returns the interceptor for unary calls that does two jobs in one
// layer (each layer of an interceptor chain costs an allocation per call):
//
//   - it turns a panic in the handler into an Internal status for that call,
//     logging the panic and its stack, so one bad call does not take the
//     server down;
//   - it writes the access log: one line per call, with its method, status
//     code, duration and peer address, at AccessLogLevel.
func Unary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		var start time.Time
		logged := logger.Enabled(ctx, AccessLogLevel)
		if logged {
			start = time.Now()
		}
		defer func() {
			if p := recover(); p != nil {
				resp, err = nil, recovered(ctx, logger, info.FullMethod, p)
			}
			if logged {
				logCall(ctx, logger, info.FullMethod, err, time.Since(start))
			}
		}()
		return handler(ctx, req)
	}
}

// Stream is Unary for streaming calls; the access log line is written when
// the stream ends.
func Stream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx := ss.Context()
		var start time.Time
		logged := logger.Enabled(ctx, AccessLogLevel)
		if logged {
			start = time.Now()
		}
		defer func() {
			if p := recover(); p != nil {
				err = recovered(ctx, logger, info.FullMethod, p)
			}
			if logged {
				logCall(ctx, logger, info.FullMethod, err, time.Since(start))
			}
		}()
		return handler(srv, ss)
	}
}

func recovered(ctx context.Context, logger *slog.Logger, method string, p any) error {
	logger.ErrorContext(ctx, "panic in gRPC handler", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error")
}

func logCall(ctx context.Context, logger *slog.Logger, method string, err error, d time.Duration) {
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	logger.LogAttrs(ctx, AccessLogLevel, "rpc",
		slog.String("method", method),
		slog.String("code", status.Code(err).String()),
		slog.Duration("duration", d),
		slog.String("peer", addr))
}
