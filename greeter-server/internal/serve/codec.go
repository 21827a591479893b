package serve

import (
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// utf8Codec is grpc-go's protobuf codec, except that a request whose
// top-level string field holds invalid UTF-8 still reaches its handler.
//
// The proto promises that a name which is not valid UTF-8 fails with
// INVALID_ARGUMENT, naming the field and the rule. Plain protobuf decoding
// rejects such a message before any handler runs, and grpc-go reports that
// as INTERNAL. With this codec the string reaches the greeting core as it
// was sent, and the core's name rule rejects it like every other bad name.
// Valid messages take the unchanged grpc-go path; only a failed decode is
// retried.
type utf8Codec struct {
	encoding.CodecV2
}

func newUTF8Codec() utf8Codec {
	return utf8Codec{CodecV2: encoding.GetCodecV2(proto.Name)}
}

func (c utf8Codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(protov2.Message)
	if !ok || !decodeKeepingBadStrings(data.Materialize(), m) {
		return err
	}
	return nil
}

// decodeKeepingBadStrings decodes b into m, setting top-level singular string
// fields that hold invalid UTF-8 as they are. It reports false, leaving the
// first error to stand, if b has no such field or does not decode otherwise.
func decodeKeepingBadStrings(b []byte, m protov2.Message) bool {
	type badString struct {
		fd protoreflect.FieldDescriptor
		s  string
	}
	var bad []badString
	var rest []byte
	fields := m.ProtoReflect().Descriptor().Fields()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		size := protowire.ConsumeFieldValue(num, typ, b[n:])
		if size < 0 {
			return false
		}
		fd := fields.ByNumber(num)
		if fd != nil && fd.Kind() == protoreflect.StringKind && fd.Cardinality() != protoreflect.Repeated && typ == protowire.BytesType {
			if s, _ := protowire.ConsumeBytes(b[n:]); !utf8.Valid(s) {
				bad = append(bad, badString{fd, string(s)})
				b = b[n+size:]
				continue
			}
		}
		rest = append(rest, b[:n+size]...)
		b = b[n+size:]
	}
	if len(bad) == 0 || protov2.Unmarshal(rest, m) != nil {
		return false
	}
	for _, f := range bad {
		m.ProtoReflect().Set(f.fd, protoreflect.ValueOfString(f.s))
	}
	return true
}
