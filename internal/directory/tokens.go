package directory

// API tokens and the principal of a management-API call. A token acts as
// the admin who created it, with the roles that admin holds at the time of
// each call (not those at creation): taking a role away, or suspending the
// admin, takes it from the token at once. The secret is shown once and
// stored as its SHA-256: it is 238 random bits, so a fast hash loses
// nothing, and every call can afford it.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Token is an API token's record (never its secret).
type Token = store.Token

const (
	prefixToken = "00T"
	// tokenSecretLen is an SSWS secret's length: "00" and 40 base62
	// characters, Okta's 42.
	tokenSecretLen = 42
	// tokenUseEvery bounds how often one token's last use is written.
	tokenUseEvery = time.Minute
	maxTokenName  = 255
)

// Permission is what a call needs of its principal.
type Permission int

// Permissions, from least to most.
const (
	// PermRead: view users, groups, factors, policies and the system log.
	PermRead Permission = iota
	// PermWrite: create, change and delete users and groups, run the
	// lifecycle, enrol and reset factors.
	PermWrite
	// PermSecurity: admin roles, sign-on and password policies, and API
	// tokens: what decides who else may do what.
	PermSecurity
	// PermInstallation: create and list orgs and change their settings;
	// installation tokens only, which in turn hold no org permission.
	PermInstallation
)

var permNames = [...]string{PermRead: "view the directory", PermWrite: "change users and groups",
	PermSecurity: "change admin roles, policies and API tokens", PermInstallation: "manage orgs"}

// rolePerms is the most each admin role may do.
var rolePerms = map[string]Permission{
	RoleSuperAdmin: PermSecurity, RoleOrgAdmin: PermWrite, RoleReadOnlyAdmin: PermRead,
}

// Principal is who makes a management-API call: an org's admin, through
// a token, or (Org and User nil) an installation token, which manages orgs
// and nothing in them.
type Principal struct {
	Org   *Org
	User  *User
	Token *Token
}

// Installation reports whether p is an installation token.
func (p *Principal) Installation() bool { return p.User == nil }

// Allow returns nil when p may do what perm names, else a CodeForbidden
// error that says which role it would take.
func (p *Principal) Allow(perm Permission) error {
	if p.Installation() != (perm == PermInstallation) {
		msg := "You do not have permission to perform the requested action: an installation token manages orgs " +
			"(/api/dirgate/v1/orgs) and nothing in them; use a token of one of the org's admins"
		if perm == PermInstallation {
			msg = "You do not have permission to perform the requested action: managing orgs takes an installation token " +
				"(dirgate token create --installation); an org admin's token acts inside its org only"
		}
		return &Error{Code: CodeForbidden, Message: msg}
	}
	if perm == PermInstallation {
		return nil
	}
	if perm <= best(p.User.Roles) {
		return nil
	}
	need := RoleSuperAdmin
	if perm <= PermWrite {
		need = RoleOrgAdmin + " or " + RoleSuperAdmin
	}
	if perm == PermRead {
		need = "an admin role"
	}
	held := "no admin role"
	if len(p.User.Roles) > 0 {
		held = strings.Join(p.User.Roles, ", ")
	}
	return &Error{Code: CodeForbidden,
		Message: "You do not have permission to perform the requested action: to " + permNames[perm] + " takes " + need +
			"; " + p.User.Profile.Login + " holds " + held}
}

// Actor is p as the system log's actor of the writes it makes.
func (p *Principal) Actor() LogActor {
	if p.Installation() {
		return LogActor{ID: p.Token.ID, Type: "SystemPrincipal", AlternateID: "token:" + p.Token.Name, DisplayName: p.Token.Name}
	}
	return LogActor{ID: p.User.ID, Type: "User", AlternateID: p.User.Profile.Login, DisplayName: userDisplayName(p.User)}
}

// OrgID is the org p acts in ("" for an installation token).
func (p *Principal) OrgID() string {
	if p.Org == nil {
		return ""
	}
	return p.Org.ID
}

// CreateToken creates an API token acting as the admin login of org and
// returns it with its secret, which is not kept and cannot be shown again.
func (d *Directory) CreateToken(ctx context.Context, org, login, name string) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", invalid("name", "a token needs a name (what it is for, e.g. \"terraform\")")
	}
	if e := checkText("name", name, maxTokenName); e != nil {
		return nil, "", e
	}
	secret := newSecret()
	tok := &Token{ID: newID(prefixToken), Name: name, Hash: tokenHash(secret), Created: d.now().UTC()}
	var u *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if u, err = userByRef(tx, o, login); err != nil {
			return err
		}
		if !slices.ContainsFunc(u.Roles, func(r string) bool { _, ok := rolePerms[r]; return ok }) {
			return invalid("login", "%s holds no admin role; a token acts with its admin's roles, so it would be refused everything (assign one first: dirgate user add-role)", u.Profile.Login)
		}
		if u.Status != StatusActive {
			return invalid("login", "%s is %s; only an ACTIVE admin's token is accepted", u.Profile.Login, u.Status)
		}
		tok.OrgID, tok.UserID = o.ID, u.ID
		return tx.CreateToken(tok)
	})
	if err != nil {
		return nil, "", storeErr(err)
	}
	d.auditWrite(ctx, nil, tok.OrgID, EventTokenCreate, tokenTarget(tok), userTarget(u))
	return tok, secret, nil
}

