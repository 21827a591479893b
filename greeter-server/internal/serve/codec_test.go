package serve_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
)

// rawCodec sends and receives bytes as they are, so a test can send what a
// protobuf library would refuse to encode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestInvalidUTF8IsInvalidArgument sends names that are not valid UTF-8, as
// raw protobuf, to every kind of method of both services.
func TestInvalidUTF8IsInvalidArgument(t *testing.T) {
	t.Parallel()
	s := start(t, serve.Config{})
	conn := dialPlain(t, s.addr)
	name := protowire.AppendTag(nil, 1, protowire.BytesType)
	name = protowire.AppendBytes(name, []byte("bad\xffname"))
	withCount := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), name...), 2, protowire.VarintType), 2)

	tests := []struct {
		method string
		req    []byte
		stream bool
	}{
		{method: "/greeter.v1.GreeterService/SayHello", req: name},
		{method: "/greeter.v1.GreeterService/SayHelloAgain", req: name},
		{method: "/greeter.v1.GreeterService/SayHelloStream", req: withCount, stream: true},
		{method: "/greeter.v1.GreeterService/SayHelloGroup", req: name, stream: true},
		{method: "/greeter.v1.GreeterService/SayHelloChat", req: name, stream: true},
		// trim:helloworld begin
		{method: "/helloworld.Greeter/SayHello", req: name},
		{method: "/helloworld.Greeter/SayHelloAgain", req: name},
		{method: "/helloworld.Greeter/SayHelloStreamReply", req: name, stream: true},
		{method: "/helloworld.Greeter/SayHelloBidiStream", req: name, stream: true},
		// trim:helloworld end
	}
	for _, tt := range tests {
		var err error
		if tt.stream {
			var cs grpc.ClientStream
			cs, err = conn.NewStream(callCtx(t), &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, tt.method, grpc.ForceCodec(rawCodec{}))
			if err == nil {
				if err = cs.SendMsg(tt.req); err == nil {
					err = cs.CloseSend()
				}
				var resp []byte
				for err == nil {
					err = cs.RecvMsg(&resp)
				}
			}
		} else {
			var resp []byte
			err = conn.Invoke(callCtx(t), tt.method, tt.req, &resp, grpc.ForceCodec(rawCodec{}))
		}
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "name") || !strings.Contains(st.Message(), "valid UTF-8") {
			t.Errorf("%s with a name that is not UTF-8: error = %v, want InvalidArgument naming %q and %q", tt.method, err, "name", "valid UTF-8")
		}
	}
}
