// Package ldapserver is dirgate's LDAPv3 network server: listeners for
// ldap:// and ldaps://, StartTLS, per-connection state (bound identity, TLS,
// outstanding operations, paged searches), the limits that keep one client
// from hurting the others, logs and metrics. It answers what the protocol
// itself decides — policy refusals, SASL, StartTLS, Abandon, paging, size and
// time limits — and hands everything else to a Backend it defines; it never
// imports the directory behind it.
package ldapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("ldapserver: server closed")

// Server serves LDAP on any number of listeners.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	metrics *metrics

	ctrls   ControlSupporter // nil when the backend supports none
	modify  Modifier
	add     Adder
	del     Deleter
	rename  Renamer
	nextID  atomic.Uint64
	closing atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perIP     map[string]int
	// running holds each client address's execution slots (a buffered
	// channel of MaxRunningPerIP), shared by its connections while it has
	// any: one address's operations cannot take every core.
	running map[string]chan struct{}
	done    chan struct{} // closed when the last connection ends during shutdown
}

// NewServer validates cfg and returns a server ready to Serve.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	m, err := newMetrics(c.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       c,
		backend:   c.Backend,
		log:       c.Logger,
		metrics:   m,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		perIP:     make(map[string]int),
		running:   make(map[string]chan struct{}),
	}
	s.ctrls, _ = c.Backend.(ControlSupporter)
	s.modify, _ = c.Backend.(Modifier)
	s.add, _ = c.Backend.(Adder)
	s.del, _ = c.Backend.(Deleter)
	s.rename, _ = c.Backend.(Renamer)
	return s, nil
}

// ListenAndServe listens on addr (host:port) for ldap:// and serves.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// ListenAndServeTLS listens on addr for ldaps:// and serves.
func (s *Server) ListenAndServeTLS(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.ServeTLS(l)
}

// Serve accepts ldap:// connections (plaintext until StartTLS) on l until
// Shutdown or Close, and then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, false) }

// ServeTLS accepts ldaps:// connections on l: each starts with a TLS
// handshake using Config.TLSConfig.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.cfg.TLSConfig == nil {
		l.Close()
		return errors.New("ldapserver: ServeTLS needs Config.TLSConfig")
	}
	return s.serve(l, true)
}

func (s *Server) serve(l net.Listener, implicitTLS bool) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if isTemporary(err) {
				// Out of file descriptors and the like: back off, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("ldap accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c, reason := s.admit(nc, implicitTLS)
		if c == nil {
			s.metrics.rejected(reason)
			go reject(nc, implicitTLS, reason, s.log)
			continue
		}
		go c.serve()
	}
}

// isTemporary reports accept errors worth retrying (EMFILE, ENFILE,
// ECONNABORTED), which net reports through the deprecated Temporary method.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// admit applies the connection limits and registers the connection, or
// returns the reason it is refused.
func (s *Server) admit(nc net.Conn, implicitTLS bool) (*conn, string) {
	ip := remoteIP(nc.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil, "shutdown"
	}
	if s.cfg.MaxConnections > 0 && len(s.conns) >= s.cfg.MaxConnections {
		return nil, "max_connections"
	}
	if s.cfg.MaxConnectionsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxConnectionsPerIP {
		return nil, "max_connections_per_ip"
	}
	c := newConn(s, nc, ip, implicitTLS)
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	if n := s.cfg.MaxRunningPerIP; n > 0 {
		slots, ok := s.running[ip]
		if !ok {
			slots = make(chan struct{}, n)
			s.running[ip] = slots
		}
		c.slots = slots
	}
	return c, ""
}

// forget unregisters a closed connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if n := s.perIP[c.ip] - 1; n > 0 {
		s.perIP[c.ip] = n
	} else {
		delete(s.perIP, c.ip)
		delete(s.running, c.ip)
	}
	if s.done != nil && len(s.conns) == 0 {
		close(s.done)
		s.done = nil
	}
	s.mu.Unlock()
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// reject tells a refused plaintext client why (a Notice of Disconnection
// with busy) and closes. An ldaps:// client gets no notice: it expects a
// TLS handshake, and completing one would spend the resources the limit
// protects.
func reject(nc net.Conn, implicitTLS bool, reason string, log *slog.Logger) {
	log.Info("ldap connection refused", "remote", nc.RemoteAddr().String(), "reason", reason)
	if !implicitTLS {
		var e ber.Encoder
		ldap.AppendNoticeOfDisconnection(&e, ldap.Busy, "too many connections")
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(e.Buf)
	}
	nc.Close()
}

// Shutdown stops accepting connections, lets running operations finish,
// sends each connection a Notice of Disconnection (unavailable) once it is
// idle and closes it. When ctx ends or Config.ShutdownGrace passes first,
// the remaining connections are closed and their operations cancelled, and
// Shutdown returns the context's error (or context.DeadlineExceeded).
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()

	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	done := make(chan struct{})
	if len(s.conns) == 0 {
		close(done)
	} else {
		s.done = done
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.beginShutdown()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close stops accepting and closes every connection at once, cancelling
// running operations.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.abort("server_close")
	}
	return nil
}

// tlsConfig is the server's TLS configuration (TLS 1.2 minimum).
func (s *Server) tlsConfig() *tls.Config { return s.cfg.TLSConfig }
