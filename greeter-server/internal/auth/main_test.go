package auth

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"sync"
)

var discard = slog.New(slog.DiscardHandler)

func sha(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// syncBuffer is a log destination tests can read while the logger writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
