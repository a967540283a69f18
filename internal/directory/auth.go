package directory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
)

// AuthRequest is one sign-in attempt. The user is named by UserID (the LDAP
// view resolves bind DNs to ids) or by Login.
type AuthRequest struct {
	OrgID    string
	UserID   string
	Login    string
	Password []byte
	Client   ClientInfo
}

// Authenticate checks a sign-in: only an ACTIVE user with a matching
// password succeeds. Every failure is CodeInvalidCredentials with Okta's
// message (MsgInvalidCredentials) and the real reason in Error.Reason.
// An unknown user costs the same password verification as a known one, so
// timing does not tell them apart. A success is recorded as the user's
// last login (coalesced; see FlushLogins) and a hash in an older scheme is
// upgraded to argon2id.
func (d *Directory) Authenticate(ctx context.Context, req AuthRequest) (*User, error) {
	var u *User
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		switch {
		case req.UserID != "":
			u, err = r.User(req.UserID)
			if err == nil && u.OrgID != req.OrgID {
				u, err = nil, store.ErrNotFound
			}
		default:
			u, err = r.UserByLogin(req.OrgID, foldKey(req.Login))
		}
		if errors.Is(err, store.ErrNotFound) {
			u, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if len(req.Password) == 0 {
		return nil, credentialsError("empty password")
	}
	if u == nil || u.PasswordHash == "" {
		d.hasher.Verify(ctx, dummyHash(d.hasher), req.Password)
		if u == nil {
			return nil, credentialsError("no such user")
		}
		return nil, credentialsError("user has no password")
	}
	ok, err := d.hasher.Verify(ctx, u.PasswordHash, req.Password)
	if err != nil && !errors.Is(err, password.ErrUnsupported) {
		return nil, storeErr(err) // waiting for a hashing slot was cancelled
	}
	if !ok {
		if err != nil {
			return nil, credentialsError("stored password hash cannot be verified")
		}
		return nil, credentialsError("wrong password")
	}
	if u.Status != StatusActive {
		return nil, credentialsError("user is " + u.Status)
	}
	d.noteLogin(u.ID)
	if d.hasher.NeedsUpgrade(u.PasswordHash) {
		d.upgradeHash(ctx, u, req.Password)
	}
	return u, nil
}

// upgradeHash replaces a verified legacy hash with argon2id; failure only
// logs (the bind already succeeded).
func (d *Directory) upgradeHash(ctx context.Context, u *User, pw []byte) {
	h, err := d.hasher.Hash(pw)
	if err != nil {
		return
	}
	old := u.PasswordHash
	err = d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil || cur.PasswordHash != old {
			return err // changed meanwhile: keep the new one
		}
		cur.PasswordHash = h
		return tx.UpdateUser(cur)
	})
	if err != nil {
		d.log.Warn("could not upgrade a password hash", "user", u.ID, "err", err)
	}
}

var (
	dummyOnce sync.Once
	dummy     string
)

// dummyHash is a hash nobody's password matches, verified for unknown
// users so they cost what known ones do.
func dummyHash(h *password.Hasher) string {
	dummyOnce.Do(func() { dummy, _ = h.Hash([]byte("dirgate-no-such-user")) })
	return dummy
}

func (d *Directory) noteLogin(id string) {
	d.loginMu.Lock()
	d.logins[id] = d.now().UTC()
	d.loginMu.Unlock()
}

// FlushLogins writes the coalesced last-login times now.
func (d *Directory) FlushLogins(ctx context.Context) error {
	d.loginMu.Lock()
	pending := d.logins
	d.logins = map[string]time.Time{}
	d.loginMu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	if err := d.st.RecordLogins(ctx, pending); err != nil {
		d.loginMu.Lock()
		for id, t := range pending { // keep them for the next try, newest wins
			if cur, ok := d.logins[id]; !ok || cur.Before(t) {
				d.logins[id] = t
			}
		}
		d.loginMu.Unlock()
		return storeErr(err)
	}
	return nil
}

func (d *Directory) flushLoop() {
	defer close(d.stopped)
	t := time.NewTicker(d.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if err := d.FlushLogins(context.Background()); err != nil {
				d.log.Warn("could not record last logins", "err", err)
			}
		}
	}
}

func sortUsers(us []*User) {
	slices.SortFunc(us, func(a, b *User) int { return strings.Compare(a.LoginKey, b.LoginKey) })
}
