//go:build !linux

package serve

import (
	"net"
	"time"
)

// setUserTimeout does nothing: TCP_USER_TIMEOUT is Linux's.
func setUserTimeout(net.Conn, time.Duration) {}
