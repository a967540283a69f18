package ldapserver

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Server. The zero value of every limit means "use the
// default" and a negative value means "no limit" (where a limit can be
// lifted at all), so a Config literal that sets only Backend and TLSConfig
// is safe to expose to the Internet. Booleans are named so that false is the
// safe choice.
type Config struct {
	// Backend answers the operations. Required.
	Backend Backend

	// TLSConfig is used for ldaps:// listeners and StartTLS. A certificate
	// is usually supplied through CertSource.GetCertificate. The server
	// works on a clone, raises MinVersion to TLS 1.2 and, when
	// CipherSuites is nil, limits TLS 1.2 to CipherSuites12.
	TLSConfig *tls.Config

	// AllowPlaintext lets operations other than StartTLS, Unbind and
	// Abandon run on a connection without TLS. Off by default: they get
	// confidentialityRequired (13). Meant for loopback tests and benchmarks.
	AllowPlaintext bool

	// AllowUnboundOps lets a connection that has not completed a
	// successful, authenticated bind run operations other than StartTLS,
	// Bind, Unbind and Abandon. Off by default (Okta's behaviour): they get
	// insufficientAccessRights (50), RootDSE included.
	AllowUnboundOps bool

	// MaxMessageSize bounds one incoming LDAPMessage in octets
	// (default ber.DefaultMaxMessage, 4 MiB). Larger ones end the connection.
	MaxMessageSize int

	// MaxConnections bounds open connections over all listeners (default
	// 10000, negative: unlimited).
	MaxConnections int

	// MaxConnectionsPerIP bounds open connections from one client address
	// (default 1000, negative: unlimited). PostgreSQL's search+bind opens
	// two connections per login, and pools sit behind one address, so this
	// is generous.
	MaxConnectionsPerIP int

	// IdleTimeout closes a connection with no request and no operation in
	// progress for this long (default 5 minutes, negative: never).
	IdleTimeout time.Duration

	// ReadTimeout bounds how long one request may take to arrive in full
	// once its first octets have: a client that sends a request a byte at
	// a time (slowloris) is disconnected (default 30 s, negative: never).
	// Real clients send a request in one write, so the clock runs only for
	// the rare request that is not all there when it starts.
	ReadTimeout time.Duration

	// TLSHandshakeTimeout bounds the TLS handshake of ldaps:// and StartTLS
	// (default 10 s).
	TLSHandshakeTimeout time.Duration

	// WriteTimeout bounds one write to a client; a client that does not
	// read its responses is disconnected (default 30 s, negative: never).
	WriteTimeout time.Duration

	// MaxOutstandingOps bounds the operations in progress on one connection
	// (default 128). Beyond it an operation is answered busy (51).
	MaxOutstandingOps int

	// MaxRunningPerIP bounds the operations (searches, compares, extended
	// operations, writes; binds have the password hasher's own bound) that
	// execute at once for one client address, over all its connections
	// (default 2 × GOMAXPROCS, negative: unlimited). More wait their turn:
	// an address that floods expensive searches gets that many cores, and
	// every other address its own share.
	MaxRunningPerIP int

	// SearchTimeLimit bounds one search (or one page of a paged search);
	// a client's smaller timeLimit wins (default 2 minutes). Exceeding it
	// gives timeLimitExceeded (3).
	SearchTimeLimit time.Duration

	// MaxEntriesUnpaged is how many entries a search without the paged
	// results control returns before sizeLimitExceeded (4) (default 1000).
	MaxEntriesUnpaged int

	// MaxPageSize caps the page size a client may ask for (default 1000).
	MaxPageSize int

	// MaxPagedSearches bounds the suspended paged searches one connection
	// may hold (default 16); starting one more drops the oldest.
	MaxPagedSearches int

	// ShutdownGrace bounds how long Shutdown lets running operations finish
	// when its context has no earlier deadline (default 30 s).
	ShutdownGrace time.Duration

	// Logger receives connection and error logs (default slog.Default()).
	Logger *slog.Logger

	// Registerer receives the server's Prometheus metrics. Nil: metrics are
	// kept but not registered anywhere.
	Registerer prometheus.Registerer
}

// Defaults of the Config limits.
const (
	DefaultMaxConnections      = 10000
	DefaultMaxConnectionsPerIP = 1000
	DefaultIdleTimeout         = 5 * time.Minute
	DefaultReadTimeout         = 30 * time.Second
	DefaultTLSHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout        = 30 * time.Second
	DefaultMaxOutstandingOps   = 128
	DefaultSearchTimeLimit     = 2 * time.Minute
	DefaultMaxEntriesUnpaged   = 1000
	DefaultMaxPageSize         = 1000
	DefaultMaxPagedSearches    = 16
	DefaultShutdownGrace       = 30 * time.Second

	// minMessageSize keeps MaxMessageSize above any bind or search a real
	// client sends.
	minMessageSize = 1024
)

