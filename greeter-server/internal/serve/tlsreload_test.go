package serve_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-server/internal/serve"
	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
	"github.com/greeter-go/greeter/greeter-server/internal/testpki"
)

// reloadInterval is the TLS reload interval of these tests: short, so that
// they wait for a change no longer than they must; they poll for its
// effect with a generous deadline, reloadDeadline, and never time it.
const (
	reloadInterval = 20 * time.Millisecond
	reloadDeadline = 10 * time.Second
)

// The names of the TLS files in a tlsDir, as in a Kubernetes TLS secret.
const (
	certName = "tls.crt"
	keyName  = "tls.key"
	caName   = "ca.crt"
)

// tlsDir holds a server's TLS files and replaces them the way deployments
// do: rewritten in place one after another, or, like a Kubernetes secret
// volume, all at once by pointing the "..data" symlink at a new directory
// (each file is a symlink through ..data).
type tlsDir struct {
	t       *testing.T
	dir     string
	swap    bool
	n       int
	current map[string][]byte
}

func newTLSDir(t *testing.T, swap bool) *tlsDir {
	return &tlsDir{t: t, dir: t.TempDir(), swap: swap, current: map[string][]byte{}}
}

func (d *tlsDir) path(name string) string { return filepath.Join(d.dir, name) }

// write replaces the named files with their new contents; in a swap
// directory the others are carried over.
func (d *tlsDir) write(files map[string][]byte) {
	d.t.Helper()
	for name, data := range files {
		d.current[name] = data
		if !d.swap {
			if err := os.WriteFile(d.path(name), data, 0o600); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	if !d.swap {
		return
	}
	d.n++
	version := fmt.Sprintf("..%d", d.n)
	if err := os.Mkdir(d.path(version), 0o700); err != nil {
		d.t.Fatal(err)
	}
	for name, data := range d.current {
		if err := os.WriteFile(filepath.Join(d.path(version), name), data, 0o600); err != nil {
			d.t.Fatal(err)
		}
		if _, err := os.Lstat(d.path(name)); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), d.path(name)); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	// The swap itself: a new symlink renamed over the old one.
	if err := os.Symlink(version, d.path("..data_tmp")); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Rename(d.path("..data_tmp"), d.path("..data")); err != nil {
		d.t.Fatal(err)
	}
	if d.n > 1 {
		if err := os.RemoveAll(d.path(fmt.Sprintf("..%d", d.n-1))); err != nil {
			d.t.Fatal(err)
		}
	}
}

// pair returns c's certificate and key as the files of a tlsDir.
func pair(t *testing.T, c testpki.Cert) map[string][]byte {
	certPEM, keyPEM := c.PEM(t)
	return map[string][]byte{certName: certPEM, keyName: keyPEM}
}

// caFile returns the CA certificates cas as the client CA file of a tlsDir.
func caFile(t *testing.T, cas ...testpki.Cert) map[string][]byte {
	var bundle []byte
	for _, ca := range cas {
		certPEM, _ := ca.PEM(t)
		bundle = append(bundle, certPEM...)
	}
	return map[string][]byte{caName: bundle}
}

func merge(files ...map[string][]byte) map[string][]byte {
	all := map[string][]byte{}
	for _, f := range files {
		for name, data := range f {
			all[name] = data
		}
	}
	return all
}

// handshake makes a new connection to addr with client, calls SayHello on
// it, and returns the certificate the server presented.
func handshake(addr string, client *tls.Config) (*x509.Certificate, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(client)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p peer.Peer
	if _, err := greeterv1.NewGreeterServiceClient(conn).SayHello(ctx, &greeterv1.SayHelloRequest{Name: "new"}, grpc.Peer(&p)); err != nil {
		return nil, err
	}
	return p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0], nil
}

// checkServes fails the test unless a new connection gets want.
func checkServes(t *testing.T, addr string, client *tls.Config, want testpki.Cert) {
	t.Helper()
	got, err := handshake(addr, client)
	if err != nil {
		t.Fatalf("new connection: %v, want it served with %s", err, want.X509.Subject)
	}
	if !got.Equal(want.X509) {
		t.Fatalf("new connection served with %s (serial %x), want %s (serial %x)", got.Issuer, got.SerialNumber, want.X509.Issuer, want.X509.SerialNumber)
	}
}

// eventually calls check until it returns nil, and fails the test if it
// does not within reloadDeadline.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(reloadDeadline)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %v", what, reloadDeadline, err)
		}
		time.Sleep(reloadInterval)
	}
}

