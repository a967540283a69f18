package ldaptest

import (
	"strconv"
	"strings"
	"text/template"

	"github.com/dirgate/dirgate/bench/slapd"
)

// confData fills confTemplate.
type confData struct {
	AD                        bool
	Dir, SchemaDir, ModuleDir string
	CAFile, CertFile, KeyFile string
	Base, RootDN, RootPW      string
	ServiceDN, GroupOC        string
	SizeLimit, MaxPageSize    string
}

func config(d *data, o Options, dir, caFile, certFile, keyFile string) (string, error) {
	c := confData{
		AD:          d.flavor == AD,
		Dir:         dir,
		SchemaDir:   slapd.DefaultSchemaDir,
		ModuleDir:   slapd.DefaultModuleDir,
		CAFile:      caFile,
		CertFile:    certFile,
		KeyFile:     keyFile,
		Base:        d.base,
		RootDN:      d.rootDN,
		RootPW:      ssha(rootPassword),
		ServiceDN:   d.serviceDN,
		GroupOC:     d.groupOC,
		SizeLimit:   limit(o.SizeLimit),
		MaxPageSize: "",
	}
	if o.MaxPageSize > 0 {
		c.MaxPageSize = limit(o.MaxPageSize)
	}
	var b strings.Builder
	err := confTemplate.Execute(&b, c)
	return b.String(), err
}

func limit(n int) string {
	if n < 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

// The fixture writes its own slapd.conf rather than bench/slapd's: it
// needs TLS, the nis schema or the AD-like one, the memberof overlay on
// groupOfNames/member or group/member (the bench's is on
// groupOfUniqueNames), other indexes, a configurable size limit and an
// administrator's password. bench/slapd still writes it to disk, loads the
// LDIF and runs slapd (Options.ConfigText).
//
// Limits: SizeLimit entries per unpaged search (soft and hard, so a
// client's larger request is refused with sizeLimitExceeded too), no bound
// on a paged search's total (size.prtotal, which otherwise defaults to the
// hard limit) and by default none on a page's size (size.pr; slapd refuses
// a larger page with adminLimitExceeded, where AD would shorten it). The
// rootdn has no limits.
//
// ACLs: the root DSE and the schema are public; userPassword can only be
// used to bind, and be changed (not read) by its owner; the service
// account reads everything else, a user its own entry, anonymous nothing
// (a search under BaseDN answers noSuchObject).
var confTemplate = template.Must(template.New("slapd.conf").Parse(`# Written by internal/connector/ldapsource/ldaptest.
include {{.SchemaDir}}/core.schema
include {{.SchemaDir}}/cosine.schema
include {{.SchemaDir}}/inetorgperson.schema
{{- if .AD}}
include {{.Dir}}/ad.schema
{{- else}}
include {{.SchemaDir}}/nis.schema
{{- end}}

pidfile {{.Dir}}/slapd.pid
argsfile {{.Dir}}/slapd.args
loglevel 0

modulepath {{.ModuleDir}}
moduleload back_mdb
moduleload memberof

TLSCACertificateFile {{.CAFile}}
TLSCertificateFile {{.CertFile}}
TLSCertificateKeyFile {{.KeyFile}}
TLSVerifyClient never

sizelimit size.soft={{.SizeLimit}} size.hard={{.SizeLimit}}{{if .MaxPageSize}} size.pr={{.MaxPageSize}}{{end}} size.prtotal=unlimited

database mdb
suffix "{{.Base}}"
rootdn "{{.RootDN}}"
rootpw {{.RootPW}}
directory {{.Dir}}/db
maxsize 4294967296
dbnosync

index objectClass eq
index cn,sn,givenName,mail eq,sub
index member eq
index memberOf eq
index entryUUID,entryCSN eq
index modifyTimestamp eq
{{- if .AD}}
index sAMAccountName,userPrincipalName eq,sub
index objectGUID eq
index whenChanged eq
{{- else}}
index uid eq,sub
index uniqueMember eq
index memberUid eq
{{- end}}

overlay memberof
memberof-group-oc {{.GroupOC}}
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true

access to dn.base=""
	by * read
access to dn.base="cn=Subschema"
	by * read
access to attrs=userPassword
	by self =wx
	by anonymous auth
	by * none
access to *
	by dn.exact="{{.ServiceDN}}" read
	by self read
	by * none
`))

// adSchema is a small Active-Directory-like schema: AD's attribute and
// class names with OIDs under a private arc (1.3.6.1.4.1.99999, not
// Microsoft's), enough for what an AD sync reads. memberOf comes from the
// memberof overlay (with AD's OID). user is structural under
// organizationalPerson, as in AD (objectClass: top, person,
// organizationalPerson, user); mail, givenName, displayName,
// employeeNumber and manager are the standard types of cosine and
// inetorgperson. userAccountControl is an INTEGER, so slapd's
// integerBitAndMatch (AD's 1.2.840.113556.1.4.803) works on it:
// (userAccountControl:1.2.840.113556.1.4.803:=2) finds disabled accounts.
const adSchema = `# Active-Directory-like schema of internal/connector/ldapsource/ldaptest.
attributetype ( 1.3.6.1.4.1.99999.1.1.1 NAME 'sAMAccountName'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.2 NAME 'userPrincipalName'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.3 NAME 'objectGUID'
	EQUALITY octetStringMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{16} SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.4 NAME 'whenChanged'
	EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.5 NAME 'whenCreated'
	EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.6 NAME 'department'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{64} SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.1.7 NAME 'userAccountControl'
	EQUALITY integerMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.1.2.1 NAME 'user'
	SUP organizationalPerson STRUCTURAL
	MAY ( sAMAccountName $ userPrincipalName $ objectGUID $ whenChanged $
		whenCreated $ department $ userAccountControl $ mail $ givenName $
		displayName $ employeeNumber $ manager ) )
objectclass ( 1.3.6.1.4.1.99999.1.2.2 NAME 'group'
	SUP top STRUCTURAL
	MUST cn
	MAY ( sAMAccountName $ member $ description $ objectGUID $ whenChanged $
		whenCreated $ mail ) )
`
