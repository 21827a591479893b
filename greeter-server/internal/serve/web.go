package serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/greeter-go/greeter/greeter-server/internal/web"
)

// The HTTP listener: one net/http server, HTTP/1.1 and h2c in plaintext,
// HTTP/2 and HTTP/1.1 over TLS, that decides per request what it serves:
//
//   - POST to a method with content type application/grpc[+proto]: native
//     gRPC, handed to webGRPC.ServeHTTP;
//   - POST to a method with any other content type the API speaks: Connect
//     (JSON or binary protobuf, unary and server streaming) or gRPC-Web,
//     which vanguard translates into gRPC for webGRPC.ServeHTTP;
//   - any other HTTP method on a method's path: 405 Method Not Allowed
//     (allowMethods);
//   - GET / (and its script and style): the greeting page;
//   - GET /healthz: 200 while the health service reports SERVING for the
//     server as a whole, 503 otherwise, for load balancers and proxies that
//     cannot make a gRPC health call.
//
// Because nothing is decided per connection, a proxy or client that pools
// connections may send any mix of these over one connection, in any order.
//
// webGRPC is a second grpc.Server, built by New with the same options,
// interceptors and service implementations as the gRPC listener's, so every
// rule, limit, log line and metric applies to both listeners. It is a server
// of its own because grpc.Server.GracefulStop closes the calls it is serving
// through ServeHTTP at once, where http.Server.Shutdown lets them finish.
// grpc.Server.ServeHTTP skips what lives in grpc-go's HTTP/2 transport; the
// http.Server below sets the same limits instead, and httpLimits applies
// the tap handle's call limits, a deadline for reading the request, and a
// lifetime for health Watch streams. The client certificate of a mutual TLS
// connection reaches the interceptors as on the gRPC listener:
// grpc.Server.ServeHTTP makes Request.TLS the call's peer.AuthInfo.

// newWebServer returns the http.Server of the HTTP listener, serving the API
// from webGRPC, the page, /healthz and CORS for origins; tlsConfig is nil for
// plaintext.
func (s *Server) newWebServer(webGRPC *grpc.Server, origins []string, tlsConfig *tls.Config) (*http.Server, error) {
	// What vanguardgrpc.NewTranscoder(webGRPC) builds, but with webGRPC
	// behind limitStatus, as native gRPC calls reach it.
	grpcHandler := limitStatus(webGRPC)
	var services []*vanguard.Service
	for name := range webGRPC.GetServiceInfo() {
		services = append(services, vanguard.NewService(name, grpcHandler))
	}
	transcoder, err := vanguard.NewTranscoder(services,
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			return requestJSONCodec{vanguard.NewJSONCodec(res)}
		}),
		vanguard.WithDefaultServiceOptions(
			vanguard.WithTargetProtocols(vanguard.ProtocolGRPC),
			vanguard.WithTargetCodecs(vanguard.CodecProto),
			// vanguard's default is 4 GiB: take no more than gRPC does.
			vanguard.WithMaxMessageBufferBytes(MaxRecvMsgSize),
			vanguard.WithMaxGetURLBytes(MaxRecvMsgSize),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("serve Connect and gRPC-Web: %w", err)
	}
	mux := http.NewServeMux()
	page := web.Page()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /greet.js", page)
	mux.Handle("GET /greet.css", page)
	mux.HandleFunc("GET /healthz", s.healthz)
	allowed := allowedMethods(webGRPC.GetServiceInfo(), protoregistry.GlobalFiles)
	api := s.httpLimits(byContentType(allowed, unaryInputs(webGRPC), grpcHandler, transcoder))
	if s.guard != nil {
		api = s.authHTTP(api)
	}
	mux.Handle("/", allowMethods(allowed, api))
	handler, err := web.CORS(origins, mux)
	if err != nil {
		return nil, fmt.Errorf("--cors-origin: %w", err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)            // with TLS
	protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge, as gRPC clients and proxies speak it
	return &http.Server{
		Handler:   handler,
		Protocols: protocols,
		TLSConfig: tlsConfig,
		// Slowloris: the TLS handshake, and then each HTTP/1.1 request's
		// line and headers, must arrive within the time a gRPC connection
		// has for its handshake (net/http's HTTP/2 server applies it to the
		// handshake alone). The body has its own deadline (httpLimits).
		ReadHeaderTimeout: s.lim.ConnectionTimeout,
		IdleTimeout:       s.lim.MaxConnectionIdle,
		// Header bytes per request, as MaxHeaderListSize on the gRPC
		// listener: HTTP/1.1 requests over it are answered 431, and HTTP/2
		// advertises it (plus net/http's small per-field allowance).
		MaxHeaderBytes: MaxHeaderListSize,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: MaxConcurrentStreams,
			SendPingTimeout:      s.lim.KeepaliveTime,
			PingTimeout:          s.lim.KeepaliveTimeout,
		},
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}, nil
}

