package service_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
	"github.com/greeter-go/greeter/greeter-api/helloworld"
)

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantStatus fails the test unless err has code and a message containing
// every part.
func wantStatus(t *testing.T, call string, err error, code codes.Code, parts ...string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Errorf("%s error = %v, want code %v", call, err, code)
		return
	}
	for _, p := range parts {
		if !strings.Contains(st.Message(), p) {
			t.Errorf("%s error = %v, want a message containing %q", call, err, p)
		}
	}
}

func TestSayHelloStream(t *testing.T) {
	t.Parallel()
	client := greeterv1.NewGreeterServiceClient(dial(t))
	tests := []struct {
		req  *greeterv1.SayHelloStreamRequest
		want int
	}{
		{req: &greeterv1.SayHelloStreamRequest{Name: "you"}, want: 3},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Count: 1}, want: 1},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Count: 4, Interval: durationpb.New(5 * time.Millisecond)}, want: 4},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Count: 100}, want: 100},
	}
	for _, tt := range tests {
		stream, err := client.SayHelloStream(callCtx(t), tt.req)
		if err != nil {
			t.Fatalf("SayHelloStream(%v): %v", tt.req, err)
		}
		var got int
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("SayHelloStream(%v) Recv #%d: %v", tt.req, got+1, err)
			}
			got++
			if resp.GetMessage() != "Hello, you!" || resp.GetSequence() != uint32(got) {
				t.Errorf("SayHelloStream(%v) #%d = %q, %d, want %q, %d", tt.req, got, resp.GetMessage(), resp.GetSequence(), "Hello, you!", got)
			}
		}
		if got != tt.want {
			t.Errorf("SayHelloStream(%v) sent %d greetings, want %d", tt.req, got, tt.want)
		}
	}
}

func TestSayHelloStreamRejects(t *testing.T) {
	t.Parallel()
	client := greeterv1.NewGreeterServiceClient(dial(t))
	tests := []struct {
		req   *greeterv1.SayHelloStreamRequest
		parts []string
	}{
		{req: &greeterv1.SayHelloStreamRequest{}, parts: []string{"name", "required"}},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Count: 101}, parts: []string{"count", "from 1 to 100"}},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Interval: durationpb.New(-time.Second)}, parts: []string{"interval", "negative"}},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Interval: durationpb.New(11 * time.Second)}, parts: []string{"interval", "at most 10s"}},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Interval: durationpb.New(time.Microsecond)}, parts: []string{"interval", "whole milliseconds"}},
		{req: &greeterv1.SayHelloStreamRequest{Name: "you", Interval: &durationpb.Duration{Nanos: 2e9}}, parts: []string{"interval", "valid"}},
	}
	for _, tt := range tests {
		stream, err := client.SayHelloStream(callCtx(t), tt.req)
		if err == nil {
			_, err = stream.Recv()
		}
		wantStatus(t, "SayHelloStream("+tt.req.String()+")", err, codes.InvalidArgument, tt.parts...)
	}
}

func TestSayHelloGroup(t *testing.T) {
	t.Parallel()
	client := greeterv1.NewGreeterServiceClient(dial(t))
	tests := []struct {
		names    []string
		want     string
		wantCode codes.Code
		parts    []string
	}{
		{names: []string{"Ann"}, want: "Hello, Ann!"},
		{names: []string{"Ann", "Bob", "Cy"}, want: "Hello, Ann, Bob and Cy!"},
		{names: nil, wantCode: codes.InvalidArgument, parts: []string{"name", "between 1 and 1000 names"}},
		{names: []string{"Ann", ""}, wantCode: codes.InvalidArgument, parts: []string{"name", "required"}},
		{names: slices.Repeat([]string{"x"}, 1001), wantCode: codes.InvalidArgument, parts: []string{"name", "at most 1000 names"}},
	}
	for _, tt := range tests {
		stream, err := client.SayHelloGroup(callCtx(t))
		if err != nil {
			t.Fatalf("SayHelloGroup: %v", err)
		}
		for _, n := range tt.names {
			if err := stream.Send(&greeterv1.SayHelloGroupRequest{Name: n}); err != nil {
				break // the server has answered already; CloseAndRecv has its status
			}
		}
		resp, err := stream.CloseAndRecv()
		if tt.wantCode != codes.OK {
			wantStatus(t, "SayHelloGroup", err, tt.wantCode, tt.parts...)
			continue
		}
		if err != nil || resp.GetMessage() != tt.want || int(resp.GetCount()) != len(tt.names) {
			t.Errorf("SayHelloGroup(%q) = %q, %d, %v, want %q, %d, nil", tt.names, resp.GetMessage(), resp.GetCount(), err, tt.want, len(tt.names))
		}
	}
}

// chatStream is the client side of SayHelloChat or SayHelloBidiStream.
type chatStream struct {
	send      func(name string) error
	recv      func() (string, error)
	closeSend func() error
}

