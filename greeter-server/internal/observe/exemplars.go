package observe

import (
	"context"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// TraceExemplars makes a call that is traced and sampled attach its trace id
// to what it records (exemplars, served in the OpenMetrics format), so a
// slow histogram bucket leads to a trace of a call that landed in it. Call
// it before UnaryInterceptor and StreamInterceptor.
func (m *Metrics) TraceExemplars() {
	m.opts = append(m.opts, grpcprom.WithExemplarFromContext(TraceExemplar))
}

// TraceExemplar returns the exemplar labels of the call whose context is
// ctx: its trace id when this server traced and sampled the call, and nil
// otherwise (the observation then has no exemplar).
func TraceExemplar(ctx context.Context) prometheus.Labels {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() || !span.SpanContext().IsSampled() {
		return nil
	}
	return prometheus.Labels{"trace_id": span.SpanContext().TraceID().String()}
}
