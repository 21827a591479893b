package test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawConn speaks HTTP/2 frame by frame, so a test can send what a gRPC
// library never would.
type rawConn struct {
	conn   net.Conn
	fr     *http2.Framer
	hbuf   bytes.Buffer
	henc   *hpack.Encoder
	nextID uint32
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	return dialRawWith(t, addr, &net.Dialer{Timeout: 5 * time.Second})
}

// dialRawWith is dialRaw with the dialer d.
func dialRawWith(t *testing.T, addr string, d *net.Dialer) *rawConn {
	t.Helper()
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &rawConn{conn: conn, fr: http2.NewFramer(conn, conn), nextID: 1}
	rc.henc = hpack.NewEncoder(&rc.hbuf)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := rc.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return rc
}

// result is how the server ended one stream.
type result struct {
	httpStatus  string
	grpcStatus  string
	grpcMessage string
	data        []byte
	reset       bool
}

// call sends one request on a new stream: headers with the given
// content-type (and extra header pairs), then body as one DATA frame that
// ends the stream. It returns how the server answered.
func (rc *rawConn) call(t *testing.T, method, contentType string, body []byte, extra ...string) result {
	t.Helper()
	id := rc.nextID
	rc.nextID += 2
	rc.hbuf.Reset()
	fields := []string{":method", "POST", ":scheme", "http", ":path", method, ":authority", "localhost", "content-type", contentType, "te", "trailers"}
	fields = append(fields, extra...)
	for i := 0; i < len(fields); i += 2 {
		if err := rc.henc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.hbuf.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	if err := rc.fr.WriteData(id, true, body); err != nil {
		t.Fatal(err)
	}
	var res result
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer to stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = rc.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = rc.fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				continue
			}
			for _, hf := range f.Fields {
				switch hf.Name {
				case ":status":
					res.httpStatus = hf.Value
				case "grpc-status":
					res.grpcStatus = hf.Value
				case "grpc-message":
					res.grpcMessage = decodeGRPCMessage(hf.Value)
				}
			}
			if f.StreamEnded() {
				return res
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				res.data = append(res.data, f.Data()...)
				if f.StreamEnded() {
					return res
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				res.reset = true
				return res
			}
		case *http2.GoAwayFrame:
			t.Fatalf("server sent GOAWAY (%v) while stream %d was open", f.ErrCode, id)
		}
	}
}

