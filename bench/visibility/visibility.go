// Package visibility measures how long a change made through the dirgate
// CLI, or through its REST API, takes to show over LDAP: "a single user
// change is visible over LDAP within 1 s while the server is under full
// search load". Each round suspends or unsuspends a data-set user with
// `dirgate user suspend|unsuspend` (the write is acknowledged when the
// command exits) or with POST /api/v1/users/{login}/lifecycle/… (when the
// answer arrives), and then searches for the user, every PollEvery, until
// its organizationalStatus says so.
package visibility

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/bench/dataset"
)

// Config says what to change and where to look.
type Config struct {
	Dirgate, Data, Org string // the dirgate binary, its data directory and org
	URL                string // ldap:// of the running dirgate serve
	Set                *dataset.Set
	// API, when set, is the https:// (or http://) address of the REST API:
	// changes go through it with Token (an org admin's) instead of the CLI;
	// CAFile is the CA to trust for it.
	API, Token, CAFile string
	Changes            int           // rounds (default 10)
	PollEvery          time.Duration // default 5 ms
	Timeout            time.Duration // per round (default 10 s)
}

// Result is the time from each acknowledged write to its visibility.
type Result struct {
	Latencies     []time.Duration // sorted
	P50, Max      time.Duration
	Changes, Lost int // Lost: never visible within Timeout
}

// Run does the rounds one after another, on users spread over the data
// set, and puts each user back as it was.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.Changes <= 0 {
		c.Changes = 10
	}
	if c.PollEvery <= 0 {
		c.PollEvery = 5 * time.Millisecond
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	conn, err := ldap.DialURL(c.URL)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Bind(c.Set.ServiceDN(), c.Set.ServicePassword()); err != nil {
		return nil, fmt.Errorf("bind as the service account: %w", err)
	}
	change := func(action, login string) error {
		cmd := exec.CommandContext(ctx, c.Dirgate, "user", action, "--data", c.Data, "--org", c.Org, "--login", login)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("dirgate user %s %s: %v: %s", action, login, err, out)
		}
		return nil
	}
	if c.API != "" {
		if change, err = apiChange(c); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	for k := range c.Changes {
		i := (k*7919 + 13) % c.Set.N()
		for _, step := range []struct{ action, status string }{{"suspend", "SUSPENDED"}, {"unsuspend", "ACTIVE"}} {
			if err := change(step.action, c.Set.UID(i)); err != nil {
				return nil, err
			}
			acked := time.Now()
			lat, err := waitFor(ctx, conn, c, i, step.status, acked)
			if err != nil {
				return nil, err
			}
			if lat < 0 {
				res.Lost++
				continue
			}
			if step.action == "suspend" { // one figure per user change
				res.Latencies = append(res.Latencies, lat)
			}
		}
	}
	slices.Sort(res.Latencies)
	res.Changes = len(res.Latencies) + res.Lost
	if n := len(res.Latencies); n > 0 {
		res.P50, res.Max = res.Latencies[n/2], res.Latencies[n-1]
	}
	return res, nil
}

// waitFor polls until user i has the status, giving the time since
// acked, or -1 after the timeout.
func waitFor(ctx context.Context, conn *ldap.Conn, c Config, i int, status string, acked time.Time) (time.Duration, error) {
	req := ldap.NewSearchRequest(c.Set.Base(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, 0, false,
		"(uid="+ldap.EscapeFilter(c.Set.UID(i))+")", []string{"organizationalStatus"}, nil)
	for {
		res, err := conn.Search(req)
		if err != nil {
			return 0, fmt.Errorf("search %s: %w", c.Set.UID(i), err)
		}
		if len(res.Entries) == 1 && res.Entries[0].GetAttributeValue("organizationalStatus") == status {
			return time.Since(acked), nil
		}
		if time.Since(acked) > c.Timeout {
			return -1, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(c.PollEvery):
		}
	}
}

// apiChange returns a change that goes through the REST API.
func apiChange(c Config) (func(action, login string) error, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no certificate", c.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return func(action, login string) error {
		req, err := http.NewRequest("POST", c.API+"/api/v1/users/"+url.PathEscape(login)+"/lifecycle/"+action, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "SSWS "+c.Token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST lifecycle/%s of %s: %s: %s", action, login, resp.Status, body)
		}
		return nil
	}, nil
}
