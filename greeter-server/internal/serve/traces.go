package serve

import (
	"context"
	"log/slog"
	"time"

	"github.com/greeter-go/greeter/greeter-server/internal/telemetry"
)

// minFlush is the least time flushTraces gives the exporter, even when the
// shutdown timeout is used up: the spans of the calls that were cut are the
// ones most worth seeing.
const minFlush = time.Second

// flushTraces exports the spans t still holds, within what is left of the
// shutdown timeout (at least minFlush), and stops t. It logs a failure; the
// server stops anyway.
func flushTraces(t *telemetry.Tracing, left time.Duration, logger *slog.Logger) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(left, minFlush))
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		logger.Warn("spans may be lost", "err", err)
	}
}