// ServeWeb serves the HTTP listener on lis, with TLS if the server has it,
// until Shutdown. It returns nil once the server has stopped.
func (s *Server) ServeWeb(lis net.Listener) error {
	var err error
	if s.web.TLSConfig != nil {
		err = s.web.ServeTLS(lis, "", "")
	} else {
		err = s.web.Serve(lis)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve HTTP on %s: %w", lis.Addr(), err)
	}
	return nil
}

// healthz answers GET /healthz: 200 SERVING while the health service
// reports the server as a whole ("") SERVING, else 503 with its status.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	resp, err := s.health.Check(r.Context(), &healthpb.HealthCheckRequest{})
	st := resp.GetStatus()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil || st != healthpb.HealthCheckResponse_SERVING {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = fmt.Fprintln(w, st)
}

// requestJSONCodec is vanguard's JSON codec, which decodes only what clients
// send (the server side speaks protobuf), with its errors marked
// INVALID_ARGUMENT: a request body that is not JSON of the request message is
// the client's mistake, which vanguard would otherwise answer with UNKNOWN and
// HTTP 500.
type requestJSONCodec struct{ *vanguard.JSONCodec }

func (c requestJSONCodec) Unmarshal(data []byte, msg proto.Message) error {
	if err := c.JSONCodec.Unmarshal(data, msg); err != nil {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the request body is not JSON of %s: %w", msg.ProtoReflect().Descriptor().FullName(), err))
	}
	return nil
}

// allowedMethods returns, by the URL path of every method in services
// (/greeter.v1.GreeterService/SayHello), the HTTP methods it may be called
// with, as an Allow header: POST, and GET too for a unary method whose
// idempotency level is NO_SIDE_EFFECTS, which the Connect protocol lets
// clients call with GET and vanguard serves so. No method of the API is
// marked so today; reading the mark here, from the descriptors in files,
// keeps allowMethods from refusing such calls once one is.
func allowedMethods(services map[string]grpc.ServiceInfo, files interface {
	FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
}) map[string]string {
	allowed := map[string]string{}
	for svc, info := range services {
		d, _ := files.FindDescriptorByName(protoreflect.FullName(svc))
		sd, _ := d.(protoreflect.ServiceDescriptor)
		for _, m := range info.Methods {
			allow := http.MethodPost
			if sd != nil && !m.IsClientStream && !m.IsServerStream && noSideEffects(sd.Methods().ByName(protoreflect.Name(m.Name))) {
				allow = http.MethodGet + ", " + http.MethodPost
			}
			allowed["/"+svc+"/"+m.Name] = allow
		}
	}
	return allowed
}

// noSideEffects reports whether md, if not nil, is marked
// idempotency_level = NO_SIDE_EFFECTS.
func noSideEffects(md protoreflect.MethodDescriptor) bool {
	if md == nil {
		return false
	}
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	return ok && opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}

// allowMethods answers a request to a method's path (in allowed, see
// allowedMethods) made with an HTTP method the API's method cannot be
// called with, such as a GET from a browser's address bar or a bare curl,
// 405 Method Not Allowed, naming the ones it can in Allow. vanguard would
// take such a request for REST and answer 404, as if nothing were there. It
// runs before authentication: the answer tells only what the API's
// descriptors (and server reflection) tell anyone. A CORS preflight
// (OPTIONS) never gets here: web.CORS answers it for the origins it allows.
func allowMethods(allowed map[string]string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow, ok := allowed[r.URL.Path]
		if !ok || r.Method == http.MethodPost || (r.Method == http.MethodGet && allow != http.MethodPost) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		http.Error(w, fmt.Sprintf("%s %s: method not allowed; this is an RPC method, called with %s by Connect, gRPC-Web and gRPC clients, such as curl -H 'Content-Type: application/json' -d '{...}'", r.Method, r.URL.Path, allow), http.StatusMethodNotAllowed)
	})
}

