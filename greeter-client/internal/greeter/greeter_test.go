package greeter_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// lastMethod records the full method name of the last call a server got.
type lastMethod struct {
	mu   sync.Mutex
	name string
}

func (l *lastMethod) set(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.name = name
}

func (l *lastMethod) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.name
}

// dial starts a test server that records the method of every call, and
// returns a connection to it.
func dial(t *testing.T) (*grpc.ClientConn, *lastMethod) {
	t.Helper()
	seen := &lastMethod{}
	addr := greetertest.Start(t,
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			seen.set(info.FullMethod)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			seen.set(info.FullMethod)
			return h(srv, ss)
		}))
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, seen
}

func newClient(t *testing.T, api string) greeter.Client {
	t.Helper()
	c, err := greeter.New(api)
	if err != nil {
		t.Fatalf("New(%q): %v", api, err)
	}
	return c
}

func recvAll(recv func() (greeter.Greeting, error)) ([]string, error) {
	var got []string
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, m.GetMessage())
	}
}

// TestAdapters makes every call of both adapters and checks what came back,
// and that Method.Name, which --verbose and every error message report, is
// the method the server was called with.
func TestAdapters(t *testing.T) {
	t.Parallel()
	cc, seen := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tests := []struct {
		api, name, wantMethod string
		call                  func(c greeter.Client) (method string, got []string, err error)
		want                  []string
	}{
		{api: greeter.APIGreeterV1, name: "SayHello", wantMethod: "/greeter.v1.GreeterService/SayHello", want: []string{"Hello, Ada!"},
			call: func(c greeter.Client) (string, []string, error) { return unary(ctx, cc, c.SayHello("Ada")) }},
		{api: greeter.APIGreeterV1, name: "SayHelloAgain", wantMethod: "/greeter.v1.GreeterService/SayHelloAgain", want: []string{"Hello again, Ada!"},
			call: func(c greeter.Client) (string, []string, error) { return unary(ctx, cc, c.SayHelloAgain("Ada")) }},
		{api: greeter.APIGreeterV1, name: "SayHelloStream", wantMethod: "/greeter.v1.GreeterService/SayHelloStream", want: []string{"Hello, Ada!", "Hello, Ada!"},
			call: func(c greeter.Client) (string, []string, error) {
				return stream(ctx, cc, c, greeter.StreamRequest{Name: "Ada", Count: 2, Interval: time.Millisecond, CountOrIntervalSet: true})
			}},
		{api: greeter.APIGreeterV1, name: "SayHelloGroup", wantMethod: "/greeter.v1.GreeterService/SayHelloGroup", want: []string{"Hello, Ann and Bob!"},
			call: func(c greeter.Client) (string, []string, error) { return group(ctx, cc, c, "Ann", "Bob") }},
		{api: greeter.APIGreeterV1, name: "SayHelloChat", wantMethod: "/greeter.v1.GreeterService/SayHelloChat", want: []string{"Hello, ann!", "Hello, bob!"},
			call: func(c greeter.Client) (string, []string, error) { return chat(ctx, cc, c, "ann", "bob") }},
		{api: greeter.APIGreeterV1, name: "Check", wantMethod: "/grpc.health.v1.Health/Check", want: []string{"SERVING"},
			call: func(c greeter.Client) (string, []string, error) { return check(ctx, cc, c, "") }},
		// trim:helloworld begin
		{api: greeter.APIHelloworld, name: "SayHello", wantMethod: "/helloworld.Greeter/SayHello", want: []string{"Hello, Ada!"},
			call: func(c greeter.Client) (string, []string, error) { return unary(ctx, cc, c.SayHello("Ada")) }},
		{api: greeter.APIHelloworld, name: "SayHelloStream", wantMethod: "/helloworld.Greeter/SayHelloStreamReply", want: []string{"Hello, Ada!", "Hello, Ada!", "Hello, Ada!"},
			call: func(c greeter.Client) (string, []string, error) {
				return stream(ctx, cc, c, greeter.StreamRequest{Name: "Ada"})
			}},
		{api: greeter.APIHelloworld, name: "SayHelloChat", wantMethod: "/helloworld.Greeter/SayHelloBidiStream", want: []string{"Hello, ann!"},
			call: func(c greeter.Client) (string, []string, error) { return chat(ctx, cc, c, "ann") }},
		{api: greeter.APIHelloworld, name: "Check", wantMethod: "/grpc.health.v1.Health/Check", want: []string{"NOT_SERVING"},
			call: func(c greeter.Client) (string, []string, error) {
				return check(ctx, cc, c, greetertest.UnhealthyService)
			}},
		// trim:helloworld end
	}
	for _, tt := range tests {
		// One at a time: seen holds the last method the server was called with.
		method, got, err := tt.call(newClient(t, tt.api))
		if err != nil {
			t.Errorf("%s %s: %v", tt.api, tt.name, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s %s = %q, want %q", tt.api, tt.name, got, tt.want)
		}
		if method != tt.wantMethod || seen.get() != tt.wantMethod {
			t.Errorf("%s %s: Method.Name %q, server called at %q, want %q", tt.api, tt.name, method, seen.get(), tt.wantMethod)
		}
	}
}

func unary(ctx context.Context, cc grpc.ClientConnInterface, m greeter.Method[greeter.Greeting]) (string, []string, error) {
	resp, err := m.Call(ctx, cc)
	if err != nil {
		return m.Name, nil, err
	}
	return m.Name, []string{resp.GetMessage()}, nil
}

func stream(ctx context.Context, cc grpc.ClientConnInterface, c greeter.Client, req greeter.StreamRequest) (string, []string, error) {
	m, err := c.SayHelloStream(req)
	if err != nil {
		return "", nil, err
	}
	s, err := m.Call(ctx, cc)
	if err != nil {
		return m.Name, nil, err
	}
	got, err := recvAll(s.Recv)
	return m.Name, got, err
}

func group(ctx context.Context, cc grpc.ClientConnInterface, c greeter.Client, names ...string) (string, []string, error) {
	m, err := c.SayHelloGroup()
	if err != nil {
		return "", nil, err
	}
	s, err := m.Call(ctx, cc)
	if err != nil {
		return m.Name, nil, err
	}
	for _, name := range names {
		if err := s.Send(name); err != nil {
			return m.Name, nil, err
		}
	}
	resp, err := s.CloseAndRecv()
	if err != nil {
		return m.Name, nil, err
	}
	return m.Name, []string{resp.GetMessage()}, nil
}

func chat(ctx context.Context, cc grpc.ClientConnInterface, c greeter.Client, names ...string) (string, []string, error) {
	m := c.SayHelloChat()
	s, err := m.Call(ctx, cc)
	if err != nil {
		return m.Name, nil, err
	}
	for _, name := range names {
		if err := s.Send(name); err != nil {
			return m.Name, nil, err
		}
	}
	if err := s.CloseSend(); err != nil {
		return m.Name, nil, err
	}
	got, err := recvAll(s.Recv)
	return m.Name, got, err
}

func check(ctx context.Context, cc grpc.ClientConnInterface, c greeter.Client, service string) (string, []string, error) {
	m := c.Check(service)
	h, err := m.Call(ctx, cc)
	if err != nil {
		return m.Name, nil, err
	}
	if h.Serving != (h.Status == "SERVING") {
		return m.Name, nil, errors.New("Serving disagrees with Status " + h.Status)
	}
	return m.Name, []string{h.Status}, nil
}

// trim:helloworld begin

// TestHelloworldLacks checks that the helloworld adapter refuses what its API
// cannot do with a usage error, before anything is sent.
func TestHelloworldLacks(t *testing.T) {
	t.Parallel()
	c := newClient(t, greeter.APIHelloworld)
	for _, req := range []greeter.StreamRequest{
		{Name: "Ada", Count: 2, CountOrIntervalSet: true},
		{Name: "Ada", CountOrIntervalSet: true}, // --count 0 given: still refused
	} {
		if _, err := c.SayHelloStream(req); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "need --api greeter.v1") {
			t.Errorf("helloworld SayHelloStream(%+v): %v, want a usage error that needs --api greeter.v1", req, err)
		}
	}
	if _, err := c.SayHelloGroup(); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "needs --api greeter.v1") {
		t.Errorf("helloworld SayHelloGroup(): %v, want a usage error that needs --api greeter.v1", err)
	}
}

// trim:helloworld end

func TestNew(t *testing.T) {
	t.Parallel()
	for api, wantErr := range map[string]bool{
		greeter.APIGreeterV1: false, "": false, "greeter.v2": true,
		greeter.APIHelloworld: false, // trim:helloworld
	} {
		if _, err := greeter.New(api); (err != nil) != wantErr {
			t.Errorf("New(%q): error %v, want error: %v", api, err, wantErr)
		}
	}
}
