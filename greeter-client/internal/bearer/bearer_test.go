package bearer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/bearer"
	"github.com/greeter-go/greeter/greeter-client/internal/greetertest"
)

// projected is a token file laid out as the kubelet writes a projected
// volume: the path is a symbolic link through "..data", itself a link to a
// directory with the current content. Rotate replaces the content as the
// kubelet does (its AtomicWriter): a new directory, a new link, renamed
// over "..data" in one step, and the old directory removed.
type projected struct {
	t    *testing.T
	dir  string
	n    int
	Path string
}

func newProjected(t *testing.T, token string) *projected {
	t.Helper()
	p := &projected{t: t, dir: t.TempDir()}
	p.Path = filepath.Join(p.dir, "token")
	p.Rotate(token)
	if err := os.Symlink(filepath.Join("..data", "token"), p.Path); err != nil {
		t.Fatal(err)
	}
	return p
}

// Rotate makes the file hold content.
func (p *projected) Rotate(content string) {
	p.t.Helper()
	p.n++
	old, _ := os.Readlink(filepath.Join(p.dir, "..data"))
	ts := fmt.Sprintf("..2025_01_01_00_00_%02d.%d", p.n, p.n)
	if err := os.Mkdir(filepath.Join(p.dir, ts), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, ts, "token"), []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
	tmp := filepath.Join(p.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, "..data")); err != nil {
		p.t.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(p.dir, old)); err != nil {
			p.t.Fatal(err)
		}
	}
}

// warnings counts the warnings a File gives.
type warnings struct {
	mu   sync.Mutex
	errs []error
}

func (w *warnings) warn(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

func (w *warnings) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.errs)
}

// sayHello calls SayHello on addr with creds and returns the authorization
// the server saw.
func sayHello(t *testing.T, addr string, auth *greetertest.Auth, creds *bearer.Credentials) string {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := greeterv1.NewGreeterServiceClient(cc).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "Ada"}); err != nil {
		t.Fatalf("SayHello: %v", err)
	}
	seen := auth.Seen(greeterv1.GreeterService_SayHello_FullMethodName)
	return seen[len(seen)-1]
}

// TestFile_Rotation rotates the token between two calls, as the kubelet
// does, and checks that the second call sends the new token.
func TestFile_Rotation(t *testing.T) {
	t.Parallel()
	auth := &greetertest.Auth{}
	addr := greetertest.Start(t, auth.ServerOptions()...)
	p := newProjected(t, "first.token\n")
	var w warnings
	file, err := bearer.ReadFile(p.Path, 0, w.warn)
	if err != nil {
		t.Fatal(err)
	}
	creds := bearer.New(file.Token, false)
	if got, want := sayHello(t, addr, auth, creds), "Bearer first.token"; got != want {
		t.Errorf("first call: authorization %q, want %q", got, want)
	}
	p.Rotate("second.token\n")
	if got, want := sayHello(t, addr, auth, creds), "Bearer second.token"; got != want {
		t.Errorf("call after rotation: authorization %q, want %q", got, want)
	}
	if w.count() != 0 {
		t.Errorf("warnings %v, want none", w.errs)
	}
}

// TestFile_InPlace rewrites the file in place, as a tool without symbolic
// links does: a new modification time is a change too.
func TestFile_InPlace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("aaaa"), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := bearer.ReadFile(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("bbbb"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same size: only the modification time tells, and a clock tick
	// may be coarser than this test.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := file.Token(); got != "bbbb" {
		t.Errorf("Token() after rewrite = %q, want %q", got, "bbbb")
	}
}

