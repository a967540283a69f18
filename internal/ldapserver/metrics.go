package ldapserver

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the server's Prometheus collectors. Label lookups
// (WithLabelValues hashes its arguments) are done once per (op, result) pair
// and cached in fixed tables, so counting an operation is an atomic load
// and an add.
type metrics struct {
	ops         *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	open        prometheus.Gauge
	connections *prometheus.CounterVec
	disconnects *prometheus.CounterVec

	opCounters [numOps][maxResultLabel + 1]atomic.Pointer[prometheus.Counter]
	durations  [numOps]prometheus.Observer
	connTLS    [2]prometheus.Counter
}

// maxResultLabel bounds the result-code table; codes above it (there are
// none in RFC 4511 besides the Cancel extension's) share its slot.
const maxResultLabel = 127

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ldap_operations_total",
			Help: "LDAP operations answered, by operation and result code.",
		}, []string{"op", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ldap_operation_duration_seconds",
			Help:    "Time from reading an LDAP request to writing its final response.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 120},
		}, []string{"op"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ldap_connections_open",
			Help: "LDAP client connections currently open.",
		}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ldap_connections_total",
			Help: "LDAP client connections accepted, by whether the listener was ldaps.",
		}, []string{"tls"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ldap_disconnects_total",
			Help: "LDAP connections closed, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		var err error
		m.ops, err = register(reg, m.ops)
		if err == nil {
			m.duration, err = register(reg, m.duration)
		}
		if err == nil {
			m.open, err = register(reg, m.open)
		}
		if err == nil {
			m.connections, err = register(reg, m.connections)
		}
		if err == nil {
			m.disconnects, err = register(reg, m.disconnects)
		}
		if err != nil {
			return nil, err
		}
	}
	for o := Op(0); o < numOps; o++ {
		m.durations[o] = m.duration.WithLabelValues(o.String())
	}
	m.connTLS[0] = m.connections.WithLabelValues("false")
	m.connTLS[1] = m.connections.WithLabelValues("true")
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description so two servers can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// observe counts one answered operation.
func (m *metrics) observe(op Op, code ldap.ResultCode, d time.Duration) {
	i := int(code)
	if i > maxResultLabel {
		i = maxResultLabel
	}
	slot := &m.opCounters[op][i]
	c := slot.Load()
	if c == nil {
		label := code.String()
		if int(code) > maxResultLabel {
			label = "other"
		}
		v := m.ops.WithLabelValues(op.String(), label)
		c = &v
		slot.Store(c)
	}
	(*c).Inc()
	m.durations[op].Observe(d.Seconds())
}

// countOnly counts an operation that has no response (Abandon, Unbind).
func (m *metrics) countOnly(op Op) {
	slot := &m.opCounters[op][0]
	c := slot.Load()
	if c == nil {
		v := m.ops.WithLabelValues(op.String(), "none")
		c = &v
		slot.Store(c)
	}
	(*c).Inc()
}

func (m *metrics) connOpened(tls bool) {
	m.open.Inc()
	if tls {
		m.connTLS[1].Inc()
	} else {
		m.connTLS[0].Inc()
	}
}

func (m *metrics) connClosed(reason string) {
	m.open.Dec()
	m.disconnects.WithLabelValues(reason).Inc()
}

// rejected counts a connection refused at accept (it was never open).
func (m *metrics) rejected(reason string) {
	m.disconnects.WithLabelValues(reason).Inc()
}
