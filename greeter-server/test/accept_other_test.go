//go:build !linux

package test

import "testing"

// TestAcceptOutOfFileDescriptors runs on Linux only (see accept_test.go).
func TestAcceptOutOfFileDescriptors(t *testing.T) {
	t.Skip("needs Linux: it lowers the server's RLIMIT_NOFILE with prlimit(2) and counts its descriptors in /proc")
}
