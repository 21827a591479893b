// Package service adapts the greeting core to the gRPC services that
// greeter-server exposes: greeter.v1.GreeterService (greeterv1.go).
// It serves the canonical helloworld.Greeter too (helloworld.go). // trim:helloworld
// Each adapter only moves fields in and out of messages and turns core
// errors into gRPC statuses; the rules and texts live in package greeting.
//
// Streaming handlers end when their stream's context ends. If the context was
// canceled with a gRPC status as its cause (the server does this when it
// drains, see package serve), the handler returns that status, so a stream
// cut short by shutdown ends with a clean, retryable status instead of a
// reset.
package service

import (
	"context"
	"errors"
	"io"
	"time"

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

// ctxStatus is the status a handler returns when its context has ended: the
// cause, if it is a gRPC status, or the status for the context error.
func ctxStatus(ctx context.Context) error {
	if st, ok := status.FromError(context.Cause(ctx)); ok {
		return st.Err()
	}
	return status.FromContextError(ctx.Err()).Err()
}

// sendStream sends the greetings of plan through send, numbered from 1, and
// waits plan.Interval between two of them. It stops early when ctx ends.
func sendStream(ctx context.Context, plan greeting.Stream, send func(seq uint32) error) error {
	var timer *time.Timer
	for i := range plan.Count {
		if i > 0 && plan.Interval > 0 {
			if timer == nil {
				timer = time.NewTimer(plan.Interval)
				defer timer.Stop()
			} else {
				timer.Reset(plan.Interval)
			}
			select {
			case <-ctx.Done():
				return ctxStatus(ctx)
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return ctxStatus(ctx)
		}
		if err := send(uint32(i + 1)); err != nil {
			return err
		}
	}
	return nil
}

// chat greets every name recv returns, in order, through send, until recv
// reports the end of the client's side (io.EOF) or fails. A call the server
// ends itself (it drains, or the call is too old) fails recv too:
// internal/serve sees to that for every streaming method.
func chat(recv func() (string, error), send func(msg string) error) error {
	var c greeting.Chat
	for {
		name, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		msg, err := c.Reply(name)
		if err != nil {
			return toStatus(err)
		}
		if err := send(msg); err != nil {
			return err
		}
	}
}
