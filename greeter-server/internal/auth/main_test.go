package auth

import (
	"crypto/sha256"
	"log/slog"

	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

var discard = slog.New(slog.DiscardHandler)

func sha(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// newLogger logs as text into b.
func newLogger(b *testlog.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
