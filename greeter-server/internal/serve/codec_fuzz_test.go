package serve

import (
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"
)

// FuzzDecodeRequest feeds arbitrary bytes to the server's request codec as a
// SayHelloStreamRequest (a string, a number and a nested message). It must
// never panic; whatever it accepts must be what protobuf accepts, except that
// a name with invalid UTF-8 is let through for the name rule to reject.
func FuzzDecodeRequest(f *testing.F) {
	valid, _ := proto.Marshal(&greeterv1.SayHelloStreamRequest{Name: "you", Count: 3})
	f.Add(valid)
	f.Add([]byte{0x0a, 0x03, 'a', 0xff, 'b'})             // name with invalid UTF-8
	f.Add([]byte{0x0a, 0x03, 'a', 0xff, 'b', 0x10, 0x05}) // ... and a count
	f.Add([]byte{0x0a, 0x10, 'a'})                        // truncated name
	f.Add([]byte{0x98, 0x06, 0x01})                       // unknown field 99
	f.Add([]byte{0x1a, 0x02, 0x08, 0x01})                 // interval of 1s
	f.Add([]byte{0x1a, 0x03, 0x12, 0x01, 0xff})           // interval with a bad nested field
	codec := newUTF8Codec()
	f.Fuzz(func(t *testing.T, data []byte) {
		var got greeterv1.SayHelloStreamRequest
		err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &got)
		var want greeterv1.SayHelloStreamRequest
		wantErr := proto.Unmarshal(data, &want)
		switch {
		case err != nil && wantErr == nil:
			t.Fatalf("codec rejected %x (%v), which protobuf accepts", data, err)
		case err == nil && wantErr == nil:
			if !proto.Equal(&got, &want) {
				t.Fatalf("codec decoded %x as %v, protobuf as %v", data, &got, &want)
			}
		case err == nil && utf8.ValidString(got.GetName()):
			t.Fatalf("codec accepted %x (name %q), which protobuf rejects (%v), though the name is valid UTF-8", data, got.GetName(), wantErr)
		}
	})
}
