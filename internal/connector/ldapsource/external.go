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
	"net/url"
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

// endpointName is the endpoint's URL for messages: scheme, host and path,
// without the user info or query that may hold a credential.
func endpointName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func fetchExtra(ctx context.Context, s *Settings) (Extra, error) {
	name := endpointName(s.ExternalURL)
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
		return nil, fmt.Errorf("external endpoint %s: %v", name, endpointErr(err))
	}
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("external endpoint %s: %w", name, endpointErr(err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("external endpoint %s answered %s", name, res.Status)
	}
	var body struct {
		Users Extra `json:"users"`
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, maxExtraBytes+1))
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("external endpoint %s: its answer is not {\"users\": {login: {\"groups\": [...], \"attributes\": {...}}}}: %w", name, err)
	}
	return body.Users, nil
}

// endpointErr is err without the *url.Error wrapping that repeats the
// whole URL (query included).
func endpointErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