// acceptPost lists the content types a POST to a method may have: Connect
// unary and streaming, gRPC-Web, and gRPC.
const acceptPost = "application/json, application/proto, application/connect+json, application/connect+proto, application/grpc-web, application/grpc-web+proto, application/grpc-web-text, application/grpc"

// acceptPostHint follows an unsupported content type in a 415 answer: the
// content types of acceptPost, each once, by protocol.
const acceptPostHint = "send application/json or application/proto (Connect unary: JSON or binary), " +
	"application/connect+json or application/connect+proto (Connect streaming), " +
	"application/grpc-web, application/grpc-web+proto or application/grpc-web-text (gRPC-Web), " +
	"or application/grpc (gRPC, HTTP/2 only)"

// byContentType sends each POST to one of the API's methods where its
// content type says: native gRPC (HTTP/2 only, as gRPC is) straight to
// grpcSrv.ServeHTTP, Connect and gRPC-Web to the transcoder. Before that, it
// makes them plain Connect calls as far as their content type goes. A unary
// call of JSON or binary protobuf needs no Connect-Protocol-Version header
// (the protocol makes it optional, and curl users do not send it; vanguard
// would otherwise take the call for REST and answer 404), and any other
// content type is answered 415 Unsupported Media Type, naming those it
// supports, as the Connect protocol asks. A unary call's binary body is
// checked against its request message type in inputs (see checkProtoBody).
// Other requests (an unknown path, a Connect GET of a method that allows
// one) go to the transcoder, which answers them.
func byContentType(methods map[string]string, inputs map[string]protoreflect.MessageType, grpcSrv, transcoder http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType := r.Header.Get("Content-Type")
		if r.Method == http.MethodPost && r.ProtoMajor == 2 && isGRPC(contentType) {
			grpcSrv.ServeHTTP(w, r) // it answers unknown methods UNIMPLEMENTED
			return
		}
		if _, ok := methods[r.URL.Path]; r.Method != http.MethodPost || !ok {
			transcoder.ServeHTTP(w, r)
			return
		}
		mediaType, _, _ := strings.Cut(contentType, ";")
		switch mediaType = strings.ToLower(strings.TrimSpace(mediaType)); {
		case mediaType == "application/json" || mediaType == "application/proto":
			if r.Header.Get("Connect-Protocol-Version") == "" {
				r.Header.Set("Connect-Protocol-Version", "1")
			}
			if mt := inputs[r.URL.Path]; mediaType == "application/proto" && mt != nil && !checkProtoBody(w, r, mt) {
				return
			}
		case strings.HasPrefix(mediaType, "application/connect+"), strings.HasPrefix(mediaType, "application/grpc"):
		default:
			w.Header().Set("Accept-Post", acceptPost)
			http.Error(w, fmt.Sprintf("unsupported content type %q: %s", mediaType, acceptPostHint), http.StatusUnsupportedMediaType)
			return
		}
		transcoder.ServeHTTP(w, r)
	})
}

// isGRPC reports whether contentType is native gRPC's: application/grpc or
// application/grpc+CODEC. application/grpc-web is not.
func isGRPC(contentType string) bool {
	rest, ok := strings.CutPrefix(contentType, "application/grpc")
	return ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}

// unaryInputs returns the request message type of every unary method g
// serves, by URL path.
func unaryInputs(g *grpc.Server) map[string]protoreflect.MessageType {
	inputs := map[string]protoreflect.MessageType{}
	for svc, info := range g.GetServiceInfo() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if err != nil || !ok {
			continue
		}
		for _, m := range info.Methods {
			md := sd.Methods().ByName(protoreflect.Name(m.Name))
			if md == nil || m.IsClientStream || m.IsServerStream {
				continue
			}
			if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName()); err == nil {
				inputs["/"+svc+"/"+m.Name] = mt
			}
		}
	}
	return inputs
}