// decodeGRPCMessage undoes the percent-encoding of grpc-message.
func decodeGRPCMessage(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// frame wraps a message in gRPC's length-prefixed framing.
func frame(compressed bool, declaredLen uint32, msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	if compressed {
		out[0] = 1
	}
	binary.BigEndian.PutUint32(out[1:], declaredLen)
	return append(out, msg...)
}

// nameField encodes protobuf field 1 (name) holding raw bytes.
func nameField(name []byte) []byte {
	return append([]byte{0x0a, byte(len(name))}, name...)
}

const sayHello = "/greeter.v1.GreeterService/SayHello"

func TestRawFrames(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	valid := nameField([]byte("x"))
	unknown := append(nameField([]byte("x")), 0x98, 0x06, 0x01) // field 99, varint 1
	badUTF8 := nameField([]byte("a\xffb"))

	tests := []rawCase{
		{name: "valid request", contentType: "application/grpc", body: frame(false, uint32(len(valid)), valid),
			wantHTTP: "200", wantStatus: "0", wantData: "Hello, x!"},
		{name: "unknown fields are ignored", contentType: "application/grpc+proto", body: frame(false, uint32(len(unknown)), unknown),
			wantHTTP: "200", wantStatus: "0", wantData: "Hello, x!"},
		{name: "invalid UTF-8 in name", contentType: "application/grpc", body: frame(false, uint32(len(badUTF8)), badUTF8),
			wantHTTP: "200", wantStatus: "3", wantMessage: "UTF-8"},
		{name: "truncated message", contentType: "application/grpc", body: frame(false, 64, valid),
			wantHTTP: "200", wantStatus: "13"},
		{name: "truncated length prefix", contentType: "application/grpc", body: []byte{0, 0, 0},
			wantHTTP: "200", wantStatus: "13"},
		{name: "oversized message", contentType: "application/grpc", body: frame(false, 1<<30, valid),
			wantHTTP: "200", wantStatus: "8", wantMessage: "larger than max"},
		{name: "compressed flag without a compressor", contentType: "application/grpc", body: frame(true, uint32(len(valid)), valid),
			wantHTTP: "200", wantStatus: "13", wantMessage: "compressed flag"},
		{name: "unknown compressor", contentType: "application/grpc", body: frame(true, uint32(len(valid)), valid), extra: []string{"grpc-encoding", "brotli9000"},
			wantHTTP: "200", wantStatus: "12", wantMessage: "brotli9000"},
		// trim:http begin
		// The HTTP listener decides per request: JSON is a Connect call,
		// anything else is refused; the gRPC listener speaks gRPC only.
		{name: "JSON is Connect", contentType: "application/json", body: []byte(`{"name":"x"}`),
			wantHTTP: "200", wantData: "Hello, x!", on: "http"},
		{name: "wrong content-type", contentType: "text/plain", body: []byte(`name=x`),
			wantHTTP: "415", wantData: "unsupported content type", on: "http"},
		// trim:http end
		{name: "JSON is not gRPC", contentType: "application/json", body: []byte(`{"name":"x"}`),
			wantHTTP: "415", wantStatus: "3", wantMessage: "content-type", on: "grpc"},
		{name: "unknown method", contentType: "application/grpc", body: frame(false, uint32(len(valid)), valid),
			wantHTTP: "200", wantStatus: "12"},
	}
	for _, tt := range tests {
		for listener, addr := range map[string]string{
			"grpc": srv.Addr,
			"http": srv.HTTPAddr, // trim:http
		} {
			if tt.on != "" && tt.on != listener {
				continue
			}
			t.Run(listener+" listener/"+tt.name, func(t *testing.T) { tt.check(t, srv, addr) })
		}
	}
}

// rawCase is one raw HTTP/2 request of TestRawFrames and the answer it wants.
type rawCase struct {
	name        string
	contentType string
	body        []byte
	extra       []string
	wantHTTP    string
	wantStatus  string // grpc-status; "" when the answer is not gRPC at all
	wantMessage string // substring of grpc-message
	wantData    string // substring of the response message
	on          string // "grpc" or "http": one listener only; "" both
}

// check sends tt's request to addr on a connection of its own and checks
// the answer.
func (tt rawCase) check(t *testing.T, srv server, addr string) {
	t.Helper()
	rc := dialRaw(t, addr)
	method := sayHello
	if tt.name == "unknown method" {
		method = "/greeter.v1.GreeterService/NoSuchMethod"
	}
	got := rc.call(t, method, tt.contentType, tt.body, tt.extra...)
	if got.httpStatus != tt.wantHTTP || got.grpcStatus != tt.wantStatus ||
		!strings.Contains(got.grpcMessage, tt.wantMessage) || !bytes.Contains(got.data, []byte(tt.wantData)) {
		t.Errorf("%s: got HTTP %q, grpc-status %q, grpc-message %q, data %q (reset %v); want HTTP %q, grpc-status %q, message containing %q, data containing %q",
			tt.name, got.httpStatus, got.grpcStatus, got.grpcMessage, got.data, got.reset, tt.wantHTTP, tt.wantStatus, tt.wantMessage, tt.wantData)
	}
	t.Logf("%s: HTTP %s, grpc-status %s, grpc-message %q", tt.name, got.httpStatus, got.grpcStatus, got.grpcMessage)
	srv.checkServing(t)
}

// TestRapidReset opens streams and resets them at once, many times over, on
// one connection (the HTTP/2 "rapid reset" pattern), while a well-behaved
// client keeps calling. The server may close the abusive connection, but it
// must keep serving everyone else.
func TestRapidReset(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rc := dialRaw(t, srv.Addr)
	valid := nameField([]byte("x"))
	body := frame(false, uint32(len(valid)), valid)
	var sendErr error
	for i := 0; i < 5000 && sendErr == nil; i++ {
		id := rc.nextID
		rc.nextID += 2
		rc.hbuf.Reset()
		for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", sayHello}, {":authority", "localhost"}, {"content-type", "application/grpc"}} {
			_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
		}
		sendErr = errors.Join(
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.hbuf.Bytes(), EndHeaders: true}),
			rc.fr.WriteData(id, false, body),
			rc.fr.WriteRSTStream(id, http2.ErrCodeCancel),
		)
		if i%500 == 0 {
			srv.checkServing(t)
		}
	}
	t.Logf("rapid reset: stopped after stream %d, send error: %v", rc.nextID-2, sendErr)
	srv.checkServing(t)
}

func TestFrameHelpers(t *testing.T) {
	t.Parallel()
	got := frame(false, 3, []byte{1, 2, 3})
	if want := []byte{0, 0, 0, 0, 3, 1, 2, 3}; !bytes.Equal(got, want) {
		t.Errorf("frame(false, 3, ...) = %v, want %v", got, want)
	}
	if got := decodeGRPCMessage("a%20b%25"); got != "a b%" {
		t.Errorf("decodeGRPCMessage(%q) = %q, want %q", "a%20b%25", got, "a b%")
	}
}
