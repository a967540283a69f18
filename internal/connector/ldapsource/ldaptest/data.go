package ldaptest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Flavor is the kind of source directory.
type Flavor int

const (
	// OpenLDAP is a classic OpenLDAP tree under dc=source,dc=test: users
	// are inetOrgPerson entries named by uid under ou=people, groups are
	// groupOfNames (member), plus three posixGroup (memberUid) and two
	// groupOfUniqueNames (uniqueMember) groups under ou=groups.
	OpenLDAP Flavor = iota
	// AD is an Active-Directory-like tree under dc=corp,dc=example: users
	// are objectClass user entries named by cn under ou=Staff with
	// sAMAccountName, userPrincipalName, objectGUID, whenChanged,
	// userAccountControl; groups are objectClass group (member) under
	// ou=Groups. The attribute types and classes come from a small schema
	// of the fixture's own (see adSchema). DNs are written with lower-case
	// attribute types (cn=, ou=, dc=), as slapd returns entry DNs, rather
	// than AD's CN=, OU=, DC=, so that every DN string is the same for the
	// same entry.
	AD
)

func (f Flavor) String() string {
	switch f {
	case OpenLDAP:
		return "OpenLDAP"
	case AD:
		return "AD"
	}
	return "Flavor(" + strconv.Itoa(int(f)) + ")"
}

// GroupKind says how a group names its members.
type GroupKind int

const (
	// GroupOfNames is groupOfNames (OpenLDAP) or group (AD): member holds
	// the members' DNs, and the memberof overlay reflects it in the users'
	// memberOf.
	GroupOfNames GroupKind = iota
	// GroupOfUniqueNames holds the members' DNs in uniqueMember (OpenLDAP
	// flavour only; not reflected in memberOf).
	GroupOfUniqueNames
	// PosixGroup holds the members' logins in memberUid, which matches
	// case-sensitively (caseExactIA5Match) (OpenLDAP flavour only; not
	// reflected in memberOf).
	PosixGroup
)

func (k GroupKind) String() string {
	switch k {
	case GroupOfNames:
		return "groupOfNames"
	case GroupOfUniqueNames:
		return "groupOfUniqueNames"
	case PosixGroup:
		return "posixGroup"
	}
	return "GroupKind(" + strconv.Itoa(int(k)) + ")"
}

// User is a user entry as loaded.
type User struct {
	DN string
	// Login is uid (OpenLDAP) or sAMAccountName (AD) as stored; one user
	// (index 2) has a mixed-case login.
	Login string
	// Email is mail. With Options.DuplicateEmails some users share it.
	Email string
	// UPN is userPrincipalName, Login@corp.example (AD only).
	UPN string
	// CN is cn. In the AD flavour it is the RDN and unique (a repeated
	// name gets " (2)", " (3)" ...; one has a comma); in the OpenLDAP
	// flavour it is "GivenName Surname" and may repeat.
	CN                 string
	GivenName, Surname string // givenName, sn
	DisplayName        string // displayName
	Title              string // title
	Department         string // departmentNumber (OpenLDAP) or department (AD)
	Phone              string // telephoneNumber
	EmployeeNumber     string // employeeNumber
	Manager            string // manager (a user's DN), "" for none
	EntryUUID          string // entryUUID, also for AD
	ObjectGUID         []byte // objectGUID, AD only: EntryUUID in Microsoft's byte order
	UserAccountControl int    // AD only: 512, or 514 when disabled
	Disabled           bool   // AD only: userAccountControl has ACCOUNTDISABLE (2)
	Modified           time.Time
	MemberOf           []string // DNs of its GroupOfNames groups (memberOf), in group order
}

// Group is a group entry as loaded.
type Group struct {
	DN string
	// Name is cn (and sAMAccountName in AD).
	Name        string
	Description string
	Kind        GroupKind
	// Members are the members' DNs and MemberLogins their logins, in user
	// order. In the OpenLDAP flavour a GroupOfNames or GroupOfUniqueNames
	// group with no members (possible when Users is small) stores one
	// empty DN as member, as its object class requires one; it is not
	// listed here. An empty AD group has no member at all.
	Members      []string
	MemberLogins []string
	GIDNumber    int    // PosixGroup only
	EntryUUID    string // entryUUID
	ObjectGUID   []byte // AD only
	Modified     time.Time
}

// layout is where a flavour puts things.
type layout struct {
	base, usersBase, groupsBase, servicesBase string
	serviceDN, rootDN                         string
	loginAttr, userOC, groupOC                string
	mailDomain                                string
}

