// Package tlsboot gives a fresh dirgate a working TLS setup without an
// operator's certificate: on first start it creates a private CA and a
// server certificate signed by it in a directory, and on later starts it
// reuses them, issuing a new server certificate when the current one
// expires soon, does not name every requested host, or no longer chains to
// the CA. Clients trust the CA file (LDAPTLS_CACERT=ca.pem).
//
// Files, all PEM: ca.pem, ca-key.pem (0600), server.pem, server-key.pem
// (0600). Keys are ECDSA P-256 in PKCS#8.
package tlsboot

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the directory.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
)

// Defaults of Options.
const (
	DefaultCAValidity     = 10 * 365 * 24 * time.Hour
	DefaultServerValidity = 397 * 24 * time.Hour // what browsers accept, for consistency
	DefaultRenewBefore    = 30 * 24 * time.Hour
)

// Options says where the files live and what the server certificate names.
type Options struct {
	Dir   string   // created with mode 0700 if missing
	Hosts []string // DNS names and IP addresses, e.g. "localhost", "127.0.0.1"

	CAValidity     time.Duration    // default DefaultCAValidity
	ServerValidity time.Duration    // default DefaultServerValidity
	RenewBefore    time.Duration    // default DefaultRenewBefore
	Now            func() time.Time // default time.Now
}

// Result names the files and says what Ensure did.
type Result struct {
	CAFile, CAKeyFile, CertFile, KeyFile string

	CACreated bool // a new CA was made: clients must trust the new ca.pem
	Issued    bool // a new server certificate was written
	// Reason says why the server certificate was issued ("no server
	// certificate", "expires 2026-01-02", "does not name host x"); empty
	// when nothing was issued.
	Reason string
	// NotAfter is when the server certificate in use expires.
	NotAfter time.Time
}

// Ensure makes sure Dir holds a CA and a valid server certificate for
// Hosts, creating or renewing what is needed, and returns the file names.
func Ensure(o Options) (*Result, error) {
	if len(o.Hosts) == 0 {
		return nil, errors.New("tlsboot: at least one host name or address is required")
	}
	if o.CAValidity <= 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.ServerValidity <= 0 {
		o.ServerValidity = DefaultServerValidity
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = DefaultRenewBefore
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlsboot: %w", err)
	}
	r := &Result{
		CAFile:    filepath.Join(o.Dir, CAFile),
		CAKeyFile: filepath.Join(o.Dir, CAKeyFile),
		CertFile:  filepath.Join(o.Dir, ServerFile),
		KeyFile:   filepath.Join(o.Dir, ServerKeyFile),
	}
	now := o.Now()

	ca, caKey, err := loadCA(r, now, o.RenewBefore)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		if ca, caKey, err = createCA(r, now, o.CAValidity); err != nil {
			return nil, err
		}
		r.CACreated = true
	}

	reason, notAfter := "the CA is new", time.Time{}
	if !r.CACreated {
		if reason, notAfter, err = checkServer(r, ca, o.Hosts, now, o.RenewBefore); err != nil {
			return nil, err
		}
	}
	if reason == "" {
		r.NotAfter = notAfter
		return r, nil
	}
	if caKey == nil {
		if caKey, err = readKey(r.CAKeyFile); err != nil {
			return nil, fmt.Errorf("tlsboot: the server certificate needs reissuing (%s) but the CA key cannot be read: %w", reason, err)
		}
		if !samePublicKey(ca, caKey) {
			return nil, fmt.Errorf("tlsboot: %s does not hold the key of %s", r.CAKeyFile, r.CAFile)
		}
	}
	if r.NotAfter, err = issueServer(r, ca, caKey, o.Hosts, now, o.ServerValidity); err != nil {
		return nil, err
	}
	r.Issued, r.Reason = true, reason
	return r, nil
}

