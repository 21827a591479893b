package serve_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(benchServerEnv); kind != "" {
		os.Exit(runBenchServer(kind))
	}
	goleak.VerifyTestMain(m)
}
