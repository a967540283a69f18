package ldapserver

import (
	"crypto/tls"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// CertSource holds the server certificate loaded from a PEM certificate
// (chain) file and a PEM key file, and replaces it without a restart:
// explicitly with Reload (cmd wires SIGHUP to it), and on its own when a
// handshake finds that either file's modification time or size changed
// (checked at most once per check interval, so handshakes do not stat the
// files every time). A reload that fails — a half-written pair, a key that
// does not match — keeps serving the previous certificate.
type CertSource struct {
	certFile, keyFile string

	cert      atomic.Pointer[tls.Certificate]
	interval  atomic.Int64 // nanoseconds between file checks
	nextCheck atomic.Int64 // unix nanoseconds

	mu       sync.Mutex // serialises reloads
	certStat fileStamp
	keyStat  fileStamp
	lastErr  error
}

// DefaultCertCheckInterval is how often GetCertificate looks at the files.
const DefaultCertCheckInterval = 5 * time.Second

type fileStamp struct {
	mod  time.Time
	size int64
}

func stamp(name string) (fileStamp, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// LoadCertSource loads the pair once; it fails if the files do not hold a
// matching certificate and key.
func LoadCertSource(certFile, keyFile string) (*CertSource, error) {
	c := &CertSource{certFile: certFile, keyFile: keyFile}
	c.interval.Store(int64(DefaultCertCheckInterval))
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// SetCheckInterval changes how often GetCertificate checks the files for
// changes; zero checks on every handshake.
func (c *CertSource) SetCheckInterval(d time.Duration) {
	c.interval.Store(int64(d))
	c.nextCheck.Store(0)
}

// Reload reads both files now and swaps the certificate in if they load.
func (c *CertSource) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reloadLocked()
}

func (c *CertSource) reloadLocked() error {
	cs, err1 := stamp(c.certFile)
	ks, err2 := stamp(c.keyFile)
	if err := errors.Join(err1, err2); err != nil {
		return errors.New("ldapserver: TLS certificate: " + err.Error())
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		// The files' stamps are recorded anyway so a broken pair is not
		// re-read on every check; the next change is.
		c.certStat, c.keyStat, c.lastErr = cs, ks, err
		return errors.New("ldapserver: TLS certificate " + c.certFile + ": " + err.Error())
	}
	c.cert.Store(&pair)
	c.certStat, c.keyStat, c.lastErr = cs, ks, nil
	return nil
}

// LastError returns why the most recent reload failed, or nil if it
// succeeded, for health checks and logs.
func (c *CertSource) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Certificate returns the certificate currently served.
func (c *CertSource) Certificate() *tls.Certificate { return c.cert.Load() }

// GetCertificate is a tls.Config.GetCertificate callback.
func (c *CertSource) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := time.Now().UnixNano()
	if next := c.nextCheck.Load(); now >= next && c.nextCheck.CompareAndSwap(next, now+c.interval.Load()) {
		c.checkFiles()
	}
	return c.cert.Load(), nil
}

// checkFiles reloads when either file changed since the last load.
func (c *CertSource) checkFiles() {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, err1 := stamp(c.certFile)
	ks, err2 := stamp(c.keyFile)
	if err1 != nil || err2 != nil || (cs == c.certStat && ks == c.keyStat) {
		return
	}
	_ = c.reloadLocked() // on failure the previous certificate stays
}

// TLSConfig returns a server tls.Config serving this source's certificate
// with TLS 1.2 as the minimum version and, for TLS 1.2, only the suites of
// CipherSuites12 (TLS 1.3's are all AEAD and not configurable).
func (c *CertSource) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   CipherSuites12,
		GetCertificate: c.GetCertificate,
	}
}

// CipherSuites12 are the TLS 1.2 suites dirgate offers: forward secret
// (ECDHE) and AEAD (GCM, ChaCha20-Poly1305) only. Go's defaults also
// allow ECDHE with AES-CBC and SHA-1, which every client that reaches TLS
// 1.2 can do without.
var CipherSuites12 = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}
