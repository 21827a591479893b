package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/greeter-go/greeter/greeter-server/internal/web"
)

// The HTTP side of the port: Connect (JSON or binary protobuf, over HTTP/1.1
// or HTTP/2, unary and server streaming), gRPC-Web and the greeting page. The
// router (router.go) sends every connection that is not native gRPC here.
//
// vanguard translates Connect and gRPC-Web calls into gRPC and hands them to
// webGRPC.ServeHTTP: a second grpc.Server, built by New with the same
// options, interceptors and service implementations as the native one, so
// every rule, limit, log line and metric applies to both. It is a server of
// its own because grpc.Server.GracefulStop closes the calls it is serving
// through ServeHTTP at once, where http.Server.Shutdown lets them finish.
// grpc.Server.ServeHTTP skips what lives in grpc-go's HTTP/2 transport; the
// http.Server below sets the same limits instead, and the tap handle's call
// limits are applied by callLimits.

// newWebServer returns the http.Server for the HTTP side, serving the API
// from webGRPC, the page, and CORS for origins.
func (s *Server) newWebServer(webGRPC *grpc.Server, origins []string) (*http.Server, error) {
	transcoder, err := vanguardgrpc.NewTranscoder(webGRPC,
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			return requestJSONCodec{vanguard.NewJSONCodec(res)}
		}),
		vanguard.WithDefaultServiceOptions(
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
	mux.Handle("/", s.callLimits(connectContentTypes(methodPaths(webGRPC), unaryInputs(webGRPC), transcoder)))
	handler, err := web.CORS(origins, mux)
	if err != nil {
		return nil, fmt.Errorf("--cors-origin: %w", err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // TLS, if any, is the router's
	return &http.Server{
		Handler:   handler,
		Protocols: protocols,
		// Slowloris: the request line and headers must arrive within the
		// time a gRPC connection has for its handshake.
		ReadHeaderTimeout: connectionTimeout,
		IdleTimeout:       maxConnectionIdle,
		MaxHeaderBytes:    MaxHeaderListSize,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: MaxConcurrentStreams,
			SendPingTimeout:      keepaliveTime,
			PingTimeout:          keepaliveTimeout,
		},
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}, nil
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

// methodPaths returns the URL path of every method g serves:
// /greeter.v1.GreeterService/SayHello.
func methodPaths(g *grpc.Server) map[string]bool {
	paths := map[string]bool{}
	for svc, info := range g.GetServiceInfo() {
		for _, m := range info.Methods {
			paths["/"+svc+"/"+m.Name] = true
		}
	}
	return paths
}

// acceptPost lists the content types a POST to a method may have: Connect
// unary and streaming, gRPC-Web, and gRPC.
const acceptPost = "application/json, application/proto, application/connect+json, application/connect+proto, application/grpc-web, application/grpc-web+proto, application/grpc-web-text, application/grpc"

// connectContentTypes makes POSTs to the API's methods plain Connect calls
// as far as their content type goes, before vanguard sees them. A unary call
// of JSON or binary protobuf needs no Connect-Protocol-Version header (the
// protocol makes it optional, and curl users do not send it; vanguard would
// otherwise take the call for REST and answer 404), and any other content
// type is answered 415 Unsupported Media Type, naming those it supports, as
// the Connect protocol asks. A unary call's binary body is checked against
// its request message type in inputs (see checkProtoBody).
func connectContentTypes(methods map[string]bool, inputs map[string]protoreflect.MessageType, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !methods[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
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
			http.Error(w, fmt.Sprintf("unsupported content type %q: send application/json (Connect, JSON), application/proto (Connect, binary), or one of: %s", mediaType, acceptPost), http.StatusUnsupportedMediaType)
			return
		}
		h.ServeHTTP(w, r)
	})
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

// callLimits gives each call the same life limits that the tap handle
// (callContext) gives native gRPC calls, which ServeHTTP does not run.
func (s *Server) callLimits(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := s.callContext(r.Context(), &tap.Info{FullMethodName: r.URL.Path})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// shutdownWeb stops the HTTP side: no new calls, open ones may finish until
// ctx ends, then they are cut.
func (s *Server) shutdownWeb(ctx context.Context) {
	if err := s.web.Shutdown(ctx); err != nil {
		s.web.Close()
	}
	s.webGRPC.Stop()
}

// serveRouted serves lis through a router: native gRPC connections to
// s.grpc.Serve, the rest to s.web. It returns once the router and both
// servers have stopped taking connections from lis.
func (s *Server) serveRouted(lis net.Listener) error {
	rt := newRouter(lis, s.tlsConfig, connectionTimeout)
	if !s.routers.add(rt) {
		lis.Close()
		return nil
	}
	var wg sync.WaitGroup
	var routeErr error
	wg.Go(func() { routeErr = rt.run() })
	wg.Go(func() { _ = s.web.Serve(rt.http) })
	err := s.grpc.Serve(rt.grpc)
	rt.close()
	wg.Wait()
	if routeErr != nil {
		return fmt.Errorf("serve on %s: %w", lis.Addr(), routeErr)
	}
	// The router closes the gRPC side's listener when it stops, which can
	// come before grpc.Server learns it is stopping.
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve on %s: %w", lis.Addr(), err)
	}
	return nil
}

// gracefulStop closes the listeners, then stops both sides at once: gRPC
// gracefully, and HTTP letting its calls finish until ctx ends.
func (s *Server) gracefulStop(ctx context.Context) {
	s.routers.stop()
	var wg sync.WaitGroup
	wg.Go(func() { s.shutdownWeb(ctx) })
	s.grpc.GracefulStop()
	wg.Wait()
}

// routers are the routers of a server's Serve calls, which Shutdown stops.
type routers struct {
	mu      sync.Mutex
	list    []*router
	stopped bool
}

// add adds rt, or reports false if the server is stopping.
func (r *routers) add(rt *router) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.list = append(r.list, rt)
	return true
}

func (r *routers) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	for _, rt := range r.list {
		rt.close()
	}
}
