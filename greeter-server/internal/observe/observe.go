// Package observe holds greeter-server's gRPC interceptors for what an
// operator sees and relies on: panic recovery, the access log and Prometheus
// metrics. Package serve chains them; each works on any grpc.Server.
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

// RecoverUnary returns an interceptor that turns a panic in a unary handler
// into an Internal status for that call, logging the panic and its stack, so
// one bad call does not take the server down.
func RecoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = recovered(ctx, logger, info.FullMethod, p)
			}
		}()
		return handler(ctx, req)
	}
}

// RecoverStream is RecoverUnary for streaming handlers.
func RecoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = recovered(ss.Context(), logger, info.FullMethod, p)
			}
		}()
		return handler(srv, ss)
	}
}

func recovered(ctx context.Context, logger *slog.Logger, method string, p any) error {
	logger.ErrorContext(ctx, "panic in gRPC handler", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error")
}

// AccessLogLevel is the level of the access log lines. At the default log
// level (info) they are off, and then cost one Enabled check per call.
const AccessLogLevel = slog.LevelDebug

// AccessLogUnary returns an interceptor that logs one line per unary call,
// with its method, status code, duration and peer address, at AccessLogLevel.
func AccessLogUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !logger.Enabled(ctx, AccessLogLevel) {
			return handler(ctx, req)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, logger, info.FullMethod, err, time.Since(start))
		return resp, err
	}
}

// AccessLogStream is AccessLogUnary for streaming calls; it logs when the
// stream ends.
func AccessLogStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx := ss.Context()
		if !logger.Enabled(ctx, AccessLogLevel) {
			return handler(srv, ss)
		}
		start := time.Now()
		err := handler(srv, ss)
		logCall(ctx, logger, info.FullMethod, err, time.Since(start))
		return err
	}
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
