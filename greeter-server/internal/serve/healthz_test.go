package serve

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestHealthz checks GET /healthz on the HTTP listener's handler: 200 while
// the health service reports the server as a whole SERVING, 503 with the
// status otherwise (as when shutdown starts), never cached.
func TestHealthz(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(0, 0) })
	tests := []struct {
		status     healthpb.HealthCheckResponse_ServingStatus
		wantCode   int
		wantInBody string
	}{
		{healthpb.HealthCheckResponse_SERVING, http.StatusOK, "SERVING"},
		{healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable, "NOT_SERVING"},
		{healthpb.HealthCheckResponse_SERVING, http.StatusOK, "SERVING"},
	}
	for _, tt := range tests {
		s.health.SetServingStatus("", tt.status)
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			s.web.Handler.ServeHTTP(rec, httptest.NewRequest(method, "/healthz", nil))
			body := rec.Body.String()
			if rec.Code != tt.wantCode || (method == http.MethodGet && !strings.Contains(body, tt.wantInBody)) || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s /healthz while %v = %d %q (Cache-Control %q), want %d with %q, no-store",
					method, tt.status, rec.Code, body, rec.Header().Get("Cache-Control"), tt.wantCode, tt.wantInBody)
			}
		}
	}
}