func layoutOf(f Flavor) layout {
	if f == AD {
		return layout{
			base:         "dc=corp,dc=example",
			usersBase:    "ou=Staff,dc=corp,dc=example",
			groupsBase:   "ou=Groups,dc=corp,dc=example",
			servicesBase: "ou=Service Accounts,dc=corp,dc=example",
			serviceDN:    "cn=svc-dirgate,ou=Service Accounts,dc=corp,dc=example",
			rootDN:       "cn=admin,dc=corp,dc=example",
			loginAttr:    "sAMAccountName",
			userOC:       "user",
			groupOC:      "group",
			mailDomain:   "corp.example",
		}
	}
	return layout{
		base:         "dc=source,dc=test",
		usersBase:    "ou=people,dc=source,dc=test",
		groupsBase:   "ou=groups,dc=source,dc=test",
		servicesBase: "ou=services,dc=source,dc=test",
		serviceDN:    "cn=dirgate-sync,ou=services,dc=source,dc=test",
		rootDN:       "cn=admin,dc=source,dc=test",
		loginAttr:    "uid",
		userOC:       "inetOrgPerson",
		groupOC:      "groupOfNames",
		mailDomain:   "source.test",
	}
}

// Passwords. Users' passwords derive from the login (see UserPassword).
const (
	servicePassword = "svc-Sync-Secret-1"
	rootPassword    = "root-Admin-Secret-1"
)

func userPassword(login string) string { return "Pw-" + strings.ToLower(login) + "!1" }

var givenNames = []string{
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
	"David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
	"Paul", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Kenneth", "Donna", "Joshua", "Michelle",
	"Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie",
}

var surnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
}

var titles = []string{
	"Engineer", "Senior Engineer", "Staff Engineer", "Engineering Manager", "Account Executive",
	"Sales Manager", "Marketing Specialist", "Financial Analyst", "Support Specialist", "HR Partner",
	"Counsel", "Site Reliability Engineer", "Security Analyst", "Product Designer", "Product Manager",
	"Research Scientist", "IT Administrator", "Data Analyst", "QA Engineer", "Director",
}

var departments = []string{
	"Engineering", "Sales", "Marketing", "Finance", "Support", "Human Resources", "Legal",
	"Operations", "Security", "Design", "Product", "Research", "IT", "Data", "Quality",
}

var groupWords = []string{
	"staff", "engineering", "sales", "marketing", "finance", "support", "hr", "legal", "operations", "security",
	"design", "product", "research", "it", "facilities", "procurement", "qa", "data", "mobile", "platform",
}

// special users come first, to have non-ASCII names, a mixed-case login,
// an apostrophe and (in AD) a comma in the RDN whatever Users is.
var specials = []struct {
	given, sn string
	login     [2]string // OpenLDAP, AD
	adCN      string    // "" for "given sn"
}{
	{"Zoë", "Müller", [2]string{"zoe.mueller", "zmueller"}, ""},
	{"Émile", "Durand", [2]string{"emile.durand", "edurand"}, ""},
	{"Anouk", "DeVries", [2]string{"Anouk.DeVries", "ADeVries"}, ""},
	{"Seán", "O'Brien", [2]string{"sean.obrien", "sobrien"}, "O'Brien, Seán"},
	{"太郎", "山田", [2]string{"taro.yamada", "tyamada"}, ""},
}

// Extra groups of the OpenLDAP flavour: members are the users i with
// i%mod == rem.
var extraGroups = []struct {
	name string
	kind GroupKind
	mod  int
	rem  int
}{
	{"posix-developers", PosixGroup, 50, 0},
	{"posix-operators", PosixGroup, 100, 1},
	{"posix-admins", PosixGroup, 150, 2}, // has the mixed-case login
	{"auditors", GroupOfUniqueNames, 200, 3},
	{"contractors", GroupOfUniqueNames, 40, 4},
}

var epoch = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

var uuidSpace = uuid.MustParse("6f1d6c1e-3b5a-4c4e-9a51-0d1a7e2c9b10")

func stableUUID(f Flavor, kind string, i int) uuid.UUID {
	return uuid.NewSHA1(uuidSpace, fmt.Appendf(nil, "%s/%s/%d", f, kind, i))
}

// guidBytes is u as AD stores objectGUID: the first three fields
// little-endian, so that the GUID's usual text form equals u's.
func guidBytes(u uuid.UUID) []byte {
	b := make([]byte, 16)
	copy(b, u[:])
	b[0], b[1], b[2], b[3] = u[3], u[2], u[1], u[0]
	b[4], b[5] = u[5], u[4]
	b[6], b[7] = u[7], u[6]
	return b
}