// CreateInstallationToken creates a token that manages orgs (the
// /api/dirgate/v1/orgs endpoints) and can do nothing inside one, and
// returns it with its secret, shown once.
func (d *Directory) CreateInstallationToken(ctx context.Context, name string) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", invalid("name", "a token needs a name (what it is for, e.g. \"provisioning\")")
	}
	if e := checkText("name", name, maxTokenName); e != nil {
		return nil, "", e
	}
	secret := newSecret()
	tok := &Token{ID: newID(prefixToken), Name: name, Hash: tokenHash(secret), Created: d.now().UTC()}
	if err := d.st.Update(ctx, func(tx store.Tx) error { return tx.CreateToken(tok) }); err != nil {
		return nil, "", storeErr(err)
	}
	d.auditWrite(ctx, nil, "", EventTokenCreate, tokenTarget(tok))
	return tok, secret, nil
}

// InstallationTokens lists the installation tokens, oldest first.
func (d *Directory) InstallationTokens(ctx context.Context) ([]*Token, error) {
	var out []*Token
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		out, err = r.Tokens("")
		return err
	})
	return out, storeErr(err)
}

// RevokeInstallationToken deletes an installation token.
func (d *Directory) RevokeInstallationToken(ctx context.Context, id string) error {
	var tok *Token
	err := d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		tok, err = tx.Token(id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && tok.OrgID != "") {
			return errf(CodeNotFound, "no installation token %q", id)
		}
		if err != nil {
			return err
		}
		return tx.DeleteToken(id)
	})
	if err != nil {
		return storeErr(err)
	}
	d.auditWrite(ctx, nil, "", EventTokenRevoke, tokenTarget(tok))
	return nil
}

// Tokens lists the org's API tokens, oldest first.
func (d *Directory) Tokens(ctx context.Context, org string) ([]*Token, error) {
	var out []*Token
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		out, err = r.Tokens(o.ID)
		return err
	})
	return out, storeErr(err)
}

// RevokeToken deletes the org's token with that id: the next call made
// with it is refused.
func (d *Directory) RevokeToken(ctx context.Context, org, id string) error {
	var tok *Token
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		tok, err = tx.Token(id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && tok.OrgID != o.ID) {
			return errf(CodeNotFound, "no API token %q in org %s", id, o.Name)
		}
		if err != nil {
			return err
		}
		return tx.DeleteToken(id)
	})
	if err != nil {
		return storeErr(err)
	}
	d.auditWrite(ctx, nil, tok.OrgID, EventTokenRevoke, tokenTarget(tok))
	return nil
}

// AuthenticateToken returns the principal of an SSWS secret. Any failure
// is CodeInvalidCredentials with the same message (the caller learns
// nothing of why); Reason says why, for the server's log.
func (d *Directory) AuthenticateToken(ctx context.Context, secret string) (*Principal, error) {
	if !wellFormedSecret(secret) {
		return nil, tokenRefused("malformed token")
	}
	hash := tokenHash(secret)
	var p Principal
	err := d.st.View(ctx, func(r store.Reader) error {
		tok, err := r.TokenByHash(hash)
		if errors.Is(err, store.ErrNotFound) {
			return tokenRefused("unknown or revoked token")
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 {
			return tokenRefused("hash mismatch")
		}
		if tok.OrgID == "" { // an installation token
			p.Token = tok
			return nil
		}
		if p.Org, err = r.Org(tok.OrgID); err != nil {
			return err
		}
		if p.User, err = r.User(tok.UserID); err != nil {
			return err
		}
		if p.User.Status != StatusActive {
			return tokenRefused("the token's admin " + p.User.Profile.Login + " is " + p.User.Status)
		}
		p.Token = tok
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.noteTokenUse(p.Token)
	return &p, nil
}

// MsgInvalidToken is Okta's words for any refused token.
const MsgInvalidToken = "Invalid token provided"

func tokenRefused(reason string) *Error {
	return &Error{Code: CodeInvalidCredentials, Message: MsgInvalidToken, Reason: reason}
}

// noteTokenUse queues the token's last use for the login flush, at most
// once per tokenUseEvery.
func (d *Directory) noteTokenUse(tok *Token) {
	now := d.now().UTC()
	if now.Sub(tok.LastUsed) < tokenUseEvery {
		return
	}
	d.loginMu.Lock()
	if d.tokenUses == nil {
		d.tokenUses = make(map[string]time.Time)
	}
	d.tokenUses[tok.ID] = now
	d.loginMu.Unlock()
}

// newSecret returns "00" and 40 random base62 characters (238 bits).
func newSecret() string {
	b := make([]byte, tokenSecretLen)
	b[0], b[1] = '0', '0'
	fillBase62(b[2:])
	return string(b)
}

func wellFormedSecret(s string) bool {
	if len(s) != tokenSecretLen || !strings.HasPrefix(s, "00") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

func tokenHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func tokenTarget(t *Token) LogTarget {
	return LogTarget{ID: t.ID, Type: "ApiToken", DisplayName: t.Name}
}