// TestFile_Recheck checks that the file is not looked at again within the
// recheck interval: each call then costs a clock read.
func TestFile_Recheck(t *testing.T) {
	t.Parallel()
	p := newProjected(t, "first")
	file, err := bearer.ReadFile(p.Path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Rotate("second")
	if got := file.Token(); got != "first" {
		t.Errorf("Token() within the recheck interval = %q, want %q, the token read before", got, "first")
	}
}

// TestFile_KeepsLastGoodToken breaks the file after a good read: the calls
// keep the last good token, and each failure is reported once.
func TestFile_KeepsLastGoodToken(t *testing.T) {
	t.Parallel()
	p := newProjected(t, "good")
	var w warnings
	file, err := bearer.ReadFile(p.Path, 0, w.warn)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		change    func()
		want      string
		wantWarns int
	}{
		{name: "emptied", change: func() { p.Rotate("\n") }, want: "good", wantWarns: 1},
		{name: "still empty", change: func() {}, want: "good", wantWarns: 1},
		{name: "two lines", change: func() { p.Rotate("one\ntwo\n") }, want: "good", wantWarns: 1},
		{name: "repaired", change: func() { p.Rotate("better") }, want: "better", wantWarns: 1},
		{name: "removed", change: func() {
			if err := os.Remove(p.Path); err != nil {
				t.Fatal(err)
			}
		}, want: "better", wantWarns: 2},
		{name: "still removed", change: func() {}, want: "better", wantWarns: 2},
	}
	for _, step := range steps {
		step.change()
		for range 3 {
			if got := file.Token(); got != step.want {
				t.Errorf("%s: Token() = %q, want %q", step.name, got, step.want)
			}
		}
		if got := w.count(); got != step.wantWarns {
			t.Errorf("%s: %d warnings in all (%v), want %d", step.name, got, w.errs, step.wantWarns)
		}
	}
	for _, err := range w.errs {
		if !strings.Contains(err.Error(), p.Path) {
			t.Errorf("warning %q does not name the file %s", err, p.Path)
		}
	}
}

// TestFile_Concurrent reads the token from many goroutines while it
// rotates, as bench does; run with -race.
func TestFile_Concurrent(t *testing.T) {
	t.Parallel()
	p := newProjected(t, "token-0")
	file, err := bearer.ReadFile(p.Path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := file.Token(); !strings.HasPrefix(got, "token-") {
					t.Errorf("Token() = %q during rotation, want a whole token", got)
					return
				}
			}
		})
	}
	for i := 1; i <= 20; i++ {
		p.Rotate(fmt.Sprintf("token-%d", i))
	}
	wg.Wait()
	if got := file.Token(); got != "token-20" {
		t.Errorf("Token() after the last rotation = %q, want token-20", got)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          string
		wantErr       string // "" means success
	}{
		{name: "newline", content: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n", want: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
		{name: "white space around", content: " \t tok-en_1~+/=\r\n\n", want: "tok-en_1~+/="},
		{name: "empty", content: "", wantErr: "the token is empty"},
		{name: "only white space", content: " \n\n", wantErr: "the token is empty"},
		{name: "two lines", content: "secret\nsecond\n", wantErr: "byte 0x0a at offset 6"},
		{name: "space inside", content: "secret second", wantErr: "byte 0x20"},
		{name: "control character", content: "secret\x00", wantErr: "byte 0x00"},
		{name: "not ASCII", content: "secrét", wantErr: "byte 0xc3"},
		{name: "too large", content: strings.Repeat("a", bearer.MaxFileSize+1), wantErr: "too large for a token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			file, err := bearer.ReadFile(path, 0, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadFile(%q): %v", tt.content, err)
				}
				if got := file.Token(); got != tt.want {
					t.Errorf("ReadFile(%q).Token() = %q, want %q", tt.content, got, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("ReadFile(%q) = %v, want an error naming %s and saying %q", tt.content, err, path, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("ReadFile error %q repeats the token", err)
			}
		})
	}
	for _, path := range []string{filepath.Join(dir, "missing"), dir} {
		if _, err := bearer.ReadFile(path, 0, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadFile(%s) = %v, want an error naming it", path, err)
		}
	}
}

// TestCredentials_RequireTLS: credentials that require TLS are refused on
// a plaintext connection by grpc-go itself, so they never reach the wire.
func TestCredentials_RequireTLS(t *testing.T) {
	t.Parallel()
	creds := bearer.New(func() string { return "secret" }, true)
	if !creds.RequireTransportSecurity() {
		t.Fatal("RequireTransportSecurity() = false, want true")
	}
	cc, err := grpc.NewClient("localhost:1", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
	if err == nil {
		cc.Close()
		t.Fatal("NewClient without TLS and with credentials that require it: no error, want one")
	}
	if _, err := creds.GetRequestMetadata(context.Background()); err == nil {
		t.Error("GetRequestMetadata without a TLS connection: no error, want one")
	}
}
