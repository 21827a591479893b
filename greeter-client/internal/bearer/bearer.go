// Package bearer sends an OAuth 2.0 bearer token with every call, as
// grpc-go per-RPC credentials: the metadata "authorization: Bearer TOKEN".
// The token is a fixed string, or the content of a file that is read again
// when it changes, as Kubernetes rotates a projected service-account token.
package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// MaxFileSize is the largest token file read. Tokens are a few KiB at most
// (greeter-server refuses more than 8 KiB); a larger file is the wrong file,
// such as a log or a device, and is not read whole.
const MaxFileSize = 64 << 10

// Credentials are grpc-go per-RPC credentials that send the token a
// function returns with every call.
type Credentials struct {
	token      func() string
	requireTLS bool
}

var _ credentials.PerRPCCredentials = (*Credentials)(nil)

// New returns Credentials that send token() with every call. If requireTLS
// is true, they refuse to send it on a connection without TLS, and grpc-go
// refuses to open such a connection with them; it must be false for a
// plaintext connection, such as one to a loopback address.
func New(token func() string, requireTLS bool) *Credentials {
	return &Credentials{token: token, requireTLS: requireTLS}
}

// GetRequestMetadata returns the authorization metadata of one call.
func (c *Credentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if c.requireTLS {
		ri, _ := credentials.RequestInfoFromContext(ctx)
		if err := credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity); err != nil {
			return nil, fmt.Errorf("bearer token not sent on a connection without TLS: %w", err)
		}
	}
	return map[string]string{"authorization": "Bearer " + c.token()}, nil
}

// RequireTransportSecurity reports whether the token is only sent over TLS.
func (c *Credentials) RequireTransportSecurity() bool { return c.requireTLS }

// Parse trims the white space around s, such as a file's final newline,
// and returns the token left. It is an error if nothing is left, or if the
// token has a character outside printable ASCII or a space: a header value
// cannot carry the first, and a bearer token (RFC 6750) has neither, so
// such a token is the wrong text, such as two tokens or a binary file.
// The error never repeats the token.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the token is empty")
	}
	for i := range len(s) {
		if b := s[i]; b <= ' ' || b > '~' {
			return "", fmt.Errorf("the token has byte 0x%02x at offset %d, which a bearer token cannot contain (it is one word of printable ASCII)", b, i)
		}
	}
	return s, nil
}

// File is a token read from a file, and read again when the file changes.
// Token looks at the file (os.Stat of its path, so that a symbolic link
// swapped to a new target counts as a change) at most once per recheck
// interval, and reads it only if it is another file, or its size or
// modification time changed. That follows how the kubelet rotates a
// projected token: it writes a new directory and swaps a symbolic link to
// it, so the path names a new file and no open file descriptor would see it.
//
// A file that cannot be read, or holds no valid token, after a good read
// leaves the last good token in use; Token tells warn once, and again only
// after a good read in between.
type File struct {
	path    string
	recheck time.Duration
	warn    func(error)

	mu      sync.Mutex
	token   string
	info    os.FileInfo // of the file token was read from
	checked time.Time   // when the file was last looked at
	failing bool        // warn was told of the current failure
}

// ReadFile reads the token in path, which is an error if the file cannot be
// read or holds no valid token (see Parse); the error names the file. The
// token is then looked at again at most once per recheck (every call if 0).
// warn, if not nil, is told when the file cannot be read again.
func ReadFile(path string, recheck time.Duration, warn func(error)) (*File, error) {
	f := &File{path: path, recheck: recheck, warn: warn}
	info, token, err := f.read()
	if err != nil {
		return nil, err
	}
	f.info, f.token, f.checked = info, token, time.Now()
	return f, nil
}

// Token returns the token, read again if the file changed.
func (f *File) Token() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Sub(f.checked) < f.recheck {
		return f.token
	}
	f.checked = now
	info, err := os.Stat(f.path)
	if err == nil && os.SameFile(info, f.info) && info.Size() == f.info.Size() && info.ModTime().Equal(f.info.ModTime()) {
		f.failing = false
		return f.token
	}
	if err == nil {
		var token string
		if info, token, err = f.read(); err == nil {
			f.info, f.token, f.failing = info, token, false
			return f.token
		}
	}
	if !f.failing && f.warn != nil {
		f.warn(err)
	}
	f.failing = true
	return f.token
}

// read reads the file and returns its token and its FileInfo, taken
// before the content is read, so that a change while it is read is seen the
// next time Token looks. Every error names the file.
func (f *File) read() (os.FileInfo, string, error) {
	// A FIFO or a device could block or never end: check before opening.
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, "", err
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s: not a regular file", f.path)
	}
	file, err := os.Open(f.path)
	if err != nil {
		return nil, "", err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(io.LimitReader(file, MaxFileSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(b) > MaxFileSize {
		return nil, "", fmt.Errorf("%s: larger than %d KiB, too large for a token", f.path, MaxFileSize>>10)
	}
	token, err := Parse(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", f.path, err)
	}
	return info, token, nil
}