// servesEventually waits until new connections get want.
func servesEventually(t *testing.T, addr string, client *tls.Config, want testpki.Cert) {
	t.Helper()
	eventually(t, "new connections served with "+want.X509.Issuer.CommonName+"'s certificate", func() error {
		got, err := handshake(addr, client)
		if err != nil {
			return err
		}
		if !got.Equal(want.X509) {
			return fmt.Errorf("served with %s (serial %x)", got.Issuer, got.SerialNumber)
		}
		return nil
	})
}

// logsEventually waits until a line of log holds all of parts.
func logsEventually(t *testing.T, log *testlog.Buffer, parts ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("a log line with %q", parts), func() error {
	lines:
		for line := range strings.Lines(log.String()) {
			for _, p := range parts {
				if !strings.Contains(line, p) {
					continue lines
				}
			}
			return nil
		}
		return fmt.Errorf("log:\n%s", log.String())
	})
}

// caller calls SayHello over and over on one connection, which it opens
// before the files change.
type caller struct {
	calls, failures atomic.Int64
	mu              sync.Mutex
	firstErr        error
	served          map[string]bool // serials of the certificates the server presented
	stop, done      chan struct{}
}

func keepCalling(t *testing.T, addr string, client *tls.Config) *caller {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(client)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &caller{served: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	greeter := greeterv1.NewGreeterServiceClient(conn)
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var p peer.Peer
		_, err := greeter.SayHello(ctx, &greeterv1.SayHelloRequest{Name: "steady"}, grpc.Peer(&p))
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.failures.Add(1)
			if c.firstErr == nil {
				c.firstErr = err
			}
			return err
		}
		c.served[p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0].SerialNumber.Text(16)] = true
		c.calls.Add(1)
		return nil
	}
	if err := call(); err != nil {
		t.Fatalf("first call of the steady client: %v", err)
	}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			default:
				_ = call()
			}
		}
	}()
	t.Cleanup(c.halt)
	return c
}

func (c *caller) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

// finish lets c make some more calls, stops it, and fails the test if any
// of its calls failed or if its connection was ever made again (the server
// presented any certificate but want).
func (c *caller) finish(t *testing.T, want testpki.Cert) {
	t.Helper()
	more := c.calls.Load() + 20
	eventually(t, "20 more calls of the steady client", func() error {
		if n := c.calls.Load(); n < more && c.failures.Load() == 0 {
			return fmt.Errorf("%d calls", n)
		}
		return nil
	})
	c.halt()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.failures.Load(); n != 0 {
		t.Errorf("the steady client's calls on its open connection: %d of %d failed; first: %v", n, n+c.calls.Load(), c.firstErr)
	}
	if serial := want.X509.SerialNumber.Text(16); len(c.served) != 1 || !c.served[serial] {
		t.Errorf("the steady client's connection was served with certificates %v, want only the first one, %s: its connection should have stayed up", c.served, serial)
	}
}

// TestTLSReload rotates the server's certificate to one from another CA,
// rewriting the files in place and swapping a secret volume's ..data
// symlink: new connections get the new certificate, and a client calling all
// along on a connection it opened before sees no failure.
func TestTLSReload(t *testing.T) {
	t.Parallel()
	for _, swap := range []bool{false, true} {
		t.Run(map[bool]string{false: "rewrite in place", true: "symlink swap"}[swap], func(t *testing.T) {
			ca1, ca2 := testpki.NewCA(t, "CA 1"), testpki.NewCA(t, "CA 2")
			a, b := ca1.Server(t), ca2.Server(t)
			roots := ca1.Pool()
			roots.AddCert(ca2.X509)
			client := &tls.Config{RootCAs: roots}

			d := newTLSDir(t, swap)
			d.write(pair(t, a))
			var log testlog.Buffer
			s := start(t, serve.Config{
				Limits: serve.Limits{TLSReloadInterval: reloadInterval},
				TLS:    serve.TLSFiles{Cert: d.path(certName), Key: d.path(keyName)},
				Logger: slog.New(slog.NewTextHandler(&log, nil)),
			})
			checkServes(t, s.addr, client, a)
			steady := keepCalling(t, s.addr, client)

			d.write(pair(t, b))
			servesEventually(t, s.addr, client, b)
			steady.finish(t, a)
			logsEventually(t, &log, "TLS certificate reloaded", "CN=greeter-server", b.X509.SerialNumber.Text(16))
		})
	}
}