// checkProtoBody answers 400 invalid_argument, in Connect's JSON error
// form, and reports false, when the application/proto body of a unary
// Connect call is not a protobuf encoding of mt, the method's request
// message. vanguard passes binary bodies through undecoded, and grpc-go
// reports a request it cannot decode as INTERNAL, which Connect would send as
// HTTP 500: a server fault, for what is the client's mistake, as malformed
// JSON is. A body it cannot check cheaply (compressed, of unknown or too
// great a length) passes unchecked.
func checkProtoBody(w http.ResponseWriter, r *http.Request, mt protoreflect.MessageType) bool {
	if r.Header.Get("Content-Encoding") != "" || r.ContentLength < 0 || r.ContentLength > MaxRecvMsgSize {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return false
	}
	if err := proto.Unmarshal(body, mt.New().Interface()); err != nil && !decodeKeepingBadStrings(body, mt.New().Interface()) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"code":    "invalid_argument",
			"message": fmt.Sprintf("the request body is not binary protobuf of %s: %v", mt.Descriptor().FullName(), err),
		})
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// httpLimits gives each call on the HTTP listener the limits the gRPC
// listener's transport and tap handle give it:
//
//   - unary and server-streaming calls live at most MaxUnaryDuration and
//     MaxStreamDuration (callContext); client-streaming calls are bounded by
//     drainStream, on both listeners;
//   - a health Watch stream lives at most MaxConnectionAge plus
//     MaxConnectionAgeGrace, the longest it can live on the gRPC listener,
//     where the connection's age ends it, and then ends UNAVAILABLE, which
//     tells its client to watch again;
//   - the request of a call that sends one message (every call but the
//     client-streaming ones) must arrive within MaxUnaryDuration. Neither
//     vanguard nor grpc.Server.ServeHTTP watches the call's context while
//     it reads the body, so a client trickling its request would hold the
//     call, its goroutines and (over HTTP/1.1) its connection with no end:
//     the read deadline cuts the body, the call fails, and an HTTP/1.1
//     connection is closed.
func (s *Server) httpLimits(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, ok := s.tapLimits[r.URL.Path]
		if r.URL.Path == healthWatch {
			limit, ok = s.watchLimit, true
		}
		if !ok || r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), limit.after, limit.cause)
		defer cancel()
		r = r.WithContext(ctx)
		readWithin(w, r, s.lim.MaxUnaryDuration)
		h.ServeHTTP(w, r)
	})
}

// limitStatus serves gRPC calls with g, native ones and those vanguard
// translates, and ends a call that reached its limit in httpLimits with
// the limit's status, as the gRPC listener does. grpc.Server.ServeHTTP stops
// serving a call as soon as its request's context ends, and cancels the
// call's own context itself: the status the handler returns then is sent
// only if it gets there first, and may have lost the limit as its cause
// (CANCELLED, not the limit's; see callStatus). Clients would see the call
// end with no status (which they take for INTERNAL) or the wrong one. So
// whatever status but OK grpc-go left in the trailers is replaced: they are
// sent once the handler returns, and once ServeHTTP has returned, nothing of
// grpc-go's writes to w any more.
func limitStatus(g http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.ServeHTTP(w, r)
		h := w.Header()
		if r.Context().Err() == nil || h.Get("Grpc-Status") == "0" {
			return
		}
		st, ok := status.FromError(context.Cause(r.Context()))
		if !ok {
			return // the client is gone
		}
		if !slices.Contains(h.Values("Trailer"), "Grpc-Status") {
			// Nothing was sent: the headers grpc-go sends first.
			h.Set("Content-Type", r.Header.Get("Content-Type"))
			h.Add("Trailer", "Grpc-Status")
			h.Add("Trailer", "Grpc-Message")
			w.WriteHeader(http.StatusOK)
		}
		h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
		h.Set("Grpc-Message", grpcMessage(st.Message()))
		h.Del("Grpc-Status-Details-Bin")
	})
}

// grpcMessage percent-encodes msg for the grpc-message trailer.
func grpcMessage(msg string) string {
	var b strings.Builder
	for _, c := range []byte(msg) {
		if c >= ' ' && c <= '~' && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// readWithin sets a deadline d away for reading r's body, and lifts it once
// the body has been read to its end, so that it never cuts a response that
// streams for longer (HTTP/1.1 keeps reading the connection after the body,
// to notice a client that hangs up).
func readWithin(w http.ResponseWriter, r *http.Request, d time.Duration) {
	rc := http.NewResponseController(w)
	if r.Body == nil || r.Body == http.NoBody || rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

// deadlineBody lifts its read deadline when it reaches the end.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// shutdownWeb stops the HTTP listener: no new calls, open ones may finish
// until ctx ends, then they are cut.
func (s *Server) shutdownWeb(ctx context.Context) {
	if err := s.web.Shutdown(ctx); err != nil {
		s.web.Close()
	}
	s.webGRPC.Stop()
}
