package serve

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// cacheFiles returns a registry with one service, cache.v1.CacheService,
// whose Get and Watch are marked NO_SIDE_EFFECTS and Put IDEMPOTENT: the
// marks no method of the API has.
func cacheFiles(t *testing.T) *protoregistry.Files {
	t.Helper()
	method := func(name string, level descriptorpb.MethodOptions_IdempotencyLevel, stream bool) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{
			Name: proto.String(name), InputType: proto.String(".cache.v1.Key"), OutputType: proto.String(".cache.v1.Key"),
			ServerStreaming: proto.Bool(stream), Options: &descriptorpb.MethodOptions{IdempotencyLevel: level.Enum()},
		}
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("cache/v1/cache.proto"), Package: proto.String("cache.v1"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Key")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("CacheService"),
			Method: []*descriptorpb.MethodDescriptorProto{
				method("Get", descriptorpb.MethodOptions_NO_SIDE_EFFECTS, false),
				method("Put", descriptorpb.MethodOptions_IDEMPOTENT, false),
				method("Clear", descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN, false),
				method("Watch", descriptorpb.MethodOptions_NO_SIDE_EFFECTS, true),
			},
		}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := new(protoregistry.Files)
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestAllowedMethods checks that only a unary method marked NO_SIDE_EFFECTS,
// which Connect clients may call with GET, is allowed GET; every other
// method, and one whose descriptor is not found, is POST only.
func TestAllowedMethods(t *testing.T) {
	t.Parallel()
	services := map[string]grpc.ServiceInfo{
		"cache.v1.CacheService": {Methods: []grpc.MethodInfo{
			{Name: "Get"}, {Name: "Put"}, {Name: "Clear"}, {Name: "Watch", IsServerStream: true}, {Name: "NotInDescriptor"},
		}},
		"unknown.v1.Service": {Methods: []grpc.MethodInfo{{Name: "Do"}}},
	}
	got := allowedMethods(services, cacheFiles(t))
	want := map[string]string{
		"/cache.v1.CacheService/Get":             "GET, POST",
		"/cache.v1.CacheService/Put":             "POST",
		"/cache.v1.CacheService/Clear":           "POST",
		"/cache.v1.CacheService/Watch":           "POST",
		"/cache.v1.CacheService/NotInDescriptor": "POST",
		"/unknown.v1.Service/Do":                 "POST",
	}
	if !maps.Equal(got, want) {
		t.Errorf("allowedMethods = %v, want %v", got, want)
	}

	// A GET of a method that allows one reaches the API (vanguard serves
	// it as a Connect GET); another method is refused naming both.
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := allowMethods(got, api)
	for _, tt := range []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{http.MethodGet, "/cache.v1.CacheService/Get", http.StatusTeapot, ""},
		{http.MethodPost, "/cache.v1.CacheService/Get", http.StatusTeapot, ""},
		{http.MethodPut, "/cache.v1.CacheService/Get", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodGet, "/cache.v1.CacheService/Put", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/cache.v1.CacheService/Nothing", http.StatusTeapot, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.wantStatus || rec.Header().Get("Allow") != tt.wantAllow {
			t.Errorf("%s %s = %d, Allow %q; want %d, Allow %q", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"), tt.wantStatus, tt.wantAllow)
		}
	}
}
