package directory

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/policy"
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
	// SignIn, when set, is the org's compiled sign-in settings and Groups
	// the user's group ids, as the caller's snapshot holds them (the LDAP
	// view): Authenticate then reads only the user from the store.
	// Without SignIn, both are read from the store.
	SignIn *SignIn
	Groups []string
	// Credential, with SignIn, is the user's credential as the same
	// snapshot holds it: a successful sign-in then reads nothing from the
	// store (unless the user was written through this Directory lately).
	// Authenticate's result is then a partial record (ids, login, status).
	Credential *Credential
	// MayChangeExpired: the client can be told to change an expired
	// password (an LDAP client that sent the password policy control).
	// A user whose password expired then signs in, if all else passes,
	// and is returned with Status PASSWORD_EXPIRED: the caller lets it
	// change its password and nothing else.
	MayChangeExpired bool
}

// Authenticate checks a sign-in: only an ACTIVE user with a matching
// password succeeds. Every failure is CodeInvalidCredentials with Okta's
// message (MsgInvalidCredentials) and the real reason in Error.Reason.
// An unknown user costs the same password verification as a known one, so
// timing does not tell them apart. A success is recorded as the user's
// last login (coalesced; see FlushLogins) and a hash in an older scheme is
// upgraded to argon2id.
func (d *Directory) Authenticate(ctx context.Context, req AuthRequest) (_ *User, err error) {
	var u *User
	defer func() { d.auditAuth(&req, u, err) }() // every outcome goes to the system log (audit.go)
	// A failure is answered late once its address failed often (throttle.go).
	var accountBuf [192]byte
	account := appendAccount(accountBuf[:0], &req) // on the stack: a success needs no copy
	// A failure is answered no sooner than the failure floor after it
	// began, so the time does not tell an unknown user (no write) from a
	// wrong password (a failure counted in the store).
	start := d.now()
	defer func() {
		if c := CodeOf(err); c == CodeInvalidCredentials || c == CodePolicyDenied {
			wait := d.throttle.failed(req.Client.IP, account, d.now())
			if rest := d.failureFloor - d.now().Sub(start); d.failureFloor > 0 && rest > 0 {
				wait += rest
			}
			d.sleep(ctx, wait)
		}
	}()
	if d.throttle.refused(req.Client.IP, account, d.now()) {
		return nil, &Error{Code: CodeThrottled, Message: "too many failed sign-ins from this address; try again later",
			Reason: "client IP " + req.Client.IP + " is past the failed sign-in limit for this account"}
	}
	groups, si := req.Groups, req.SignIn
	now := d.now()
	if c := req.Credential; c != nil && si != nil && c.UserID == req.UserID && c.OrgID == req.OrgID && si.OrgID == c.OrgID &&
		!d.touched.recent(c.UserID, now) {
		u = c.user()
	} else {
		u, si, groups, err = d.loadForAuth(ctx, &req, si, groups)
	}
	if err != nil {
		return nil, storeErr(err)
	}
	if u != nil {
		if err := si.check(); err != nil {
			return nil, err
		}
	}
	if len(req.Password) == 0 {
		return nil, credentialsError("empty password")
	}
	// A user without a password of its own may be an integration's whose
	// source checks passwords (delegated authentication): only then is the
	// user's integration read, so other binds cost nothing more.
	delegateID := ""
	if u != nil && u.PasswordHash == "" && d.delegate != nil {
		if delegateID, err = d.userIntegration(ctx, u.ID); err != nil {
			return nil, storeErr(err)
		}
	}
	if u == nil || (u.PasswordHash == "" && delegateID == "") {
		d.hasher.Verify(ctx, dummyHash(d.hasher), req.Password)
		if u == nil {
			return nil, credentialsError("no such user")
		}
		return nil, credentialsError("user has no password")
	}
	// The sign-on policy decides first whether the password carries a
	// code, so it is evaluated before the password is checked; its denial
	// is told only to a caller who knew the password.
	subject := policy.Subject{UserID: u.ID, Groups: groups, Type: policy.UserType(u.Type)}
	decision := si.Policies.SignOn(subject, policy.Context{IP: clientAddr(req.Client.IP), AuthType: policy.AuthType(req.Client.Protocol)})
	pw, code, hasCode := req.Password, []byte(nil), false
	if decision.Action.RequiresMFA() {
		// The code follows the last separator, so a password may hold
		// the separator itself.
		if i := bytes.LastIndexByte(pw, si.MFASeparator); i >= 0 {
			pw, code, hasCode = pw[:i], pw[i+1:], true
		}
	}
	settings := si.Policies.Password(subject)
	if u.Status == StatusLockedOut && settings.AutoUnlock() > 0 && !d.now().Before(u.StatusChanged.Add(settings.AutoUnlock())) {
		if err := d.autoUnlock(ctx, u); err != nil {
			return nil, storeErr(err)
		}
	}
	cacheable := d.binds != nil && password.Slow(u.PasswordHash) // parsed once per sign-in
	remembered := cacheable && d.binds.ok(u, pw, si, now)
	ok := remembered
	switch {
	case delegateID != "":
		var handled bool
		handled, ok, err = d.delegate(ctx, delegateID, u.Profile.Login, pw)
		if err != nil {
			return nil, &Error{Code: CodeUnavailable, Message: "the source directory that checks this user's password could not be asked; try again",
				Reason: "delegated authentication: " + err.Error(), Err: err}
		}
		if !handled {
			return nil, credentialsError("user has no password (its integration does not delegate authentication)")
		}
	case !ok:
		ok, err = d.hasher.Verify(ctx, u.PasswordHash, pw)
	}
	if err != nil && !errors.Is(err, password.ErrUnsupported) {
		return nil, storeErr(err) // waiting for a hashing slot was cancelled
	}
	if !ok {
		if err != nil {
			return nil, credentialsError("stored password hash cannot be verified")
		}
		// Counted and written before the answer goes out, so neither a
		// restart nor another process resets the count.
		if err := d.recordFailure(ctx, u, settings.LockoutAfter()); err != nil {
			return nil, storeErr(err)
		}
		return nil, credentialsError("wrong password")
	}
	if u.Status == StatusActive && settings.Expired(u.PasswordChanged, d.now()) {
		if err := d.expirePassword(ctx, u); err != nil {
			return nil, storeErr(err)
		}
	}
	if u.Status != StatusActive && u.Status != StatusPasswordExpired {
		e := credentialsError("user is " + u.Status)
		if u.Status == StatusLockedOut {
			e.Err = ErrLockedOut
		}
		return nil, e
	}
	d.auditSignOn(&req, u, decision)
	if !decision.Action.Allowed() {
		return nil, policyDenied(MsgPolicyDenied, decision, "denied")
	}
	if decision.Action.RequiresMFA() {
		if !hasCode {
			return nil, policyDenied(MsgPolicyDenied, decision, "MFA required and no code given")
		}
		if isPush(code) {
			if err := d.waitPush(ctx, u, &req, decision); err != nil {
				return nil, err
			}
		} else {
			valid, err := d.VerifyTOTP(ctx, u.ID, string(code))
			switch {
			case CodeOf(err) == CodeForbidden:
				return nil, policyDenied(MsgNoFactor, decision, "MFA required and no active factor")
			case err != nil:
				return nil, err
			case !valid:
				return nil, policyDenied(MsgPolicyDenied, decision, "MFA code wrong, expired or already used")
			}
		}
	}
	if u.Status == StatusPasswordExpired && !req.MayChangeExpired {
		// Told only to a caller who knew the password and passed the
		// sign-on policy, so that the user knows to change it.
		return nil, &Error{Code: CodeInvalidCredentials, Message: MsgPasswordExpired, Reason: "password expired", Err: ErrPasswordExpired}
	}
	if u.FailedLogins > 0 {
		if err := d.resetFailures(ctx, u); err != nil {
			return nil, storeErr(err)
		}
	}
	if u.Status == StatusPasswordExpired {
		return u, nil // a sign-in to change the password, not a login
	}
	d.noteLogin(u.ID)
	if d.upgrade && d.hasher.NeedsUpgrade(u.PasswordHash) {
		d.upgradeHash(ctx, u, pw)
	} else if cacheable && !remembered {
		d.binds.put(u, pw, si, now)
	}
	return u, nil
}

