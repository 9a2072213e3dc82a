// Package httpservetest writes web configuration files for tests: a
// self-signed certificate for 127.0.0.1 and localhost, and basic auth
// users with bcrypt hashes.
package httpservetest

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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config is a written web configuration.
type Config struct {
	File   string // the web config, for --web.config.file
	CAFile string // the certificate, PEM, for clients to trust (curl --cacert)
	Pool   *x509.CertPool
}

// ClientTLS is a TLS client configuration that trusts the certificate.
func (c Config) ClientTLS() *tls.Config { return &tls.Config{RootCAs: c.Pool} }

// Write writes into a temporary directory a certificate and a web config
// with TLS (when tlsOn) and the users (name → password; bcrypt's minimum
// cost, to keep tests fast). extra is appended to the file as is.
func Write(t testing.TB, tlsOn bool, users map[string]string, extra string) Config {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "pantau test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{File: filepath.Join(dir, "web.yml"), CAFile: filepath.Join(dir, "pantau.crt"), Pool: x509.NewCertPool()}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	write(t, c.CAFile, certPEM)
	write(t, filepath.Join(dir, "pantau.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	c.Pool.AppendCertsFromPEM(certPEM)

	var b strings.Builder
	if tlsOn {
		// Relative paths: exporter-toolkit resolves them from the file's
		// directory.
		b.WriteString("tls_server_config:\n  cert_file: pantau.crt\n  key_file: pantau.key\n")
	}
	if len(users) > 0 {
		b.WriteString("basic_auth_users:\n")
		for name, pass := range users {
			hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("  " + name + ": " + string(hash) + "\n")
		}
	}
	b.WriteString(extra)
	write(t, c.File, []byte(b.String()))
	return c
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
