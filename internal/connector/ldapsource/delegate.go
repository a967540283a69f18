package ldapsource

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
)

// Delegator is the directory's delegated authentication
// (directory.Delegate): the password of a synced user of an integration
// with delegatedAuthentication is checked by finding the user in the
// source (as the sync does) and binding as them there. The integration's
// settings are read at most every delegateTTL.
type Delegator struct {
	Dir *directory.Directory

	mu    sync.Mutex
	cache map[string]delegateEntry
}

type delegateEntry struct {
	in *directory.Integration
	s  *Settings
	at time.Time
}

const delegateTTL = 30 * time.Second

// Check implements directory.Delegate.
func (g *Delegator) Check(ctx context.Context, integrationID, login string, password []byte) (handled, ok bool, err error) {
	in, s, err := g.settings(ctx, integrationID)
	if err != nil {
		return false, false, err
	}
	if !s.Delegated {
		return false, false, nil
	}
	pw, err := g.Dir.IntegrationSecret(in)
	if err != nil {
		return true, false, err
	}
	defer clear(pw)
	r := TestLogin(ctx, s, pw, login, password)
	if r.OK {
		return true, true, nil
	}
	var se *StepError
	if errors.As(r.Err, &se) {
		switch {
		case se.Step == StepBindAsUser && ldap.IsErrorWithCode(se.Err, ldap.LDAPResultInvalidCredentials):
			return true, false, nil // the wrong password
		case se.Step == StepFindUser && errors.Is(se.Err, ErrNoUser):
			return true, false, nil // not in the source (any more)
		}
	}
	return true, false, r.Err
}

func (g *Delegator) settings(ctx context.Context, id string) (*directory.Integration, *Settings, error) {
	g.mu.Lock()
	e, ok := g.cache[id]
	g.mu.Unlock()
	if ok && time.Since(e.at) < delegateTTL {
		return e.in, e.s, nil
	}
	in, err := g.Dir.IntegrationByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	s, err := SettingsOf(in)
	if err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]delegateEntry{}
	}
	g.cache[id] = delegateEntry{in: in, s: s, at: time.Now()}
	g.mu.Unlock()
	return in, s, nil
}
