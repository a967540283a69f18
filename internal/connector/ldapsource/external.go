package ldapsource

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The external groups and attributes endpoint: one GET of
// Settings.ExternalURL per run, answering
//
//	{"users": {"<login>": {"groups": ["dirgate group", …], "attributes": {"name": "value", …}}}}
//
// Groups must exist in dirgate; attributes are stored under the attribute
// prefix. A run whose endpoint fails fails (it does not sync without the
// groups the endpoint would give).

// maxExtraBytes bounds the endpoint's answer.
const maxExtraBytes = 64 << 20

func fetchExtra(ctx context.Context, s *Settings) (Extra, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.CACert)) {
			return nil, errors.New("the CA certificate holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	hc := &http.Client{Timeout: time.Duration(s.Timeout), Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ExternalURL, nil)
	if err != nil {
		return nil, fmt.Errorf("external endpoint: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("external endpoint %s: %w", s.ExternalURL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("external endpoint %s answered %s", s.ExternalURL, res.Status)
	}
	var body struct {
		Users Extra `json:"users"`
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, maxExtraBytes+1))
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("external endpoint %s: its answer is not {\"users\": {login: {\"groups\": [...], \"attributes\": {...}}}}: %w", s.ExternalURL, err)
	}
	return body.Users, nil
}
