package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/greeter-go/greeter/greeter-server/internal/web"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h, err := web.CORS([]string{"https://app.example.com", "http://localhost:3000"}, api)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc, method, origin string
		preflight            bool
		wantStatus           int
		wantAllow            string // Access-Control-Allow-Origin
	}{
		{desc: "allowed origin, call", method: "POST", origin: "https://app.example.com", wantStatus: http.StatusTeapot, wantAllow: "https://app.example.com"},
		{desc: "allowed origin, preflight", method: "OPTIONS", origin: "http://localhost:3000", preflight: true, wantStatus: http.StatusNoContent, wantAllow: "http://localhost:3000"},
		{desc: "other origin, call", method: "POST", origin: "https://evil.example", wantStatus: http.StatusTeapot},
		{desc: "other origin, preflight", method: "OPTIONS", origin: "https://evil.example", preflight: true, wantStatus: http.StatusTeapot},
		{desc: "same origin (no Origin header)", method: "POST", wantStatus: http.StatusTeapot},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "/greeter.v1.GreeterService/SayHello", nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.preflight {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type,connect-protocol-version")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Result()
		if got.StatusCode != tt.wantStatus || got.Header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
			t.Errorf("%s: %d, Allow-Origin %q; want %d, %q", tt.desc, got.StatusCode, got.Header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantAllow)
		}
		if tt.wantAllow == "" {
			continue
		}
		if tt.preflight {
			allowed := strings.ToLower(got.Header.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "grpc-timeout", "authorization"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("%s: Access-Control-Allow-Headers = %q, want it to allow %s", tt.desc, allowed, want)
				}
			}
			if m := got.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "GET") {
				t.Errorf("%s: Access-Control-Allow-Methods = %q, want GET and POST", tt.desc, m)
			}
		} else if exposed := got.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "Grpc-Status") || !strings.Contains(exposed, "Grpc-Message") {
			t.Errorf("%s: Access-Control-Expose-Headers = %q, want grpc-status and grpc-message (gRPC-Web reads them)", tt.desc, exposed)
		}
	}
}

func TestCORSNoOriginsAddsNothing(t *testing.T) {
	t.Parallel()
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h, err := web.CORS(nil, api)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("OPTIONS", "/greeter.v1.GreeterService/SayHello", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Result().Header.Get("Access-Control-Allow-Origin"); got != "" || rec.Code != http.StatusTeapot {
		t.Errorf("preflight with no origins allowed = %d, Allow-Origin %q; want it passed on with no CORS headers", rec.Code, got)
	}
}

func TestCheckOrigin(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"https://app.example.com", "http://localhost:3000", "https://[::1]:8443"} {
		if err := web.CheckOrigin(o); err != nil {
			t.Errorf("CheckOrigin(%q) = %v, want nil", o, err)
		}
	}
	for _, o := range []string{"", "*", "app.example.com", "https://app.example.com/", "https://app.example.com/path", "ftp://app.example.com", "https://user@app.example.com", "https://app.example.com?x=1"} {
		if err := web.CheckOrigin(o); err == nil {
			t.Errorf("CheckOrigin(%q) = nil, want an error", o)
		}
	}
}
