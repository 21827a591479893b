package serve

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TLSReloadInterval is how often the server re-reads its TLS files, so that
// a certificate, key or client CA replaced on disk (by cert-manager, a
// Kubernetes secret volume's atomic "..data" symlink swap, or by hand) is
// used for new connections without a restart. The files are read by path
// each time, so a symlink swap is seen as surely as a rewrite, which watching
// files with inotify would miss. Reading three small files costs nothing
// measurable; 10 s is short next to the minute or two kubelet itself takes to
// bring a changed secret into a pod, and next to how early certificates are
// renewed (cert-manager: a third of their life before they expire), so an old
// certificate or CA is not used long after it was replaced.
const TLSReloadInterval = 10 * time.Second

// TLSFiles names the PEM files of the server's TLS setup. With Cert and Key
// the server speaks TLS (1.2 at least; Go negotiates 1.3 whenever the client
// supports it). With ClientCA as well, it requires every client to present a
// certificate signed by one of those CAs (mutual TLS). The files are re-read
// every TLSReloadInterval; see tlsReloader.
type TLSFiles struct {
	Cert     string
	Key      string
	ClientCA string
	// clientCertOptional lets a client connect without a certificate (one
	// it sends must still verify against ClientCA). New sets it when bearer
	// tokens are on too: either credential then authenticates a call, and
	// the guard refuses calls with neither (health checks aside).
	clientCertOptional bool
}

func (f TLSFiles) mode() string {
	switch {
	case f.Cert == "":
		return "off"
	case f.ClientCA == "":
		return "tls"
	default:
		return "mtls"
	}
}

// reloader returns the reloader that keeps the TLS configuration for f
// current, or nil for plaintext; the caller must close it. The files must be
// good now: a missing or broken file is an error here, and only later, once
// the server is up, a warning.
func (f TLSFiles) reloader(logger *slog.Logger, interval time.Duration) (*tlsReloader, error) {
	if f.Cert == "" && f.Key == "" {
		if f.ClientCA != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
		}
		return nil, nil
	}
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("--tls-cert and --tls-key must be set together")
	}
	r := &tlsReloader{files: f, logger: logger, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := r.loadKeyPair(); err != nil {
		return nil, err
	}
	if _, err := r.loadClientCA(); err != nil {
		return nil, err
	}
	r.publish()
	go r.run(interval)
	return r, nil
}

// grpcConfig returns the TLS configuration of the gRPC listener, or nil for
// plaintext. Every handshake takes the material current at that moment;
// connections already open keep what they were made with, so no call is
// dropped by a change. It offers ALPN h2 alone (grpc-go speaks nothing else).
func (r *tlsReloader) grpcConfig() *tls.Config {
	if r == nil {
		return nil
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.currentGRPC.Load(), nil },
	}
}

// trim:http begin

// httpConfig is grpcConfig for the HTTP listener, which offers h2 and
// http/1.1.
func (r *tlsReloader) httpConfig() *tls.Config {
	if r == nil {
		return nil
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.currentHTTP.Load(), nil },
	}
}

// trim:http end

// tlsReloader holds the server's current TLS configuration and, every
// interval, re-reads the files behind it. When they changed and are good,
// new handshakes use them; when a file cannot be read or parsed (half
// written, bad PEM, a key that does not match its certificate yet), the last
// good material stays in use and the server logs a warning, once for each
// new problem. The certificate with its key and the client CA are taken up
// independently.
//
// grpc-go's pemfile certificate provider does the same polling, but it
// refuses a certificate and key in different directories, which the flags
// allow; it logs through grpclog, which grpc-go shows only for errors by
// default, and its warning for a bad key pair quotes the files, private key
// included; and its Close does not wait for its goroutine to end.
type tlsReloader struct {
	files  TLSFiles
	logger *slog.Logger
	// The configurations new handshakes use, one per listener (see
	// grpcConfig).
	currentGRPC atomic.Pointer[tls.Config]
	currentHTTP atomic.Pointer[tls.Config] // trim:http

	// The last good material and the file contents it came from, and the
	// last warning logged for each, are only used by run (and by
	// config, before run starts).
	cert                   tls.Certificate
	clientCAs              *x509.CertPool
	certPEM, keyPEM, caPEM []byte
	// notAfter is the serving certificate's expiry (Unix seconds), for the
	// metric (expiryGauge); written by run, read by scrapes.
	notAfter atomic.Int64
	// now is the clock validity is checked against; tests move it.
	now func() time.Time

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// run checks the files every interval until close.
func (r *tlsReloader) run(interval time.Duration) {
	defer close(r.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.reload()
		}
	}
}

// close stops run and waits for it to end. It may be called more than once,
// and on a nil reloader (plaintext).
func (r *tlsReloader) close() {
	if r == nil {
		return
	}
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}