// data is a generated directory.
type data struct {
	layout
	flavor Flavor
	users  []User
	groups []Group
}

// generate builds the directory o describes; o has its defaults.
func generate(o Options) *data {
	l := layoutOf(o.Flavor)
	d := &data{layout: l, flavor: o.Flavor}
	ad := o.Flavor == AD
	n := o.Users

	seenLogin := map[string]int{} // generated logins (lower case) so far
	seenCN := map[string]int{}    // AD: CNs so far
	d.users = make([]User, n)
	for i := range d.users {
		u := &d.users[i]
		var login, cn string
		if i < len(specials) {
			s := specials[i]
			u.GivenName, u.Surname, cn = s.given, s.sn, s.adCN
			login = s.login[0]
			if ad {
				login = s.login[1]
			}
		} else {
			u.GivenName = givenNames[i%len(givenNames)]
			u.Surname = surnames[(i/len(givenNames))%len(surnames)]
			base := strings.ToLower(u.GivenName + "." + u.Surname)
			if ad {
				base = strings.ToLower(u.GivenName[:1] + u.Surname)
			}
			login = base
			if k := seenLogin[base]; k > 0 {
				login += strconv.Itoa(k + 1)
			}
			seenLogin[base]++
		}
		u.Login = login
		u.DisplayName = u.GivenName + " " + u.Surname
		if cn == "" {
			cn = u.DisplayName
		} else {
			u.DisplayName = cn
		}
		if ad {
			base := cn
			if k := seenCN[strings.ToLower(base)]; k > 0 {
				cn = fmt.Sprintf("%s (%d)", base, k+1)
			}
			seenCN[strings.ToLower(base)]++
		}
		u.CN = cn
		if ad {
			u.DN = "cn=" + escapeRDNValue(cn) + "," + l.usersBase
			u.UPN = login + "@" + l.mailDomain
			u.UserAccountControl = 512
		} else {
			u.DN = "uid=" + escapeRDNValue(login) + "," + l.usersBase
		}
		u.Email = login + "@" + l.mailDomain
		u.Title = titles[(i*7)%len(titles)]
		u.Department = departments[i%len(departments)]
		u.Phone = fmt.Sprintf("+1 555 %03d %04d", (i/10000)%1000, i%10000)
		u.EmployeeNumber = fmt.Sprintf("E%06d", i+1)
		id := stableUUID(o.Flavor, "user", i)
		u.EntryUUID = id.String()
		if ad {
			u.ObjectGUID = guidBytes(id)
		}
		u.Modified = epoch.Add(time.Duration(i) * 17 * time.Second)
	}
	// Teams of 25 report to their first member, who reports to user 0.
	for i := range d.users {
		u := &d.users[i]
		switch {
		case i%25 != 0:
			u.Manager = d.users[i-i%25].DN
		case i != 0:
			u.Manager = d.users[0].DN
		}
	}
	// The last DuplicateEmails users carry the first ones' mail.
	for j := 0; j < o.DuplicateEmails; j++ {
		d.users[n-1-j].Email = d.users[j].Email
	}
	if ad && o.DisabledUsers > 0 {
		step := n / o.DisabledUsers
		for j := 0; j < o.DisabledUsers; j++ {
			u := &d.users[j*n/o.DisabledUsers+step/2]
			u.Disabled, u.UserAccountControl = true, 514
		}
	}

	// Groups: user i is in 1 + i%3 of them, spread by a third of G.
	g := o.Groups
	d.groups = make([]Group, 0, g+len(extraGroups))
	for k := 0; k < g; k++ {
		name := groupWords[k%len(groupWords)]
		if ad {
			name = strings.ToUpper(name[:1]) + name[1:]
			if len(name) <= 3 {
				name = strings.ToUpper(name)
			}
			if k >= len(groupWords) {
				name += " " + strconv.Itoa(k/len(groupWords)+1)
			}
		} else if k >= len(groupWords) {
			name += "-" + strconv.Itoa(k/len(groupWords)+1)
		}
		d.groups = append(d.groups, Group{Name: name, Description: "Members of " + name, Kind: GroupOfNames})
	}
	if !ad {
		for _, e := range extraGroups {
			d.groups = append(d.groups, Group{Name: e.name, Description: "Members of " + e.name, Kind: e.kind})
		}
	}
	for k := range d.groups {
		gr := &d.groups[k]
		if ad {
			gr.DN = "cn=" + escapeRDNValue(gr.Name) + "," + l.groupsBase
		} else {
			gr.DN = "cn=" + escapeRDNValue(gr.Name) + "," + l.groupsBase
		}
		id := stableUUID(o.Flavor, "group", k)
		gr.EntryUUID = id.String()
		if ad {
			gr.ObjectGUID = guidBytes(id)
		}
		gr.Modified = epoch.Add(72*time.Hour + time.Duration(k)*time.Minute)
		if gr.Kind == PosixGroup {
			gr.GIDNumber = 5000 + k - g
		}
	}
	// User i is in 1 + i%3 of the first g groups, a third of g apart;
	// Members are in user order, memberOf in group order.
	stride := max(1, g/3)
	for i := range d.users {
		u := &d.users[i]
		ks := make([]int, 0, 3)
		for j := 0; j < min(1+i%3, g); j++ {
			ks = append(ks, (i+j*stride)%g)
		}
		slices.Sort(ks)
		for _, k := range ks {
			gr := &d.groups[k]
			u.MemberOf = append(u.MemberOf, gr.DN)
			gr.Members = append(gr.Members, u.DN)
			gr.MemberLogins = append(gr.MemberLogins, u.Login)
		}
	}
	if !ad {
		for x, e := range extraGroups {
			gr := &d.groups[g+x]
			for i := e.rem; i < n; i += e.mod {
				gr.Members = append(gr.Members, d.users[i].DN)
				gr.MemberLogins = append(gr.MemberLogins, d.users[i].Login)
			}
		}
	}
	return d
}

