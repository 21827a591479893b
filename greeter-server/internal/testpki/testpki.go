// Package testpki makes throwaway certificate authorities and certificates
// for greeter-server's TLS tests. It is for tests only: the keys are fresh
// for every call and nothing is kept.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a certificate and its private key.
type Cert struct {
	X509 *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA returns a self-signed certificate authority named name, valid from
// an hour ago to an hour from now.
func NewCA(t testing.TB, name string) Cert {
	t.Helper()
	return issue(t, Cert{}, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
}

// Server returns a server certificate for 127.0.0.1, ::1 and localhost,
// signed by c, a CA.
func (c Cert) Server(t testing.TB) Cert {
	t.Helper()
	return issue(t, c, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "greeter-server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
}

// ServerValid is Server with the validity period notBefore to notAfter.
func (c Cert) ServerValid(t testing.TB, notBefore, notAfter time.Time) Cert {
	t.Helper()
	return issue(t, c, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "greeter-server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: notBefore, NotAfter: notAfter,
	})
}

// Client returns a client certificate signed by c, a CA, valid from
// notBefore to notAfter; zero times mean an hour ago and an hour from now.
func (c Cert) Client(t testing.TB, notBefore, notAfter time.Time) Cert {
	t.Helper()
	return issue(t, c, &x509.Certificate{
		Subject: pkix.Name{CommonName: "greeter-client"}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
}

// ClientNamed returns a client certificate signed by c, a CA, that names
// its holder by URI SANs, DNS SANs and a subject common name (each may be
// empty), as a policy's principals see them.
func (c Cert) ClientNamed(t testing.TB, uris, dnsNames []string, commonName string) Cert {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: commonName}, DNSNames: dnsNames,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	return issue(t, c, tmpl)
}

// Pool returns a certificate pool that trusts c.
func (c Cert) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.X509)
	return pool
}

// TLS returns c for a tls.Config's Certificates.
func (c Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.X509.Raw}, PrivateKey: c.Key}
}

// PEM returns c's certificate and its PKCS #8 key, PEM-encoded.
func (c Cert) PEM(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.X509.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// WriteFiles writes c as PEM files NAME.pem (the certificate) and
// NAME-key.pem (its PKCS #8 key) into dir, and returns their paths.
func (c Cert) WriteFiles(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := c.PEM(t)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	for path, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// issue signs tmpl with parent, or self-signs it if parent is the zero Cert,
// filling in a random serial number and, if unset, the validity period.
func issue(t testing.TB, parent Cert, tmpl *x509.Certificate) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, big.NewInt(1<<62)); err != nil {
		t.Fatal(err)
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(time.Hour)
	}
	signer, signerKey := tmpl, key
	if parent.X509 != nil {
		signer, signerKey = parent.X509, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return Cert{X509: cert, Key: key}
}
