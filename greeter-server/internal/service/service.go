// Package service adapts the greeting core to the gRPC services that
// greeter-server exposes: greeter.v1.GreeterService and the canonical
// helloworld.Greeter. Each adapter only moves fields in and out of messages
// and turns core errors into gRPC statuses; the rules and texts live in
// package greeting.
package service

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

// toStatus turns an error from the greeting core into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if invalid, ok := errors.AsType[*greeting.InvalidError](err); ok {
		return status.Error(codes.InvalidArgument, invalid.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
