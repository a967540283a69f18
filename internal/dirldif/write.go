package dirldif

import (
	"io"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldif"
	"github.com/dirgate/dirgate/internal/store"
)

// UserDN is the DN of a user entry of org: uid=<login>,ou=users,<base>.
func UserDN(o *directory.Org, login string) string {
	return "uid=" + ldap.EscapeDNValue(login) + ",ou=users," + directory.BaseDN(o)
}

// GroupDN is the DN of a group entry of org: cn=<name>,ou=groups,<base>.
func GroupDN(o *directory.Org, name string) string {
	return "cn=" + ldap.EscapeDNValue(name) + ",ou=groups," + directory.BaseDN(o)
}

// Write writes od as LDIF: the naming context, ou=users and ou=groups (as
// slapadd needs them), every user with its userPassword hash, then every
// group with its uniqueMember values. Read takes it back.
func Write(w io.Writer, od *directory.OrgData) error {
	lw := ldif.NewWriter(w)
	for _, rec := range Records(od) {
		if err := lw.WriteRecord(rec); err != nil {
			return err
		}
	}
	return lw.Flush()
}

// Records returns the entries Write writes, in order.
func Records(od *directory.OrgData) []*ldif.Record {
	o := od.Org
	base := directory.BaseDN(o)
	out := []*ldif.Record{
		entry(base, "objectClass", "top", "dcObject", "organization"),
		entry("ou=users,"+base, "objectClass", "top", "organizationalUnit"),
		entry("ou=groups,"+base, "objectClass", "top", "organizationalUnit"),
	}
	add(out[0], "dc", o.Name)
	add(out[0], "o", o.Name)
	add(out[1], "ou", "users")
	add(out[2], "ou", "groups")
	dnByID := make(map[string]string, len(od.Users))
	for _, u := range od.Users {
		r := UserRecord(o, u)
		dnByID[u.ID] = r.DN
		out = append(out, r)
	}
	members := map[string][]string{}
	for _, m := range od.Memberships {
		if dn, ok := dnByID[m.UserID]; ok {
			members[m.GroupID] = append(members[m.GroupID], dn)
		}
	}
	for _, g := range od.Groups {
		r := entry(GroupDN(o, g.Name), "objectClass", "top", "groupOfUniqueNames")
		add(r, "cn", g.Name)
		add(r, "description", g.Description)
		add(r, "uniqueMember", members[g.ID]...)
		add(r, "uniqueIdentifier", g.ID)
		out = append(out, r)
	}
	return out
}

// UserRecord is one user's entry. person requires cn and sn: cn is the
// display name, else "first last", else the login; sn is the last name,
// else the login (Read takes an sn equal to the login for no last name).
func UserRecord(o *directory.Org, u *directory.User) *ldif.Record {
	p := u.Profile
	cn := p.DisplayName
	if cn == "" {
		cn = strings.TrimSpace(p.FirstName + " " + p.LastName)
	}
	if cn == "" {
		cn = p.Login
	}
	sn := p.LastName
	if sn == "" {
		sn = p.Login
	}
	r := entry(UserDN(o, p.Login), "objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	for _, a := range []struct{ typ, v string }{
		{"uid", p.Login}, {"cn", cn}, {"sn", sn}, {"givenName", p.FirstName}, {"mail", p.Email},
		{"displayName", p.DisplayName}, {"nickName", p.NickName}, {"title", p.Title},
		{"departmentNumber", p.Department}, {"o", p.Organization}, {"telephoneNumber", p.PrimaryPhone},
		{"mobile", p.MobilePhone}, {"organizationalStatus", u.Status},
	} {
		add(r, a.typ, a.v)
	}
	for _, name := range o.CustomAttributes {
		if v, ok := p.Custom[name]; ok {
			add(r, name, v)
		}
	}
	add(r, "userPassword", u.PasswordHash)
	add(r, AttrRole, u.Roles...)
	if u.Type == store.TypeServiceAccount {
		add(r, AttrUserType, u.Type)
	}
	add(r, "uniqueIdentifier", u.ID)
	return r
}

func entry(dn, typ string, values ...string) *ldif.Record {
	r := &ldif.Record{DN: dn}
	add(r, typ, values...)
	return r
}

// add appends an attribute with the non-empty values among values.
func add(r *ldif.Record, typ string, values ...string) {
	var vs []string
	for _, v := range values {
		if v != "" {
			vs = append(vs, v)
		}
	}
	if len(vs) > 0 {
		r.Attrs = append(r.Attrs, ldif.Attr{Type: typ, Values: vs})
	}
}
