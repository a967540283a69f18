package dataset

import (
	"bufio"
	"io"
)

// LDIFOptions choose what WriteLDIF adds for one server or the other. The
// zero value writes LDIF that both dirgate import and slapadd accept.
type LDIFOptions struct {
	// MemberOf adds memberOf lines to users. slapadd does not run the
	// memberof overlay, so slapd's LDIF must carry them; dirgate computes
	// memberOf itself (its import ignores the lines).
	MemberOf bool
	// Service writes the service account entry.
	Service bool
	// Version writes "version: 1" first.
	Version bool
	// DirgateService adds dirgate's own dirgateRole: READ_ONLY_ADMIN and
	// dirgateUserType: service_account to the service entry (with Service).
	// dirgate lets a bound user see only its own entry unless it holds an
	// admin role, so without them its searches find nothing; slapd's
	// schema does not know these attributes, so leave it off for slapadd.
	DirgateService bool
}

// WriteLDIF writes the set as LDIF content records: the base entry,
// ou=users, ou=groups, the service account (with o.Service), the users and
// the groups. Values are plain SAFE-STRINGs ({SSHA} hashes included:
// RFC 2849 only forbids a leading space, ':' or '<'), and lines are not
// folded; both dirgate import and slapadd read that.
func (s *Set) WriteLDIF(w io.Writer, o LDIFOptions) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	b := make([]byte, 0, 8<<10)
	line := func(typ, v string) {
		b = append(b, typ...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, '\n')
	}
	flush := func() error {
		_, err := bw.Write(b)
		b = b[:0]
		return err
	}

	if o.Version {
		b = append(b, "version: 1\n\n"...)
	}
	line("dn", s.base)
	line("objectClass", "top")
	line("objectClass", "dcObject")
	line("objectClass", "organization")
	line("dc", s.dc)
	line("o", s.dc)
	b = append(b, '\n')
	for _, ou := range []string{"users", "groups"} {
		line("dn", "ou="+ou+","+s.base)
		line("objectClass", "top")
		line("objectClass", "organizationalUnit")
		line("ou", ou)
		b = append(b, '\n')
	}
	if o.Service {
		line("dn", s.ServiceDN())
		personClasses(line)
		line("uid", ServiceLogin)
		line("cn", s.ServiceCN())
		line("sn", "Service")
		line("givenName", "Bench")
		line("userPassword", s.ServiceHash())
		if o.DirgateService {
			line("dirgateRole", "READ_ONLY_ADMIN")
			line("dirgateUserType", "service_account")
		}
		b = append(b, '\n')
	}
	if err := flush(); err != nil {
		return err
	}

	var pw []byte
	for i := range s.n {
		b = append(b, "dn: uid="...)
		b = appendUID(b, i)
		b = append(b, ",ou=users,"...)
		b = append(b, s.base...)
		b = append(b, '\n')
		personClasses(line)
		b = appendUID(append(b, "uid: "...), i)
		b = appendPadded(append(b, "\ncn: User "...), i, 0)
		b = appendPadded(append(b, "\nsn: "...), i, 0)
		b = append(b, "\ngivenName: User\nmail: "...)
		b = appendUID(b, i)
		b = append(b, "@example.com\nuserPassword: "...)
		pw = s.appendPassword(pw[:0], i)
		b = appendSSHA(b, pw, s.salt[i])
		b = append(b, '\n')
		if o.MemberOf {
			for _, g := range s.GroupsOf(i) {
				line("memberOf", s.groupDNs[g])
			}
		}
		b = append(b, '\n')
		if len(b) >= 6<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	for g := range s.groupDNs {
		line("dn", s.groupDNs[g])
		line("objectClass", "top")
		line("objectClass", "groupOfUniqueNames")
		line("cn", groupCN(g))
		for _, u := range s.Members(g) {
			b = append(b, "uniqueMember: uid="...)
			b = appendUID(b, u)
			b = append(b, ",ou=users,"...)
			b = append(b, s.base...)
			b = append(b, '\n')
		}
		b = append(b, '\n')
		if len(b) >= 6<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return bw.Flush()
}

func personClasses(line func(typ, v string)) {
	line("objectClass", "top")
	line("objectClass", "person")
	line("objectClass", "organizationalPerson")
	line("objectClass", "inetOrgPerson")
}
