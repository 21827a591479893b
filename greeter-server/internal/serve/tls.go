package serve

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// TLSFiles names the PEM files of the server's TLS setup. With Cert and Key
// the server speaks TLS (1.2 at least; Go negotiates 1.3 whenever the client
// supports it). With ClientCA as well, it requires every client to present a
// certificate signed by one of those CAs (mutual TLS).
type TLSFiles struct {
	Cert     string
	Key      string
	ClientCA string
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

// credentials returns the transport credentials for f, or nil for plaintext.
func (f TLSFiles) credentials() (credentials.TransportCredentials, error) {
	if f.Cert == "" && f.Key == "" {
		if f.ClientCA != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
		}
		return nil, nil
	}
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("--tls-cert and --tls-key must be set together")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair %s, %s: %w", f.Cert, f.Key, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if f.ClientCA != "" {
		pem, err := os.ReadFile(f.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", f.ClientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return credentials.NewTLS(cfg), nil
}