// reload reads the files once and publishes what changed. A file that
// cannot be taken is warned about at every reload while it stays so: a
// rotation stuck on a broken or expired file must not go quiet until the
// serving certificate expires (greeter_server_tls_certificate_expiry_seconds
// says when that is).
func (r *tlsReloader) reload() {
	pairChanged, err := r.loadKeyPair()
	if err != nil {
		r.logger.Warn("TLS certificate or key file unusable; still serving the last good certificate", "err", err,
			"serving_not_after", time.Unix(r.notAfter.Load(), 0).UTC())
	}
	if pairChanged {
		leaf := r.cert.Leaf
		r.logger.Info("TLS certificate reloaded", "file", r.files.Cert, "subject", leaf.Subject.String(),
			"serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter)
	}
	caChanged, err := r.loadClientCA()
	if err != nil {
		r.logger.Warn("TLS client CA file unusable; still verifying clients with the last good CAs", "err", err)
	}
	if caChanged {
		r.logger.Info("TLS client CA reloaded", "file", r.files.ClientCA)
	}
	if pairChanged || caChanged {
		r.publish()
	}
}

// expiryGauge is the serving certificate's expiry as a Prometheus gauge, so
// that an alert can fire well before it comes: a rotation that keeps
// failing leaves the last good certificate serving until then.
func (r *tlsReloader) expiryGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "greeter_server_tls_certificate_expiry_seconds",
		Help: "When the certificate greeter-server serves expires, in seconds since the Unix epoch (its NotAfter).",
	}, func() float64 { return float64(r.notAfter.Load()) })
}

// publish makes the loaded material the one new handshakes use.
func (r *tlsReloader) publish() {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{r.cert}}
	if r.clientCAs != nil {
		cfg.ClientCAs = r.clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if r.files.clientCertOptional {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	// ALPN: gRPC clients ask for h2 (grpc-go insists on it).
	grpcCfg := cfg.Clone()
	grpcCfg.NextProtos = []string{"h2"}
	r.currentGRPC.Store(grpcCfg)
	// trim:http begin
	// Browsers and other HTTP clients may take either.
	httpCfg := cfg
	httpCfg.NextProtos = []string{"h2", "http/1.1"}
	r.currentHTTP.Store(httpCfg)
	// trim:http end
}

// loadKeyPair reads the certificate and key files and, if they differ from
// the last good ones and are good, keeps them. It reports whether it did.
func (r *tlsReloader) loadKeyPair() (changed bool, err error) {
	certPEM, err := os.ReadFile(r.files.Cert)
	var keyPEM []byte
	if err == nil {
		keyPEM, err = os.ReadFile(r.files.Key)
	}
	if err == nil && bytes.Equal(certPEM, r.certPEM) && bytes.Equal(keyPEM, r.keyPEM) {
		return false, nil
	}
	var cert tls.Certificate
	if err == nil {
		err = truncatedPEM(certPEM)
	}
	if err == nil {
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
	}
	if err == nil {
		// Parsed here: X509KeyPair leaves Leaf nil under GODEBUG=x509keypairleaf=0.
		cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	}
	if err == nil {
		err = validNow(cert.Leaf, r.now())
	}
	if err != nil {
		return false, fmt.Errorf("load TLS key pair %s, %s: %w", r.files.Cert, r.files.Key, err)
	}
	r.cert, r.certPEM, r.keyPEM = cert, certPEM, keyPEM
	r.notAfter.Store(cert.Leaf.NotAfter.Unix())
	return true, nil
}

// loadClientCA does for the client CA file what loadKeyPair does for the
// key pair; without one, it does nothing.
func (r *tlsReloader) loadClientCA() (changed bool, err error) {
	if r.files.ClientCA == "" {
		return false, nil
	}
	caPEM, err := os.ReadFile(r.files.ClientCA)
	if err != nil {
		return false, fmt.Errorf("read client CA: %w", err)
	}
	if bytes.Equal(caPEM, r.caPEM) {
		return false, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return false, fmt.Errorf("client CA %s holds no PEM certificate", r.files.ClientCA)
	}
	if err := truncatedPEM(caPEM); err != nil {
		return false, fmt.Errorf("client CA %s: %w", r.files.ClientCA, err)
	}
	r.clientCAs, r.caPEM = pool, caPEM
	return true, nil
}

// validNow returns an error unless now lies in cert's validity window:
// every client would refuse a certificate outside it, so serving it is no
// better than serving none, and the last good one may still have days.
func validNow(cert *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("the certificate is not valid until %s", cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return fmt.Errorf("the certificate expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// truncatedPEM returns an error if data ends in a PEM block that was begun
// but not finished (or is otherwise malformed), as in a file caught while it
// is being written. The parsers skip such a block without a word, so a chain
// or CA bundle would silently lose its last certificate.
func truncatedPEM(data []byte) error {
	rest := data
	for {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return errors.New("the file ends in an unfinished or malformed PEM block (was it caught half written?)")
	}
	return nil
}