// escapeRDNValue escapes an attribute value for a string DN (RFC 4514)
// the way slapd writes entry DNs: the special characters as \XX hex
// (O'Brien\2C Seán). DN-valued attributes (member, memberOf, manager) are
// written in the same form, so every DN string in the directory and in
// Server.Users and Server.Groups is the same for the same entry.
func escapeRDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0 || c == 0,
			i == 0 && (c == ' ' || c == '#'),
			i == len(v)-1 && c == ' ':
			fmt.Fprintf(&b, `\%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ssha is RFC 2307's {SSHA} with a salt derived from the password, so the
// LDIF is the same on every run.
func ssha(pw string) string {
	s := sha256.Sum256([]byte("ldaptest salt " + pw))
	salt := s[:8]
	h := sha1.Sum(append([]byte(pw), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// ldifWriter writes LDIF records, base64-encoding values that are not
// RFC 2849 SAFE-STRINGs.
type ldifWriter struct{ b strings.Builder }

func (w *ldifWriter) attr(name, value string) {
	w.b.WriteString(name)
	if safeString(value) {
		w.b.WriteString(": ")
		w.b.WriteString(value)
	} else {
		w.b.WriteString(":: ")
		w.b.WriteString(base64.StdEncoding.EncodeToString([]byte(value)))
	}
	w.b.WriteByte('\n')
}

func (w *ldifWriter) attrs(name string, values ...string) {
	for _, v := range values {
		w.attr(name, v)
	}
}

func (w *ldifWriter) end() { w.b.WriteByte('\n') }

func safeString(v string) bool {
	if v == "" {
		return true
	}
	if c := v[0]; c == ' ' || c == ':' || c == '<' {
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}

// operational writes the timestamps and entryUUID slapadd would otherwise
// set to the time of loading: fixed ones keep the data deterministic and
// in the past, so a later modification always raises modifyTimestamp.
func (w *ldifWriter) operational(d *data, id string, t time.Time, seq int) {
	ts := t.UTC().Format("20060102150405Z")
	w.attr("entryUUID", id)
	w.attr("creatorsName", d.rootDN)
	w.attr("createTimestamp", ts)
	w.attr("modifiersName", d.rootDN)
	w.attr("modifyTimestamp", ts)
	w.attr("entryCSN", fmt.Sprintf("%s.%06dZ#000000#000#000000", t.UTC().Format("20060102150405"), seq%1000000))
}

// ldif is the whole directory for slapadd, memberOf included (slapadd runs
// no overlays).
func (d *data) ldif() string {
	w := &ldifWriter{}
	w.b.Grow(len(d.users)*700 + len(d.groups)*300)
	ad := d.flavor == AD
	seq := 0
	next := func() int { seq++; return seq }
	top := epoch.Add(-24 * time.Hour)
	topID := func(k int) string { return stableUUID(d.flavor, "container", k).String() }

	w.attr("dn", d.base)
	w.attrs("objectClass", "top", "dcObject", "organization")
	dc, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(d.base, "dc="), "DC="), ",")
	w.attr("dc", dc)
	w.attr("o", dc)
	w.operational(d, topID(0), top, next())
	w.end()
	for k, ou := range []string{d.usersBase, d.groupsBase, d.servicesBase} {
		w.attr("dn", ou)
		w.attrs("objectClass", "top", "organizationalUnit")
		name, _, _ := strings.Cut(ou[3:], ",")
		w.attr("ou", name)
		w.operational(d, topID(k+1), top, next())
		w.end()
	}

	// The service account, outside the users' base.
	w.attr("dn", d.serviceDN)
	if ad {
		w.attrs("objectClass", "top", "person", "organizationalPerson", "user")
		w.attr("cn", "svc-dirgate")
		w.attr("sn", "svc-dirgate")
		w.attr("sAMAccountName", "svc-dirgate")
		w.attr("userPrincipalName", "svc-dirgate@"+d.mailDomain)
		w.attr("userAccountControl", "66048")
		w.attr("objectGUID", string(guidBytes(stableUUID(d.flavor, "service", 0))))
		w.attr("whenChanged", top.Format("20060102150405.0Z"))
		w.attr("whenCreated", top.Format("20060102150405.0Z"))
	} else {
		w.attrs("objectClass", "top", "organizationalRole", "simpleSecurityObject")
		w.attr("cn", "dirgate-sync")
		w.attr("description", "dirgate's read-only sync account")
	}
	w.attr("userPassword", ssha(servicePassword))
	w.operational(d, stableUUID(d.flavor, "service", 0).String(), top, next())
	w.end()

	for i := range d.users {
		u := &d.users[i]
		w.attr("dn", u.DN)
		if ad {
			w.attrs("objectClass", "top", "person", "organizationalPerson", "user")
		} else {
			w.attrs("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
			w.attr("uid", u.Login)
		}
		w.attr("cn", u.CN)
		w.attr("sn", u.Surname)
		w.attr("givenName", u.GivenName)
		w.attr("displayName", u.DisplayName)
		w.attr("mail", u.Email)
		w.attr("title", u.Title)
		w.attr("telephoneNumber", u.Phone)
		w.attr("employeeNumber", u.EmployeeNumber)
		if u.Manager != "" {
			w.attr("manager", u.Manager)
		}
		if ad {
			w.attr("department", u.Department)
			w.attr("sAMAccountName", u.Login)
			w.attr("userPrincipalName", u.UPN)
			w.attr("userAccountControl", strconv.Itoa(u.UserAccountControl))
			w.attr("objectGUID", string(u.ObjectGUID))
			w.attr("whenChanged", u.Modified.UTC().Format("20060102150405.0Z"))
			w.attr("whenCreated", u.Modified.UTC().Format("20060102150405.0Z"))
		} else {
			w.attr("departmentNumber", u.Department)
		}
		w.attr("userPassword", ssha(userPassword(u.Login)))
		w.attrs("memberOf", u.MemberOf...)
		w.operational(d, u.EntryUUID, u.Modified, next())
		w.end()
	}

	for k := range d.groups {
		gr := &d.groups[k]
		w.attr("dn", gr.DN)
		switch {
		case ad:
			w.attrs("objectClass", "top", "group")
			w.attr("sAMAccountName", gr.Name)
			w.attr("objectGUID", string(gr.ObjectGUID))
			w.attr("whenChanged", gr.Modified.UTC().Format("20060102150405.0Z"))
			w.attr("whenCreated", gr.Modified.UTC().Format("20060102150405.0Z"))
		case gr.Kind == GroupOfNames:
			w.attrs("objectClass", "top", "groupOfNames")
		case gr.Kind == GroupOfUniqueNames:
			w.attrs("objectClass", "top", "groupOfUniqueNames")
		case gr.Kind == PosixGroup:
			w.attrs("objectClass", "top", "posixGroup")
			w.attr("gidNumber", strconv.Itoa(gr.GIDNumber))
		}
		w.attr("cn", gr.Name)
		w.attr("description", gr.Description)
		switch gr.Kind {
		case GroupOfNames:
			w.attrs("member", gr.Members...)
			if len(gr.Members) == 0 && !ad {
				w.attr("member", "")
			}
		case GroupOfUniqueNames:
			w.attrs("uniqueMember", gr.Members...)
			if len(gr.Members) == 0 {
				w.attr("uniqueMember", "")
			}
		case PosixGroup:
			w.attrs("memberUid", gr.MemberLogins...)
		}
		w.operational(d, gr.EntryUUID, gr.Modified, next())
		w.end()
	}
	return w.b.String()
}