func chatStreams(t *testing.T, cc *grpc.ClientConn) map[string]func(context.Context) chatStream {
	t.Helper()
	return map[string]func(context.Context) chatStream{
		"SayHelloChat": func(ctx context.Context) chatStream {
			s, err := greeterv1.NewGreeterServiceClient(cc).SayHelloChat(ctx)
			if err != nil {
				t.Fatalf("SayHelloChat: %v", err)
			}
			return chatStream{
				send:      func(n string) error { return s.Send(&greeterv1.SayHelloChatRequest{Name: n}) },
				recv:      func() (string, error) { r, err := s.Recv(); return r.GetMessage(), err },
				closeSend: s.CloseSend,
			}
		},
		// trim:helloworld begin
		"SayHelloBidiStream": func(ctx context.Context) chatStream {
			s, err := helloworld.NewGreeterClient(cc).SayHelloBidiStream(ctx)
			if err != nil {
				t.Fatalf("SayHelloBidiStream: %v", err)
			}
			return chatStream{
				send:      func(n string) error { return s.Send(&helloworld.HelloRequest{Name: n}) },
				recv:      func() (string, error) { r, err := s.Recv(); return r.GetMessage(), err },
				closeSend: s.CloseSend,
			}
		},
		// trim:helloworld end
	}
}

func TestChatGreetsEachName(t *testing.T) {
	t.Parallel()
	cc := dial(t)
	for method, open := range chatStreams(t, cc) {
		s := open(callCtx(t))
		for _, n := range []string{"Ann", "Bob", "世界"} {
			if err := s.send(n); err != nil {
				t.Fatalf("%s Send(%q): %v", method, n, err)
			}
			got, err := s.recv()
			if want := "Hello, " + n + "!"; err != nil || got != want {
				t.Errorf("%s(%q) = %q, %v, want %q, nil", method, n, got, err, want)
			}
		}
		if err := s.closeSend(); err != nil {
			t.Fatalf("%s CloseSend: %v", method, err)
		}
		if _, err := s.recv(); !errors.Is(err, io.EOF) {
			t.Errorf("%s after CloseSend: Recv = %v, want io.EOF (status OK)", method, err)
		}
	}
}

func TestChatRejects(t *testing.T) {
	t.Parallel()
	cc := dial(t)
	for method, open := range chatStreams(t, cc) {
		s := open(callCtx(t))
		if err := s.send("line\nbreak"); err != nil {
			t.Fatalf("%s Send: %v", method, err)
		}
		_, err := s.recv()
		wantStatus(t, method+"(\"line\\nbreak\")", err, codes.InvalidArgument, "name", "control characters")

		// The cap: 1000 names are greeted, the 1001st ends the call.
		s = open(callCtx(t))
		go func() {
			for range 1001 {
				if s.send("x") != nil {
					return
				}
			}
		}()
		var greeted int
		for {
			_, err = s.recv()
			if err != nil {
				break
			}
			greeted++
		}
		if greeted != 1000 {
			t.Errorf("%s greeted %d names, want 1000", method, greeted)
		}
		wantStatus(t, method+" with 1001 names", err, codes.InvalidArgument, "name", "at most 1000 names")
	}
}

func TestChatEndsWhenClientCancels(t *testing.T) {
	t.Parallel()
	cc := dial(t)
	for method, open := range chatStreams(t, cc) {
		ctx, cancel := context.WithCancel(callCtx(t))
		s := open(ctx)
		if err := s.send("Ann"); err != nil {
			t.Fatalf("%s Send: %v", method, err)
		}
		if _, err := s.recv(); err != nil {
			t.Fatalf("%s Recv: %v", method, err)
		}
		cancel()
		_, err := s.recv()
		wantStatus(t, method+" after cancel", err, codes.Canceled)
	}
}

// trim:helloworld begin

func TestSayHelloStreamReply(t *testing.T) {
	t.Parallel()
	client := helloworld.NewGreeterClient(dial(t))
	stream, err := client.SayHelloStreamReply(callCtx(t), &helloworld.HelloRequest{Name: "you"})
	if err != nil {
		t.Fatalf("SayHelloStreamReply: %v", err)
	}
	var got []string
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SayHelloStreamReply Recv: %v", err)
		}
		got = append(got, r.GetMessage())
	}
	if want := []string{"Hello, you!", "Hello, you!", "Hello, you!"}; !slices.Equal(got, want) {
		t.Errorf("SayHelloStreamReply(%q) = %q, want %q", "you", got, want)
	}

	stream, err = client.SayHelloStreamReply(callCtx(t), &helloworld.HelloRequest{Name: " "})
	if err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, `SayHelloStreamReply(" ")`, err, codes.InvalidArgument, "name", "white space")
}

// trim:helloworld end