// appendAccount appends the throttle's name for the account req names:
// org, user id and folded login.
func appendAccount(dst []byte, req *AuthRequest) []byte {
	dst = append(append(append(append(dst, req.OrgID...), '/'), req.UserID...), '/')
	for i := 0; i < len(req.Login); i++ {
		if c := req.Login[i]; c >= 0x80 {
			return append(dst, foldKey(req.Login[i:])...) // non-ASCII: as foldKey does
		} else if 'A' <= c && c <= 'Z' {
			dst = append(dst, c+('a'-'A'))
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// loadForAuth reads the user a sign-in names, and, unless the caller
// gave the org's compiled sign-in settings, the user's groups and those.
// An unknown user is nil, not an error.
func (d *Directory) loadForAuth(ctx context.Context, req *AuthRequest, si *SignIn, groups []string) (u *User, _ *SignIn, _ []string, err error) {
	err = d.st.View(ctx, func(r store.Reader) error {
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
			return nil
		}
		if err != nil {
			return err
		}
		if si != nil && si.OrgID == u.OrgID {
			return nil
		}
		if groups, err = r.UserGroups(u.ID); err != nil {
			return err
		}
		o, err := r.Org(u.OrgID)
		if err != nil {
			return err
		}
		si, err = compileSignIn(r, o)
		return err
	})
	return u, si, groups, err
}

// recordFailure counts a wrong password and locks the user out when the
// count reaches lockAfter (0: never). The count is read and written in one
// transaction, so concurrent binds (or nodes) cannot each get N tries.
func (d *Directory) recordFailure(ctx context.Context, u *User, lockAfter int) error {
	var locked *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil {
			return err
		}
		now := d.now().UTC()
		cur.FailedLogins++
		cur.LastFailedLogin = now
		if lockAfter > 0 && cur.FailedLogins >= lockAfter && cur.Status == StatusActive {
			cur.Status, cur.StatusChanged = StatusLockedOut, now
			locked = cur
		}
		return tx.UpdateUser(cur)
	})
	d.wrote(u.ID)
	if err == nil && locked != nil {
		d.auditUser(ctx, nil, EventUserLock, locked)
	}
	return err
}

