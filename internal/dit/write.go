package dit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Writes over LDAP: Add, Modify, Delete and ModifyDN of users (under
// ou=users) and groups (under ou=groups) by an org's ORG_ADMINs and
// SUPER_ADMINs, when the org has them on (store.LDAPSettings.Writes; off
// by default, as Okta's interface is read-only). dit translates LDAP's
// model into the directory's and back; the directory decides (rights,
// validation, uniqueness, lifecycle) and logs, in one transaction per
// operation. What dirgate keeps single-valued (every profile attribute,
// description) takes one value; what it computes (memberOf, entryUUID,
// status, ...) cannot be written. After a write the snapshot is refreshed
// before the result is sent, so the client's next search sees it.

// Writer is the write side of a Source (*directory.Directory has it); a
// Source without it serves writes as read-only.
type Writer interface {
	CreateUserAs(ctx context.Context, a directory.LDAPActor, in directory.UserInput) (*directory.User, error)
	ModifyUserAs(ctx context.Context, a directory.LDAPActor, userID string, edit func(p *directory.Profile) error) (*directory.User, error)
	DeleteUserAs(ctx context.Context, a directory.LDAPActor, userID string) error
	CreateGroupAs(ctx context.Context, a directory.LDAPActor, in directory.GroupInput, users, groups []string) (*directory.Group, error)
	ModifyGroupAs(ctx context.Context, a directory.LDAPActor, groupID string, edit func(e *directory.GroupEdit) error) (*directory.Group, error)
	DeleteGroupAs(ctx context.Context, a directory.LDAPActor, groupID string) error
}

var (
	_ Writer             = (*directory.Directory)(nil)
	_ ldapserver.Adder   = (*DIT)(nil)
	_ ldapserver.Deleter = (*DIT)(nil)
	_ ldapserver.Renamer = (*DIT)(nil)
)

var (
	cnType          = ldap.LookupAttributeType("cn")
	objectClassType = ldap.LookupAttributeType("objectClass")
	uniqueMemberTyp = ldap.LookupAttributeType("uniqueMember")

	errWriteRights = ldapserver.Fail(ldap.InsufficientAccessRights, "writes over LDAP take an ORG_ADMIN or SUPER_ADMIN of the org")
	errMixedPW     = ldapserver.Fail(ldap.UnwillingToPerform, "change userPassword in a modify of its own")
	errOnlyEntries = ldapserver.Fail(ldap.UnwillingToPerform, "only users (under ou=users) and groups (under ou=groups) are written over LDAP")
)

// writing is a write's context: who writes, in which org, through what.
type writing struct {
	access
	w     Writer
	actor directory.LDAPActor
}

// writeAccess checks that the bound user may write its org over LDAP, as
// far as the snapshot tells (the directory checks again in its
// transaction).
func (d *DIT) writeAccess(s *ldapserver.Session) (writing, error) {
	a, err := d.snap.Load().accessOf(identityOf(s))
	if err != nil {
		return writing{}, err
	}
	w, ok := d.src.(Writer)
	if !ok || !a.org.org.LDAP.Writes {
		return writing{}, errPMWritesOff
	}
	if !a.all {
		return writing{}, errWriteRights
	}
	return writing{access: a, w: w, actor: directory.LDAPActor{OrgID: a.org.org.ID, UserID: a.org.entries[a.self].id}}, nil
}

// target finds the user or group entry dn names in the writer's org.
func (wr *writing) target(dn string) (*entry, error) {
	norm, err := ldap.NormalizeDN(dn)
	if err != nil {
		return nil, ldapserver.Fail(ldap.InvalidDNSyntax, "invalid DN: "+err.Error())
	}
	i, err := wr.org.find(norm)
	if err != nil {
		return nil, err
	}
	e := &wr.org.entries[i]
	if e.kind != kindUser && e.kind != kindGroup {
		if e.kind == kindOU || e.kind == kindBase {
			return nil, ldapserver.Fail(ldap.UnwillingToPerform, "the naming context and its ou=users and ou=groups are fixed; "+errOnlyEntries.(*ldapserver.ResultError).Diagnostic)
		}
		return nil, errOnlyEntries
	}
	return e, nil
}

// wrote ends a write that returned err: a refusal is mapped (writeError);
// a success brings the snapshot up to date, so that the client's next
// operation sees it (a failure to refresh leaves that to Run).
func (d *DIT) wrote(ctx context.Context, err error) error {
	if err != nil {
		return writeError(err)
	}
	if err := d.Refresh(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("dit: refreshing the LDAP snapshot after a write failed; the next poll will", "err", err)
	}
	return nil
}

// Modify implements ldapserver.Modifier: a change of userPassword alone is
// a password change (password.go, allowed to every user for its own);
// anything else is a write.
func (d *DIT) Modify(ctx context.Context, s *ldapserver.Session, req *ldap.ModifyRequest, controls []ldap.Control) error {
	pw := 0
	for _, c := range req.Changes {
		if ldap.LookupAttributeType(c.Attr.Type) == userPasswordType {
			pw++
		}
	}
	if pw > 0 && pw == len(req.Changes) {
		return d.modifyPassword(ctx, s, req, controls)
	}
	wr, err := d.writeAccess(s)
	if err != nil {
		return err
	}
	if pw > 0 {
		return errMixedPW
	}
	e, err := wr.target(req.Object)
	if err != nil {
		return err
	}
	if e.kind == kindUser {
		_, err = wr.w.ModifyUserAs(ctx, wr.actor, e.id, func(p *directory.Profile) error {
			return applyUserChanges(wr.org, p, req.Changes)
		})
	} else {
		var refs [][]member
		if refs, err = wr.memberChanges(req.Changes); err != nil {
			return err
		}
		_, err = wr.w.ModifyGroupAs(ctx, wr.actor, e.id, func(g *directory.GroupEdit) error {
			return applyGroupChanges(wr.org, g, req.Changes, refs)
		})
	}
	return d.wrote(ctx, err)
}

// userAttr is a writable attribute of a user entry: the profile attribute
// it sets.
func userAttr(o *orgView, desc string) (field string, at *ldap.AttributeType, err error) {
	id, ok := o.attrID(desc)
	if !ok {
		return "", nil, unknownAttr(desc, "users")
	}
	at = o.lookupType(desc)
	switch id {
	case idSN:
		return "lastName", at, nil
	case idGivenName:
		return "firstName", at, nil
	case idCN, idDisplayName: // cn shows displayName when it is set
		return "displayName", at, nil
	case idNickName:
		return "nickName", at, nil
	case idMail:
		return "email", at, nil
	case idTitle:
		return "title", at, nil
	case idDepartment:
		return "department", at, nil
	case idO:
		return "organization", at, nil
	case idMobile:
		return "mobilePhone", at, nil
	case idTelephone:
		return "primaryPhone", at, nil
	case idUID:
		return "", nil, ldapserver.Fail(ldap.NotAllowedOnRDN, "uid names the entry: rename it with ModifyDN (ldapmodrdn -r)")
	}
	for _, c := range o.custom {
		if c.id == id {
			return c.name, at, nil
		}
	}
	return "", nil, readOnlyAttr(id, at, "users")
}

// groupAttr is a writable attribute of a group entry: "description" or
// "members".
func groupAttr(o *orgView, desc string) (string, *ldap.AttributeType, error) {
	id, ok := o.attrID(desc)
	if !ok {
		return "", nil, unknownAttr(desc, "groups")
	}
	at := o.lookupType(desc)
	switch id {
	case idDescription:
		return "description", at, nil
	case idUniqueMember:
		return "members", at, nil
	case idCN:
		return "", nil, ldapserver.Fail(ldap.NotAllowedOnRDN, "cn names the group: rename it with ModifyDN (ldapmodrdn -r)")
	}
	return "", nil, readOnlyAttr(id, at, "groups")
}

func unknownAttr(desc, what string) error {
	if strings.IndexByte(desc, ';') >= 0 {
		return ldapserver.Fail(ldap.UndefinedAttributeType, "attribute options are not supported: "+desc)
	}
	if ldap.LookupAttributeType(desc) != nil {
		return ldapserver.Fail(ldap.ObjectClassViolation, "dirgate's "+what+" have no attribute "+desc)
	}
	return ldapserver.Fail(ldap.UndefinedAttributeType, "no attribute type "+desc+" in the org's schema")
}

// servedIDs are the attributes dit's entries carry (servedAttrs; built
// on first use, after attrs.go's init has numbered them).
var servedIDs = sync.OnceValue(func() map[attrID]bool {
	m := map[attrID]bool{}
	for _, id := range servedAttrs() {
		m[id] = true
	}
	return m
})

// readOnlyAttr refuses a write of an attribute in the schema that the
// entries (of what: "users" or "groups") do not have or dirgate computes.
func readOnlyAttr(id attrID, at *ldap.AttributeType, what string) error {
	name := at.Name()
	if !servedIDs()[id] {
		return ldapserver.Fail(ldap.ObjectClassViolation, "dirgate's "+what+" have no attribute "+name)
	}
	switch id {
	case idObjectClass:
		return ldapserver.Fail(ldap.ObjectClassViolation, "the object classes of dirgate's entries are fixed")
	case idMemberOf:
		return ldapserver.Fail(ldap.ConstraintViolation, "memberOf follows the groups' members: change the group's uniqueMember")
	}
	return ldapserver.Fail(ldap.ConstraintViolation, name+" is kept by dirgate and cannot be written")
}

// applySingle applies change c to cur, the value of a single-valued
// attribute ("" when it has none), and returns the new value.
func applySingle(cur string, c ldap.Change, at *ldap.AttributeType) (string, error) {
	name := at.Name()
	vals := c.Attr.Values
	for _, v := range vals {
		if v == "" {
			return "", ldapserver.Fail(ldap.InvalidAttributeSyntax, name+": an empty value is not allowed")
		}
	}
	if len(vals) > 1 {
		return "", ldapserver.Fail(ldap.ConstraintViolation, name+" has one value in dirgate")
	}
	switch c.Op {
	case ldap.ModifyReplace:
		if len(vals) == 0 {
			return "", nil
		}
		return vals[0], nil
	case ldap.ModifyAdd:
		switch {
		case len(vals) == 0:
			return "", ldapserver.Fail(ldap.ProtocolError, "an add of "+name+" must give a value")
		case cur == "":
			return vals[0], nil
		case valuesEqual(at, cur, vals[0]):
			return "", ldapserver.Fail(ldap.AttributeOrValueExists, name+" has that value already")
		}
		return "", ldapserver.Fail(ldap.ConstraintViolation, name+" has a value already and takes one: replace it")
	case ldap.ModifyDelete:
		if cur == "" || len(vals) == 1 && !valuesEqual(at, cur, vals[0]) {
			return "", ldapserver.Fail(ldap.NoSuchAttribute, name+" does not have that value")
		}
		return "", nil
	}
	return "", ldapserver.Fail(ldap.ConstraintViolation, name+" cannot be incremented")
}

// valuesEqual compares two values by the type's equality rule.
func valuesEqual(at *ldap.AttributeType, a, b string) bool {
	if at == nil || at.Equality == nil {
		return a == b
	}
	na, ok1 := at.Equality.Normalize(a)
	nb, ok2 := at.Equality.Normalize(b)
	return ok1 && ok2 && na == nb
}

// applyUserChanges applies an LDAP Modify's changes, in order, to a
// user's profile.
func applyUserChanges(o *orgView, p *directory.Profile, changes []ldap.Change) error {
	for _, c := range changes {
		field, at, err := userAttr(o, c.Attr.Type)
		if err != nil {
			return err
		}
		cur, _ := directory.ProfileValue(p, field)
		if at == cnType {
			if c.Op == ldap.ModifyDelete || c.Op == ldap.ModifyReplace && len(c.Attr.Values) == 0 {
				return ldapserver.Fail(ldap.ObjectClassViolation, "cn is required; it shows displayName (or givenName and sn): change one of those")
			}
			cur = commonName(p)
			if c.Op == ldap.ModifyAdd {
				return ldapserver.Fail(ldap.ConstraintViolation, "cn has a value already and takes one: replace it")
			}
		}
		v, err := applySingle(cur, c, at)
		if err != nil {
			return err
		}
		directory.SetProfileValue(p, field, v)
	}
	return nil
}

// member is what a uniqueMember value names: a user or a group (nested).
type member struct {
	id    string
	group bool
}

// memberChanges resolves the uniqueMember values of a group's changes
// (refs[k] for changes[k]; nil for other attributes). A value that names
// no user or group of the org is refused, but in a delete, where it names
// no member.
func (wr *writing) memberChanges(changes []ldap.Change) ([][]member, error) {
	refs := make([][]member, len(changes))
	for k, c := range changes {
		if ldap.LookupAttributeType(c.Attr.Type) != uniqueMemberTyp {
			continue
		}
		refs[k] = make([]member, 0, len(c.Attr.Values))
		for _, v := range c.Attr.Values {
			m, err := wr.memberOf(v)
			if err != nil {
				if c.Op == ldap.ModifyDelete {
					return nil, ldapserver.Fail(ldap.NoSuchAttribute, "uniqueMember does not have the value "+v)
				}
				return nil, err
			}
			refs[k] = append(refs[k], m)
		}
	}
	return refs, nil
}

// memberOf resolves a uniqueMember value to the user or group it names.
func (wr *writing) memberOf(v string) (member, error) {
	norm, err := ldap.NormalizeDN(v)
	if err != nil {
		return member{}, ldapserver.Fail(ldap.InvalidAttributeSyntax, "uniqueMember "+v+" is not a DN: "+err.Error())
	}
	if s, ok := wr.org.byNorm[norm]; ok {
		switch e := &wr.org.entries[wr.org.pos[s]]; e.kind {
		case kindUser:
			return member{id: e.id}, nil
		case kindGroup:
			return member{id: e.id, group: true}, nil
		}
	}
	return member{}, ldapserver.Fail(ldap.ConstraintViolation, "uniqueMember "+v+" names no user or group of the org")
}

// applyGroupChanges applies an LDAP Modify's changes, in order, to a
// group; refs holds the resolved uniqueMember values (memberChanges).
func applyGroupChanges(o *orgView, g *directory.GroupEdit, changes []ldap.Change, refs [][]member) error {
	for k, c := range changes {
		field, at, err := groupAttr(o, c.Attr.Type)
		if err != nil {
			return err
		}
		if field == "description" {
			if g.Description, err = applySingle(g.Description, c, at); err != nil {
				return err
			}
			continue
		}
		list := func(m member) *[]string {
			if m.group {
				return &g.Groups
			}
			return &g.Members
		}
		switch c.Op {
		case ldap.ModifyReplace:
			g.Members, g.Groups = nil, nil
			for _, m := range refs[k] {
				*list(m) = append(*list(m), m.id)
			}
		case ldap.ModifyAdd:
			if len(refs[k]) == 0 {
				return ldapserver.Fail(ldap.ProtocolError, "an add of uniqueMember must give a value")
			}
			for n, m := range refs[k] {
				l := list(m)
				if slices.Contains(*l, m.id) {
					return ldapserver.Fail(ldap.AttributeOrValueExists, "uniqueMember has the value "+c.Attr.Values[n]+" already")
				}
				*l = append(*l, m.id)
			}
		case ldap.ModifyDelete:
			if len(refs[k]) == 0 {
				if len(g.Members)+len(g.Groups) == 0 {
					return ldapserver.Fail(ldap.NoSuchAttribute, "the group has no uniqueMember")
				}
				g.Members, g.Groups = nil, nil
			}
			for n, m := range refs[k] {
				l := list(m)
				i := slices.Index(*l, m.id)
				if i < 0 {
					return ldapserver.Fail(ldap.NoSuchAttribute, "uniqueMember does not have the value "+c.Attr.Values[n])
				}
				*l = slices.Delete(*l, i, i+1)
			}
		default:
			return ldapserver.Fail(ldap.ConstraintViolation, "uniqueMember cannot be incremented")
		}
	}
	return nil
}

// Add implements ldapserver.Adder: a user (inetOrgPerson, named by uid,
// under ou=users) or a group (groupOfUniqueNames, named by cn, under
// ou=groups).
func (d *DIT) Add(ctx context.Context, s *ldapserver.Session, req *ldap.AddRequest, _ []ldap.Control) error {
	wr, err := d.writeAccess(s)
	if err != nil {
		return err
	}
	dn, err := ldap.ParseDN(req.Entry)
	if err != nil || len(dn) == 0 {
		return ldapserver.Fail(ldap.InvalidDNSyntax, "invalid DN "+req.Entry)
	}
	if _, ok := wr.org.byNorm[dn.Normalize()]; ok {
		return ldapserver.Fail(ldap.EntryAlreadyExists, "the entry already exists")
	}
	o := wr.org
	parent := dn[1:].Normalize()
	rdn := dn[0]
	switch parent {
	case o.entries[o.ous[0]].norm:
		if len(rdn) != 1 || ldap.LookupAttributeType(rdn[0].Type) != uidType {
			return ldapserver.Fail(ldap.NamingViolation, "users are named by uid alone: uid=<login>,"+o.entries[o.ous[0]].dn)
		}
		in, err := userInput(o, rdn[0].Value, req.Attributes)
		if err != nil {
			return err
		}
		_, err = wr.w.CreateUserAs(ctx, wr.actor, in)
		return d.wrote(ctx, err)
	case o.entries[o.ous[1]].norm:
		if len(rdn) != 1 || ldap.LookupAttributeType(rdn[0].Type) != cnType {
			return ldapserver.Fail(ldap.NamingViolation, "groups are named by cn alone: cn=<name>,"+o.entries[o.ous[1]].dn)
		}
		in, users, groups, err := wr.groupInput(rdn[0].Value, req.Attributes)
		if err != nil {
			return err
		}
		_, err = wr.w.CreateGroupAs(ctx, wr.actor, in, users, groups)
		return d.wrote(ctx, err)
	default:
		if _, err := o.find(parent); err != nil {
			return err
		}
		return errOnlyEntries
	}
}

// The object classes an added entry may list (top is implied).
var (
	addUserClasses  = []string{"top", "person", "organizationalPerson", "inetOrgPerson"}
	addGroupClasses = []string{"top", "groupOfUniqueNames"}
)

// checkClasses checks an added entry's objectClass values against what
// dirgate's entries of that kind are.
func checkClasses(vals, allowed []string, structural string) error {
	found := false
	for _, v := range vals {
		i := slices.IndexFunc(allowed, func(c string) bool { return strings.EqualFold(c, v) })
		if i < 0 {
			return ldapserver.Fail(ldap.ObjectClassViolation, "object class "+v+" is not served: entries here are "+strings.Join(allowed, ", "))
		}
		found = found || strings.EqualFold(v, structural)
	}
	if !found {
		return ldapserver.Fail(ldap.ObjectClassViolation, "the entry must be a "+structural)
	}
	return nil
}

// userInput turns an added user entry into the directory's input.
func userInput(o *orgView, login string, attrs []ldap.Attribute) (directory.UserInput, error) {
	in := directory.UserInput{Profile: directory.Profile{Login: login}}
	var classes []string
	cn := ""
	for _, a := range attrs {
		t := ldap.LookupAttributeType(a.Type)
		switch t {
		case objectClassType:
			classes = a.Values
			continue
		case uidType:
			if len(a.Values) != 1 || !valuesEqual(uidType, a.Values[0], login) {
				return in, ldapserver.Fail(ldap.NamingViolation, "uid has one value, the one in the DN")
			}
			continue
		case userPasswordType:
			if len(a.Values) != 1 || a.Values[0] == "" {
				return in, ldapserver.Fail(ldap.ConstraintViolation, "userPassword has one value")
			}
			if v := a.Values[0]; looksHashed([]byte(v)) {
				in.PasswordHash = v
			} else {
				in.Password = []byte(v)
			}
			continue
		case cnType:
			if len(a.Values) != 1 || a.Values[0] == "" {
				return in, ldapserver.Fail(ldap.ConstraintViolation, "cn has one value in dirgate")
			}
			cn = a.Values[0]
			continue
		}
		field, at, err := userAttr(o, a.Type)
		if err != nil {
			return in, err
		}
		v, err := applySingle("", ldap.Change{Op: ldap.ModifyAdd, Attr: a}, at)
		if err != nil {
			return in, err
		}
		if cur, _ := directory.ProfileValue(&in.Profile, field); cur != "" {
			return in, ldapserver.Fail(ldap.ConstraintViolation, at.Name()+" is given twice")
		}
		directory.SetProfileValue(&in.Profile, field, v)
	}
	if err := checkClasses(classes, addUserClasses, "inetOrgPerson"); err != nil {
		return in, err
	}
	// cn shows displayName, or givenName and sn: keep a cn that differs.
	if cn != "" && in.Profile.DisplayName == "" && !valuesEqual(cnType, cn, commonName(&in.Profile)) {
		in.Profile.DisplayName = cn
	}
	return in, nil
}

// groupInput turns an added group entry into the directory's input, its
// users' ids and the ids of the groups in it.
func (wr *writing) groupInput(name string, attrs []ldap.Attribute) (in directory.GroupInput, users, groups []string, err error) {
	in = directory.GroupInput{Name: name}
	var classes []string
	for _, a := range attrs {
		switch ldap.LookupAttributeType(a.Type) {
		case objectClassType:
			classes = a.Values
			continue
		case cnType:
			if len(a.Values) != 1 || !valuesEqual(cnType, a.Values[0], name) {
				return in, nil, nil, ldapserver.Fail(ldap.NamingViolation, "cn has one value, the one in the DN")
			}
			continue
		case uniqueMemberTyp:
			for _, v := range a.Values {
				m, err := wr.memberOf(v)
				if err != nil {
					return in, nil, nil, err
				}
				if m.group {
					groups = append(groups, m.id)
				} else {
					users = append(users, m.id)
				}
			}
			continue
		}
		field, at, err := groupAttr(wr.org, a.Type)
		if err != nil {
			return in, nil, nil, err
		}
		if field == "description" {
			if in.Description, err = applySingle(in.Description, ldap.Change{Op: ldap.ModifyAdd, Attr: a}, at); err != nil {
				return in, nil, nil, err
			}
		}
	}
	if err := checkClasses(classes, addGroupClasses, "groupOfUniqueNames"); err != nil {
		return in, nil, nil, err
	}
	return in, users, groups, nil
}

// Delete implements ldapserver.Deleter: a user (deactivated if need be
// and deleted: its groups lose it) or a group (its members stay).
func (d *DIT) Delete(ctx context.Context, s *ldapserver.Session, req *ldap.DeleteRequest, _ []ldap.Control) error {
	wr, err := d.writeAccess(s)
	if err != nil {
		return err
	}
	e, err := wr.target(req.DN)
	if err != nil {
		if re, ok := err.(*ldapserver.ResultError); ok && re.Code == ldap.UnwillingToPerform {
			return ldapserver.Fail(ldap.NotAllowedOnNonLeaf, re.Diagnostic)
		}
		return err
	}
	if e.kind == kindUser {
		err = wr.w.DeleteUserAs(ctx, wr.actor, e.id)
	} else {
		err = wr.w.DeleteGroupAs(ctx, wr.actor, e.id)
	}
	return d.wrote(ctx, err)
}

// ModifyDN implements ldapserver.Renamer: renaming a user (its login) or
// a group (its name) in place. Entries do not move, and since uid and cn
// have one value in dirgate, the old one goes (deleteoldrdn).
func (d *DIT) ModifyDN(ctx context.Context, s *ldapserver.Session, req *ldap.ModifyDNRequest, _ []ldap.Control) error {
	wr, err := d.writeAccess(s)
	if err != nil {
		return err
	}
	e, err := wr.target(req.Entry)
	if err != nil {
		return err
	}
	if req.HasNewSuperior {
		sup, err := ldap.NormalizeDN(req.NewSuperior)
		if err != nil {
			return ldapserver.Fail(ldap.InvalidDNSyntax, "invalid newSuperior: "+err.Error())
		}
		if sup != e.norm[nextSeparator(e.norm)+1:] {
			return ldapserver.Fail(ldap.UnwillingToPerform, "entries do not move: users stay under ou=users, groups under ou=groups")
		}
	}
	rdn, err := ldap.ParseDN(req.NewRDN)
	want := uidType
	if e.kind == kindGroup {
		want = cnType
	}
	if err != nil || len(rdn) != 1 || len(rdn[0]) != 1 || ldap.LookupAttributeType(rdn[0][0].Type) != want {
		return ldapserver.Fail(ldap.NamingViolation, "the new RDN must be one "+want.Name()+"=<value>")
	}
	v := rdn[0][0].Value
	if !req.DeleteOldRDN {
		return ldapserver.Fail(ldap.UnwillingToPerform, want.Name()+" has one value in dirgate: the old one cannot stay (ldapmodrdn -r)")
	}
	if e.kind == kindUser {
		_, err = wr.w.ModifyUserAs(ctx, wr.actor, e.id, func(p *directory.Profile) error {
			p.Login = v
			return nil
		})
	} else {
		_, err = wr.w.ModifyGroupAs(ctx, wr.actor, e.id, func(g *directory.GroupEdit) error {
			g.Name = v
			return nil
		})
	}
	return d.wrote(ctx, err)
}

// writeError maps a refused write: an LDAP result dit decided inside the
// directory's transaction as it is; the directory's own refusals with
// their messages (they name the rule, never a secret).
func writeError(err error) error {
	var re *ldapserver.ResultError
	if errors.As(err, &re) {
		return re
	}
	var de *directory.Error
	if !errors.As(err, &de) {
		return ldapError(err)
	}
	switch de.Code {
	case directory.CodeInvalid: // validation, the password policy
		return ldapserver.Fail(ldap.ConstraintViolation, de.Message)
	case directory.CodeConflict:
		return ldapserver.Fail(ldap.EntryAlreadyExists, de.Message)
	case directory.CodeForbidden:
		return ldapserver.Fail(ldap.InsufficientAccessRights, de.Message)
	case directory.CodeNotFound:
		return ldapserver.Fail(ldap.NoSuchObject, de.Message)
	case directory.CodeIllegalTransition:
		return ldapserver.Fail(ldap.UnwillingToPerform, de.Message)
	}
	return ldapError(err)
}
