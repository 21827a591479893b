package serve

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/greeter-go/greeter/greeter-server/internal/auth"
)

// Authentication and authorization (package auth) on every listener,
// before a call's request is read:
//
//   - on the gRPC listener, in grpc-go's tap handle (callContext), which
//     sees the method, the headers and the connection before the stream
//     exists; a refused call is answered there and costs no goroutine and
//     no decoding. The tap handle runs on the connection's reading
//     goroutine, so it never waits for the network: a token signed with a
//     key the server has not fetched yet is passed on to authPending, which
//     fetches the keys and decides in the call's own goroutine.
// trim:http begin
//   - on the HTTP listener, in authHTTP, before the body is read, for
//     every protocol: native gRPC, gRPC-Web and Connect, answered in the
//     caller's protocol (Connect: 401 with WWW-Authenticate: Bearer, or
//     403).
// trim:http end
//
// An accepted call's context carries its auth.Caller (for the access log
// and the service), and its request headers never carry a value of
// auth.SubjectHeader the client sent.

// authTap authenticates and authorizes a call on the gRPC listener; see
// callContext.
func (s *Server) authTap(ctx context.Context, info *tap.Info) (context.Context, error) {
	p, _ := peer.FromContext(ctx)
	var call auth.Call
	call.Method, call.Header = info.FullMethodName, auth.MD(info.Header)
	if p != nil {
		call.AuthInfo, call.Peer = p.AuthInfo, p.Addr
	}
	caller, err := s.guard.Check(ctx, call, false)
	if errors.Is(err, auth.ErrNeedKeys) {
		// The caller is filled in when authPending decides; the access log,
		// which reads it when the call ends, then names it.
		pending := new(auth.Caller)
		return context.WithValue(auth.NewContext(ctx, pending), pendingKey{}, pending), nil
	}
	if err != nil {
		return nil, err
	}
	return withCaller(ctx, &caller, info.Header), nil
}

// withCaller returns ctx with caller, and with incoming metadata md
// without the SubjectHeader the client sent, if it sent one: md is copied
// then, not changed in place.
func withCaller(ctx context.Context, caller *auth.Caller, md metadata.MD) context.Context {
	ctx = auth.NewContext(ctx, caller)
	if _, sent := md[auth.SubjectHeader]; !sent {
		return ctx
	}
	md = md.Copy()
	delete(md, auth.SubjectHeader)
	return metadata.NewIncomingContext(ctx, md)
}

// pendingKey marks a call whose token authTap could not decide without
// fetching the issuer's keys; its value is the *auth.Caller to fill in.
type pendingKey struct{}

// authPending decides the calls authTap passed on (see pendingKey), in the
// call's goroutine, where waiting for the issuer's keys blocks no one else:
// limitUnary and drainStream call it, the last interceptors before the
// handler. Every other call passes straight through.
func (s *Server) authPending(ctx context.Context) (context.Context, error) {
	if s.guard == nil {
		return ctx, nil
	}
	pending, _ := ctx.Value(pendingKey{}).(*auth.Caller)
	if pending == nil {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	method, _ := grpc.Method(ctx)
	call := auth.Call{Method: method, Header: auth.MD(md)}
	if p, ok := peer.FromContext(ctx); ok {
		call.AuthInfo, call.Peer = p.AuthInfo, p.Addr
	}
	caller, err := s.guard.Check(ctx, call, true)
	if err != nil {
		return nil, err
	}
	*pending = caller
	return withCaller(context.WithValue(ctx, pendingKey{}, (*auth.Caller)(nil)), pending, md), nil
}

// trim:http begin

// authErrors writes refusals on the HTTP listener in the Connect protocol.
var authErrors = connect.NewErrorWriter()

// authHTTP authenticates and authorizes every call on the HTTP listener
// before its body is read, as authTap does on the gRPC listener: it waits
// for the issuer's keys if it must, since each request has a goroutine of
// its own. The page, /healthz and CORS preflight requests never reach it.
func (s *Server) authHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.Open(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		call := auth.Call{Method: r.URL.Path, Header: r.Header, Peer: remoteAddr(r)}
		if r.TLS != nil {
			call.AuthInfo = credentials.TLSInfo{State: *r.TLS, CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
		}
		caller, err := s.guard.Check(r.Context(), call, true)
		if err != nil {
			writeRefusal(w, r, err)
			return
		}
		r.Header.Del(auth.SubjectHeader)
		h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), &caller)))
	})
}

// writeRefusal answers a refused call in its protocol; an unauthenticated
// one also says, in WWW-Authenticate, that a bearer token is wanted
// (RFC 6750).
func writeRefusal(w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	if st.Code() == codes.Unauthenticated {
		challenge := `Bearer realm="greeter"`
		if _, ok := r.Header["Authorization"]; ok {
			challenge += `, error="invalid_token", error_description="` + strings.ReplaceAll(st.Message(), `"`, "'") + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	// gRPC and gRPC-Web (binary and text) get a trailers-only answer: the
	// status in the one HEADERS frame, as grpc-go's own early refusals. A
	// status in trailers after an empty body (what connect-go's ErrorWriter
	// writes) is lost behind HAProxy when the server has not read the
	// request body, as a refusal does not: the proxy drops the trailers and
	// the client sees UNKNOWN (TestProxyAuth).
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/grpc") {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Header().Set("Grpc-Status", strconv.Itoa(int(st.Code())))
		w.Header().Set("Grpc-Message", grpcMessage(st.Message()))
		w.WriteHeader(http.StatusOK)
		return
	}
	_ = authErrors.Write(w, r, connect.NewError(connect.Code(st.Code()), errors.New(st.Message())))
}

// remoteAddr is the request's peer address.
func remoteAddr(r *http.Request) *addr {
	return &addr{r.RemoteAddr}
}

// addr is a net.Addr for a request's RemoteAddr.
type addr struct{ s string }

func (a *addr) Network() string { return "tcp" }
func (a *addr) String() string  { return a.s }

// trim:http end