// TestTLSReloadClientCA replaces the client CA of a mutual TLS server with
// a new one: new connections with a client certificate from the new CA are
// taken, those from the old one refused, and a client of the old CA calling
// all along on a connection it opened before sees no failure.
func TestTLSReloadClientCA(t *testing.T) {
	t.Parallel()
	for _, swap := range []bool{false, true} {
		t.Run(map[bool]string{false: "rewrite in place", true: "symlink swap"}[swap], func(t *testing.T) {
			serverCA, oldCA, newCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "old client CA"), testpki.NewCA(t, "new client CA")
			serverCert := serverCA.Server(t)
			oldClient := &tls.Config{RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{oldCA.Client(t, time.Time{}, time.Time{}).TLS()}}
			newClient := &tls.Config{RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{newCA.Client(t, time.Time{}, time.Time{}).TLS()}}

			d := newTLSDir(t, swap)
			d.write(merge(pair(t, serverCert), caFile(t, oldCA)))
			var log testlog.Buffer
			s := start(t, serve.Config{
				Limits: serve.Limits{TLSReloadInterval: reloadInterval},
				TLS:    serve.TLSFiles{Cert: d.path(certName), Key: d.path(keyName), ClientCA: d.path(caName)},
				Logger: slog.New(slog.NewTextHandler(&log, nil)),
			})
			checkServes(t, s.addr, oldClient, serverCert)
			if _, err := handshake(s.addr, newClient); err == nil {
				t.Fatal("a client certificate from the new CA was taken before the CA file named it")
			}
			steady := keepCalling(t, s.addr, oldClient)

			d.write(caFile(t, newCA))
			eventually(t, "a new connection with a client certificate from the new CA taken", func() error {
				_, err := handshake(s.addr, newClient)
				return err
			})
			if _, err := handshake(s.addr, oldClient); err == nil {
				t.Error("a new connection with a client certificate from the old CA was taken after the CA file dropped it")
			}
			steady.finish(t, serverCert)
			logsEventually(t, &log, "TLS client CA reloaded", caName)
		})
	}
}

// TestTLSReloadKeepsLastGood writes broken files over a mutual TLS server's
// good ones: garbage, and files caught half written. The server keeps
// serving with the last good certificate and client CA, says why, and takes
// up good files once they come.
func TestTLSReloadKeepsLastGood(t *testing.T) {
	t.Parallel()
	ca, clientCA, otherCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "client CA"), testpki.NewCA(t, "other client CA")
	a, b := ca.Server(t), ca.Server(t)
	client := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{clientCA.Client(t, time.Time{}, time.Time{}).TLS()}}
	bCert, bKey := b.PEM(t)
	clientCAPEM, _ := clientCA.PEM(t)
	otherCAPEM, _ := otherCA.PEM(t)

	d := newTLSDir(t, false)
	d.write(merge(pair(t, a), caFile(t, clientCA)))
	var log testlog.Buffer
	s := start(t, serve.Config{
		Limits: serve.Limits{TLSReloadInterval: reloadInterval},
		TLS:    serve.TLSFiles{Cert: d.path(certName), Key: d.path(keyName), ClientCA: d.path(caName)},
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
	})
	checkServes(t, s.addr, client, a)
	steady := keepCalling(t, s.addr, client)

	steps := []struct {
		desc  string
		files map[string][]byte
		warn  []string // what the warning says
	}{
		{
			desc:  "garbage certificate",
			files: map[string][]byte{certName: []byte("not a certificate\n")},
			warn:  []string{"level=WARN", "certificate or key file unusable", "failed to find any PEM data"},
		},
		{
			desc:  "a new certificate and key, the certificate file with half a second certificate after it",
			files: map[string][]byte{certName: append(append([]byte{}, bCert...), bCert[:len(bCert)/2]...), keyName: bKey},
			warn:  []string{"level=WARN", "certificate or key file unusable", "unfinished or malformed PEM block"},
		},
		{
			desc:  "garbage client CA",
			files: map[string][]byte{caName: []byte("not a CA\n")},
			warn:  []string{"level=WARN", "client CA file unusable", "holds no PEM certificate"},
		},
		{
			desc:  "another client CA, with the current one half written after it",
			files: map[string][]byte{caName: append(append([]byte{}, otherCAPEM...), clientCAPEM[:len(clientCAPEM)/2]...)},
			warn:  []string{"level=WARN", "client CA file unusable", "unfinished or malformed PEM block"},
		},
	}
	for _, step := range steps {
		d.write(step.files)
		logsEventually(t, &log, step.warn...)
		// The warning comes from a reload that read the broken file.
		checkServes(t, s.addr, client, a)
	}

	d.write(map[string][]byte{certName: bCert})
	servesEventually(t, s.addr, client, b)
	steady.finish(t, a)
}