// resetFailures clears the failure count after a successful sign-in.
func (d *Directory) resetFailures(ctx context.Context, u *User) error {
	return d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil || cur.FailedLogins == 0 {
			return err
		}
		cur.FailedLogins = 0
		d.wrote(u.ID)
		return tx.UpdateUser(cur)
	})
}

// expirePassword marks an ACTIVE user's password expired (the password
// policy's maxAgeDays has passed since it was set): the user must change
// it before signing in again.
func (d *Directory) expirePassword(ctx context.Context, u *User) error {
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil || cur.Status != StatusActive {
			return err
		}
		cur.Status, cur.StatusChanged = StatusPasswordExpired, d.now().UTC()
		*u = *cur
		return tx.UpdateUser(cur)
	})
	d.wrote(u.ID)
	if err == nil && u.Status == StatusPasswordExpired {
		d.auditUser(ctx, nil, EventUserExpirePassword, u)
	}
	return err
}

// autoUnlock ends a lockout whose time is up (the password policy's
// autoUnlockMinutes), so the sign-in proceeds as for an ACTIVE user.
func (d *Directory) autoUnlock(ctx context.Context, u *User) error {
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil || cur.Status != StatusLockedOut {
			return err
		}
		cur.Status, cur.StatusChanged, cur.FailedLogins = StatusActive, d.now().UTC(), 0
		*u = *cur
		return tx.UpdateUser(cur)
	})
	d.wrote(u.ID)
	if err == nil && u.Status == StatusActive {
		d.auditUser(ctx, nil, EventUserUnlock, u)
	}
	return err
}

// policyDenied is a sign-on policy's refusal; msg is what the client sees.
func policyDenied(msg string, d policy.Decision, why string) *Error {
	return &Error{Code: CodePolicyDenied, Message: msg,
		Reason: "sign-on policy " + strconvQuote(d.PolicyName) + ", rule " + strconvQuote(d.RuleName) + ": " + why}
}

func strconvQuote(s string) string { return `"` + s + `"` }

// clientAddr parses a client IP; an unknown one is in no network zone.
func clientAddr(ip string) netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
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
	d.wrote(u.ID)
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
	pending, uses := d.logins, d.tokenUses
	d.logins = make(map[string]time.Time, len(pending)) // about as many next time
	d.tokenUses = nil
	d.loginMu.Unlock()
	if len(uses) > 0 {
		// Best effort: a lost last use costs nothing but its precision.
		if err := d.st.RecordTokenUses(ctx, uses); err != nil {
			d.log.Warn("could not record API token uses", "tokens", len(uses), "err", err)
		}
	}
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

// PasswordVerifications is how many slow password hashes (argon2id and
// the like) sign-ins and password checks have verified since New: the
// sign-in cost an operator watches (dirgate_password_verifications_total),
// and what shows that an unknown user costs the same as a known one.
func (d *Directory) PasswordVerifications() uint64 { return d.hasher.SlowVerifications() }