// loadCA returns the existing CA, or nil (and no error) when there is none
// or it must be replaced (expired or about to). The CA key is read later,
// and only if a server certificate must be issued.
func loadCA(r *Result, now time.Time, renewBefore time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	ca, err := readCert(r.CAFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tlsboot: %w", err)
	}
	if !ca.IsCA {
		return nil, nil, fmt.Errorf("tlsboot: %s is not a CA certificate", r.CAFile)
	}
	if now.Add(renewBefore).After(ca.NotAfter) {
		return nil, nil, nil // a new CA (and server certificate) replace it
	}
	return ca, nil, nil
}

func createCA(r *Result, now time.Time, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsboot: %w", err)
	}
	serial, err := randSerial()
	if err != nil {
		return nil, nil, err
	}
	ski, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "dirgate local CA " + now.UTC().Format("2006-01-02"), Organization: []string{"dirgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsboot: creating the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsboot: %w", err)
	}
	// The key first: a CA certificate without its key would be useless.
	if err := writeKey(r.CAKeyFile, key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(r.CAFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// checkServer returns why the server certificate must be (re)issued, or
// "" and its expiry when it is fine.
func checkServer(r *Result, ca *x509.Certificate, hosts []string, now time.Time, renewBefore time.Duration) (string, time.Time, error) {
	cert, err := readCert(r.CertFile)
	if errors.Is(err, os.ErrNotExist) {
		return "no server certificate yet", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tlsboot: %w", err)
	}
	key, err := readKey(r.KeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return "no server key", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tlsboot: %w", err)
	}
	if !samePublicKey(cert, key) {
		return r.KeyFile + " does not match " + r.CertFile, time.Time{}, nil
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return "it expires " + cert.NotAfter.UTC().Format(time.DateOnly), time.Time{}, nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, h := range hosts {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			var hostErr x509.HostnameError
			if errors.As(err, &hostErr) {
				return "it does not name " + h, time.Time{}, nil
			}
			return "it does not verify against " + r.CAFile, time.Time{}, nil
		}
	}
	return "", cert.NotAfter, nil
}

func issueServer(r *Result, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time, validity time.Duration) (time.Time, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return time.Time{}, fmt.Errorf("tlsboot: %w", err)
	}
	serial, err := randSerial()
	if err != nil {
		return time.Time{}, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"dirgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		AuthorityKeyId:        ca.SubjectKeyId,
	}
	for _, h := range hosts {
		h = strings.Trim(h, "[]")
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return time.Time{}, fmt.Errorf("tlsboot: issuing the server certificate: %w", err)
	}
	// Key before certificate; each is written to a temporary file and
	// renamed, so a reader (ldapserver.CertSource) sees old or new files,
	// and a pair that does not match is refused there and here.
	if err := writeKey(r.KeyFile, key); err != nil {
		return time.Time{}, err
	}
	if err := writePEM(r.CertFile, "CERTIFICATE", der, 0o644); err != nil {
		return time.Time{}, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return time.Time{}, fmt.Errorf("tlsboot: %w", err)
	}
	return c.NotAfter, nil
}

func randSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlsboot: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func keyID(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("tlsboot: %w", err)
	}
	sum := sha256.Sum256(der)
	return sum[:20], nil
}

func samePublicKey(c *x509.Certificate, k *ecdsa.PrivateKey) bool {
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(&k.PublicKey)
}

func readPEM(name, wantType string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s holds no PEM %s block", name, wantType)
		}
		if b.Type == wantType {
			return b.Bytes, nil
		}
	}
}

func readCert(name string) (*x509.Certificate, error) {
	der, err := readPEM(name, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func readKey(name string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(name, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA key", name)
	}
	return ek, nil
}

func writeKey(name string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("tlsboot: %w", err)
	}
	return writePEM(name, "PRIVATE KEY", der, 0o600)
}

// writePEM writes atomically: a temporary file with the final mode in the
// same directory, synced, then renamed over name.
func writePEM(name, typ string, der []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("tlsboot: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("tlsboot: writing %s: %w", name, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tlsboot: writing %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tlsboot: writing %s: %w", name, err)
	}
	return nil
}
