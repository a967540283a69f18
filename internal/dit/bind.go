package dit

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

var errBadCredentials = ldapserver.Fail(ldap.InvalidCredentials, directory.MsgInvalidCredentials)

var (
	uidType = ldap.LookupAttributeType("uid")
	ouType  = ldap.LookupAttributeType("ou")
)

// bindTarget is what a bind DN names in the snapshot.
type bindTarget struct {
	org   *orgView // nil: no org
	login string   // the uid value, or the whole name when it is not a user DN
	user  int32    // the user's entry; -1 when none
}

// resolveBind finds the user a bind DN names:
// uid=<login>,ou=users,<naming context> or uid=<login>,<naming context>,
// in any case and spacing (the DN is parsed, not compared as a string).
func (s *snapshot) resolveBind(name string) bindTarget {
	if t, ok := s.resolveServedDN(name); ok {
		return t
	}
	t := bindTarget{login: name, user: -1}
	dn, err := ldap.ParseDN(name)
	if err != nil || len(dn) < 2 || len(dn[0]) != 1 || ldap.LookupAttributeType(dn[0][0].Type) != uidType {
		return t
	}
	t.login = dn[0][0].Value
	base := dn[1:]
	if len(base[0]) == 1 && ldap.LookupAttributeType(base[0][0].Type) == ouType {
		if v, ok := ouType.Equality.Normalize(base[0][0].Value); ok && v == "users" {
			base = base[1:]
		}
	}
	if t.org = s.byBase[base.Normalize()]; t.org == nil {
		return t
	}
	t.user = t.org.userByLogin(t.login)
	return t
}

// userByLogin returns the entry of the user with that uid (an exact
// spelling wins over a case-folded one), or -1.
func (o *orgView) userByLogin(login string) int32 {
	key, ok := uidType.Equality.Normalize(login)
	if !ok {
		return -1
	}
	user := int32(-1)
	lo, hi := o.users()
	for _, i := range o.idx[indexSlot(idUID)].get(key) {
		if int(i) < lo || int(i) >= hi {
			continue
		}
		if user < 0 || o.entries[i].login == login {
			user = i
		}
	}
	return user
}

// resolveServedDN is resolveBind's fast path, without parsing or
// allocating: name is a user entry's DN in normalised form (as most
// clients send it: the DN a search returned, which is its normalised
// form when written in lower case).
func (s *snapshot) resolveServedDN(name string) (bindTarget, bool) {
	for i := 0; i < len(name); i++ {
		if name[i] != ',' {
			continue
		}
		o := s.byBase[name[i+1:]]
		if o == nil {
			continue
		}
		sid, ok := o.byNorm[name]
		if !ok || o.dupNorms != nil {
			return bindTarget{}, false
		}
		at := o.pos[sid]
		if e := &o.entries[at]; e.kind == kindUser {
			return bindTarget{org: o, login: e.login, user: at}, true
		}
		return bindTarget{}, false
	}
	return bindTarget{}, false
}

// bind checks a simple bind. Every outcome but success is the directory's
// (Authenticate is called even when the DN names nobody, so that costs
// the same), mapped through resultOfCode.
//
// With the password policy control (policy), the response carries one
// (policy.go), and a user whose password expired binds to change it and
// nothing else (principal.MustChange).
func (d *DIT) bind(ctx context.Context, name string, password []byte, client directory.ClientInfo, policy bool) (ldapserver.Identity, error) {
	t := d.snap.Load().resolveBind(name)
	client.BindDN = name // for the system log
	req := directory.AuthRequest{Password: password, Client: client, MayChangeExpired: policy}
	if t.org != nil {
		req.OrgID = t.org.org.ID
	}
	var e *entry
	if t.user >= 0 {
		e = &t.org.entries[t.user]
		req.UserID = e.id
		req.SignIn, req.Groups, req.Credential = t.org.signIn, t.org.groupIDs(t.user), e.cred
	} else {
		req.Login = t.login
	}
	u, err := d.src.Authenticate(ctx, req)
	switch {
	case err != nil:
		d.logBindFailure(name, req, client, err)
		return ldapserver.Identity{}, withPolicy(ldapError(err), policy, policyErrorOf(err))
	case e == nil || u == nil || u.ID != e.id:
		d.log.Debug("ldap bind refused: the DN names no user of the snapshot", "dn", name, "org", req.OrgID, "client", client.IP)
		return ldapserver.Identity{}, withPolicy(errBadCredentials, policy, ldap.PolicyNoError)
	}
	id := ldapserver.Identity{DN: e.dn, Value: &principal{OrgID: req.OrgID, UserID: e.id}}
	if u.Status == directory.StatusPasswordExpired { // only with policy: see MayChangeExpired
		id.Value = &principal{OrgID: req.OrgID, UserID: e.id, MustChange: true}
		id.Controls = []ldap.Control{ldap.PasswordPolicyControl(ldap.PolicyChangeAfterReset)}
	} else if policy {
		id.Controls = []ldap.Control{ldap.PasswordPolicyControl(ldap.PolicyNoError)}
	}
	return id, nil
}

// groupIDs returns the ids of the groups the user entry at i belongs to,
// sorted, for policy evaluation.
func (o *orgView) groupIDs(i int32) []string {
	gs := o.memberOf.list(int(i) - 2)
	if len(gs) == 0 {
		return nil
	}
	ids := make([]string, len(gs))
	gFirst := 3 + o.nUsers
	for k, g := range gs {
		ids[k] = o.entries[gFirst+int(g)].id
	}
	slices.Sort(ids)
	return ids
}

func (d *DIT) logBindFailure(name string, req directory.AuthRequest, client directory.ClientInfo, err error) {
	attrs := []any{"dn", name, "org", req.OrgID, "user", req.UserID, "client", client.IP, "tls", client.TLS}
	var de *directory.Error
	if !errors.As(err, &de) {
		d.log.Warn("ldap bind failed", append(attrs, "err", err)...)
		return
	}
	level := slog.LevelDebug // the directory audits failed sign-ins
	switch de.Code {
	case directory.CodeInvalidCredentials, directory.CodePolicyDenied:
	default:
		level = slog.LevelWarn
	}
	d.log.Log(context.Background(), level, "ldap bind failed", append(attrs, "code", de.Code.String(), "reason", de.Reason)...)
}

// clientInfo describes the session for the directory's audit log.
func clientInfo(s *ldapserver.Session) directory.ClientInfo {
	c := directory.ClientInfo{Protocol: "ldap"}
	if s == nil {
		return c
	}
	c.TLS = s.TLS() != nil
	if p := s.PriorIdentity(); p != nil {
		c.App = p.DN
	}
	switch a := s.RemoteAddr().(type) {
	case *net.TCPAddr:
		c.IP = a.IP.String()
	case nil:
	default:
		if host, _, err := net.SplitHostPort(a.String()); err == nil {
			c.IP = host
		} else {
			c.IP = a.String()
		}
	}
	return c
}
