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

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
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
//     code, duration, peer address and who called: for a client that
//     presented a certificate, its identity (auth.Principal, as client=),
//     and for one that sent a verified bearer token, its subject (as
//     subject=), at AccessLogLevel.
func Unary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		c := begin(ctx, logger, info.FullMethod)
		defer func() { err = c.end(recover(), err) }()
		return handler(ctx, req)
	}
}

// Stream is Unary for streaming calls; the access log line is written when
// the stream ends.
func Stream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		c := begin(ss.Context(), logger, info.FullMethod)
		defer func() { err = c.end(recover(), err) }()
		return handler(srv, ss)
	}
}

// call is one call seen by Unary or Stream. It is a value, so tracking a
// call allocates nothing; the start time is only read when the access log
// is on.
type call struct {
	ctx    context.Context
	logger *slog.Logger
	method string
	logged bool
	start  time.Time
}

func begin(ctx context.Context, logger *slog.Logger, method string) call {
	c := call{ctx: ctx, logger: logger, method: method, logged: logger.Enabled(ctx, AccessLogLevel)}
	if c.logged {
		c.start = time.Now()
	}
	return c
}

// end returns the call's error: Internal if the handler panicked with p,
// else err. It writes the access log line if that is on.
func (c call) end(p any, err error) error {
	if p != nil {
		err = recovered(c.ctx, c.logger, c.method, p)
	}
	if c.logged {
		logCall(c.ctx, c.logger, c.method, err, time.Since(c.start))
	}
	return err
}

func recovered(ctx context.Context, logger *slog.Logger, method string, p any) error {
	logger.ErrorContext(ctx, "panic in gRPC handler", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error")
}

func logCall(ctx context.Context, logger *slog.Logger, method string, err error, d time.Duration) {
	addr, client := "unknown", ""
	if p, ok := peer.FromContext(ctx); ok {
		if p.Addr != nil {
			addr = p.Addr.String()
		}
		client = auth.Principal(p.AuthInfo)
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", status.Code(err).String()),
		slog.Duration("duration", d),
		slog.String("peer", addr),
	}
	if client != "" {
		attrs = append(attrs, slog.String("client", client))
	}
	if caller, ok := auth.FromContext(ctx); ok && caller.Subject != "" {
		attrs = append(attrs, slog.String("subject", caller.Subject))
	}
	logger.LogAttrs(ctx, AccessLogLevel, "rpc", attrs...)
}