// TestTLSStartupErrors checks that files that are bad when the server
// starts stop it with an error that names them.
func TestTLSStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "CA")
	certFile, keyFile := ca.Server(t).WriteFiles(t, dir, "server")
	caPEM, _ := ca.PEM(t)
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	garbage := write("garbage.pem", []byte("not PEM\n"))
	half := write("half.pem", caPEM[:len(caPEM)/2])
	caWithHalf := write("ca-half.pem", append(append([]byte{}, caPEM...), caPEM[:len(caPEM)/2]...))
	expiredCert, expiredKey := ca.ServerValid(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)).WriteFiles(t, dir, "expired")

	tests := []struct {
		files serve.TLSFiles
		want  string
	}{
		{files: serve.TLSFiles{Cert: garbage, Key: keyFile}, want: "load TLS key pair " + garbage},
		{files: serve.TLSFiles{Cert: half, Key: keyFile}, want: "load TLS key pair " + half},
		{files: serve.TLSFiles{Cert: certFile, Key: garbage}, want: "load TLS key pair " + certFile + ", " + garbage},
		{files: serve.TLSFiles{Cert: certFile, Key: keyFile, ClientCA: filepath.Join(dir, "missing.pem")}, want: "read client CA"},
		{files: serve.TLSFiles{Cert: certFile, Key: keyFile, ClientCA: garbage}, want: "client CA " + garbage + " holds no PEM certificate"},
		{files: serve.TLSFiles{Cert: certFile, Key: keyFile, ClientCA: caWithHalf}, want: "client CA " + caWithHalf + ": the file ends in an unfinished or malformed PEM block"},
		{files: serve.TLSFiles{Cert: expiredCert, Key: expiredKey}, want: "load TLS key pair " + expiredCert + ", " + expiredKey + ": the certificate expired at"},
	}
	for _, tt := range tests {
		// Should Run take the files after all, it serves until ctx ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := serve.Run(ctx, serve.Config{Addr: "127.0.0.1:0", TLS: tt.files}, nil)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run with TLS files %+v = %v, want an error containing %q", tt.files, err, tt.want)
		}
	}
}

// TestTLSReloadRefusesInvalidCertificates rotates in an expired certificate
// and one not valid yet: the server keeps serving the last good one, warns
// at every reload while the file stays so (not once), and exports the
// serving certificate's expiry, which moves when a good one comes.
func TestTLSReloadRefusesInvalidCertificates(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "server CA")
	now := time.Now()
	a := ca.ServerValid(t, now.Add(-time.Hour), now.Add(2*time.Hour))
	expired := ca.ServerValid(t, now.Add(-2*time.Hour), now.Add(-time.Minute))
	early := ca.ServerValid(t, now.Add(time.Hour), now.Add(3*time.Hour))
	b := ca.ServerValid(t, now.Add(-time.Hour), now.Add(5*time.Hour))
	client := &tls.Config{RootCAs: ca.Pool()}
	d := newTLSDir(t, true)
	d.write(pair(t, a))
	var log testlog.Buffer
	s := start(t, serve.Config{
		Limits:      serve.Limits{TLSReloadInterval: reloadInterval},
		TLS:         serve.TLSFiles{Cert: d.path(certName), Key: d.path(keyName)},
		MetricsAddr: "127.0.0.1:0",
		Logger:      slog.New(slog.NewTextHandler(&log, nil)),
	})
	expiry := func() int64 {
		body := fetch(t, "http://"+s.metrics+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "greeter_server_tls_certificate_expiry_seconds "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return int64(f)
			}
		}
		t.Fatal("no greeter_server_tls_certificate_expiry_seconds in /metrics")
		return 0
	}
	unix := func(c testpki.Cert) int64 { return c.X509.NotAfter.Unix() }
	if got := expiry(); got != unix(a) {
		t.Errorf("expiry gauge = %d, want %d", got, unix(a))
	}
	for _, step := range []struct {
		desc string
		cert testpki.Cert
		why  string
	}{
		{"expired", expired, "the certificate expired at"},
		{"not valid yet", early, "the certificate is not valid until"},
	} {
		before := strings.Count(log.String(), "certificate or key file unusable")
		d.write(pair(t, step.cert))
		eventually(t, step.desc+": a warning at each of two reloads", func() error {
			if n := strings.Count(log.String(), step.why); n < 2 ||
				strings.Count(log.String(), "certificate or key file unusable")-before < 2 {
				return fmt.Errorf("%d warnings saying %q", strings.Count(log.String(), step.why), step.why)
			}
			return nil
		})
		checkServes(t, s.addr, client, a)
		if got := expiry(); got != unix(a) {
			t.Errorf("%s: expiry gauge = %d, want the serving certificate's %d", step.desc, got, unix(a))
		}
	}
	d.write(pair(t, b))
	servesEventually(t, s.addr, client, b)
	if got := expiry(); got != unix(b) {
		t.Errorf("after a good rotation: expiry gauge = %d, want %d", got, unix(b))
	}
}
