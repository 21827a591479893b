package observe

import (
	"net/http"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
)

// Metrics records per-method RPC counts, status codes and handling-time
// histograms with go-grpc-middleware's Prometheus provider, in a registry of
// its own (no global state), together with Go runtime and process metrics.
type Metrics struct {
	registry *prometheus.Registry
	server   *grpcprom.ServerMetrics
	opts     []grpcprom.Option
}

// NewMetrics returns empty metrics, registered in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		server:   grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram()),
	}
	m.registry.MustRegister(m.server,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds c, another part of the server's metrics (such as the
// refusal counter of package auth), to the registry Handler serves.
func (m *Metrics) Register(c prometheus.Collector) {
	m.registry.MustRegister(c)
}

// UnaryInterceptor returns the interceptor that records unary calls.
func (m *Metrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return m.server.UnaryServerInterceptor(m.opts...)
}

// StreamInterceptor returns the interceptor that records streaming calls.
func (m *Metrics) StreamInterceptor() grpc.StreamServerInterceptor {
	return m.server.StreamServerInterceptor(m.opts...)
}

// Initialize creates the zero-valued series of every method srv serves, so
// they are exported before the first call. Call it after registering the
// services.
func (m *Metrics) Initialize(srv *grpc.Server) {
	m.server.InitializeMetrics(srv)
}

// Handler serves the metrics for /metrics: in the Prometheus text format,
// or in OpenMetrics, which carries exemplars, when the scraper asks for it
// (Accept: application/openmetrics-text; Prometheus does).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