// withDefaults returns a copy of c with zero limits replaced by defaults.
func (c *Config) withDefaults() Config {
	d := *c
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&d.MaxMessageSize, ber.DefaultMaxMessage)
	setInt(&d.MaxConnections, DefaultMaxConnections)
	setInt(&d.MaxConnectionsPerIP, DefaultMaxConnectionsPerIP)
	setInt(&d.MaxOutstandingOps, DefaultMaxOutstandingOps)
	setInt(&d.MaxRunningPerIP, 2*runtime.GOMAXPROCS(0))
	setInt(&d.MaxEntriesUnpaged, DefaultMaxEntriesUnpaged)
	setInt(&d.MaxPageSize, DefaultMaxPageSize)
	setInt(&d.MaxPagedSearches, DefaultMaxPagedSearches)
	setDur(&d.IdleTimeout, DefaultIdleTimeout)
	setDur(&d.ReadTimeout, DefaultReadTimeout)
	setDur(&d.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	setDur(&d.WriteTimeout, DefaultWriteTimeout)
	setDur(&d.SearchTimeLimit, DefaultSearchTimeLimit)
	setDur(&d.ShutdownGrace, DefaultShutdownGrace)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.TLSConfig != nil {
		t := d.TLSConfig.Clone()
		if t.MinVersion < tls.VersionTLS12 {
			t.MinVersion = tls.VersionTLS12
		}
		if t.CipherSuites == nil {
			t.CipherSuites = CipherSuites12
		}
		d.TLSConfig = t
	}
	return d
}

// Validate reports the first setting that cannot work, after defaults are
// applied. NewServer calls it.
func (c *Config) Validate() error {
	d := c.withDefaults()
	if d.Backend == nil {
		return errors.New("ldapserver: Config.Backend is required")
	}
	if d.TLSConfig == nil && !d.AllowPlaintext {
		return errors.New("ldapserver: no TLSConfig and AllowPlaintext is off: every operation would be refused; configure a certificate (or allow plaintext for loopback testing)")
	}
	if d.TLSConfig != nil && d.TLSConfig.GetCertificate == nil && d.TLSConfig.GetConfigForClient == nil && len(d.TLSConfig.Certificates) == 0 {
		return errors.New("ldapserver: TLSConfig has no certificate (set Certificates or GetCertificate, e.g. from a CertSource)")
	}
	if d.TLSConfig != nil && d.TLSConfig.MaxVersion != 0 && d.TLSConfig.MaxVersion < tls.VersionTLS12 {
		return errors.New("ldapserver: TLSConfig.MaxVersion is below TLS 1.2, the minimum dirgate accepts")
	}
	if d.MaxMessageSize < minMessageSize {
		return errors.New("ldapserver: MaxMessageSize must be at least " + strconv.Itoa(minMessageSize) + " octets, got " + strconv.Itoa(d.MaxMessageSize))
	}
	if d.MaxOutstandingOps < 1 {
		return errors.New("ldapserver: MaxOutstandingOps must be at least 1, got " + strconv.Itoa(d.MaxOutstandingOps))
	}
	if d.MaxEntriesUnpaged < 1 {
		return errors.New("ldapserver: MaxEntriesUnpaged must be at least 1, got " + strconv.Itoa(d.MaxEntriesUnpaged))
	}
	if d.MaxPageSize < 1 {
		return errors.New("ldapserver: MaxPageSize must be at least 1, got " + strconv.Itoa(d.MaxPageSize))
	}
	if d.MaxPagedSearches < 1 {
		return errors.New("ldapserver: MaxPagedSearches must be at least 1, got " + strconv.Itoa(d.MaxPagedSearches))
	}
	if d.MaxConnections > 0 && d.MaxConnectionsPerIP > d.MaxConnections {
		return errors.New("ldapserver: MaxConnectionsPerIP (" + strconv.Itoa(d.MaxConnectionsPerIP) + ") exceeds MaxConnections (" + strconv.Itoa(d.MaxConnections) + ")")
	}
	for _, x := range []struct {
		name string
		v    time.Duration
	}{
		{"TLSHandshakeTimeout", d.TLSHandshakeTimeout},
		{"SearchTimeLimit", d.SearchTimeLimit},
		{"ShutdownGrace", d.ShutdownGrace},
	} {
		if x.v < 0 {
			return errors.New("ldapserver: " + x.name + " must be positive, got " + x.v.String())
		}
	}
	return nil
}
