// Package grpcenv sets the grpc-go settings that grpc-go reads only from the
// environment, once, while its packages initialize. Importing it (blank)
// from package main makes them part of the binary, so a deployment is safe
// without setting anything; a variable the environment already sets wins.
//
// It has to run before grpc-go's own initialization. Go initializes packages
// in the order of their import paths among those whose imports are done
// (the Go spec, "Package initialization"), and this package imports nothing
// but os, so it runs before google.golang.org/grpc/internal/envconfig; a
// test of the built binary (greeter-server/test) shows that it does. This is
// the one init function in the repository with an effect outside itself,
// because grpc-go offers no other way.
package grpcenv

import "os"

// ControlBufferThrottleLimit is how many control frames (SETTINGS and PING
// acknowledgements, stream resets) grpc-go queues for a connection that does
// not read them before it stops reading that connection. grpc-go 1.85 raised
// its default from 100 to 10,000 frames; a client that floods SETTINGS
// frames (each holding up to 2,700 settings) and never reads then held
// 300-400 MiB of the server's memory, and a flood of opened and reset
// streams 600-800 MiB. 100 queued frames is more than any well-behaved
// client causes, and holds those floods to a few MiB.
const ControlBufferThrottleLimit = "100"

// controlBufferVariable is grpc-go's (experimental) name for that setting.
const controlBufferVariable = "GRPC_GO_EXPERIMENTAL_CONTROL_BUFFER_THROTTLE_LIMIT"

func init() {
	if _, set := os.LookupEnv(controlBufferVariable); !set {
		os.Setenv(controlBufferVariable, ControlBufferThrottleLimit)
	}
}
