// Package ldapsource is dirgate's LDAP/Active Directory integration: it
// pulls users, groups and attributes from an LDAP server into a dirgate
// org on a schedule, with the options of Immuta's "LDAP/Active Directory"
// IAM form (and of Okta's AD/LDAP agents). The connector reads the source
// (client.go) and turns it into a directory.SyncPlan; package directory
// owns every rule of applying it (logins, duplicate emails, lifecycle,
// read-only mapped fields). Pointed at dirgate's own LDAP interface, its
// dry run shows what an Immuta-style consumer sees.
package ldapsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults, as Immuta's form has them.
const (
	DefaultSchedule = "0 */1 * * *" // hourly
	ScheduleManual  = "manual"      // no scheduled runs
	DefaultPageSize = 1000
	DefaultTimeout  = 30 * time.Second
)

// Removal says what a sync does to a user that is gone from the source.
type Removal string

const (
	RemoveDeactivate Removal = "deactivate" // default
	RemoveSuspend    Removal = "suspend"    // active users; any other is deactivated
	RemoveKeep       Removal = "keep"
)

// Member forms: how a group entry names its members.
const (
	MemberDN    = "dn"    // member / uniqueMember hold DNs
	MemberLogin = "login" // memberUid holds logins
)

// Settings are one integration's settings, stored as JSON (without the
// bind password, which the directory keeps sealed). Field names are the
// API's.
type Settings struct {
	// URLs are tried in order (failover): ldap:// (with StartTLS) or
	// ldaps://.
	URLs []string `json:"urls"`
	// StartTLS upgrades ldap:// connections; on by default, and required
	// unless InsecurePlaintext.
	StartTLS bool `json:"startTLS"`
	// InsecurePlaintext allows ldap:// without StartTLS (tests on
	// loopback only): the bind password then crosses the network in clear.
	InsecurePlaintext bool `json:"insecurePlaintext,omitempty"`
	// CACert is the PEM of the CA(s) the server's certificate must chain
	// to; empty: the system's roots.
	CACert string `json:"caCert,omitempty"`
	// BindDN is the account the sync binds as (its password is stored
	// sealed, apart).
	BindDN string `json:"bindDN"`
	// UserBase is where users are searched (subtree).
	UserBase string `json:"userSearchBase"`
	// Exactly one of UserAttribute (e.g. uid, sAMAccountName: the login
	// attribute, users found with (UserAttribute=*)) and UserFilter (a
	// full LDAP filter selecting users; the login is then LoginAttribute).
	UserAttribute string `json:"userAttribute,omitempty"`
	UserFilter    string `json:"userSearchFilter,omitempty"`
	// LoginAttribute is the login's attribute with UserFilter (default
	// uid).
	LoginAttribute string `json:"loginAttribute,omitempty"`
	// CaseInsensitive folds logins (compared and stored in lower case).
	CaseInsensitive bool `json:"caseInsensitiveUsernames"`
	// Debug logs each LDAP request and its result count (never a
	// password) at info level for this integration.
	Debug bool `json:"debugLogging,omitempty"`
	// Profile maps LDAP attributes to profile fields (firstName: givenName,
	// …); a mapped field becomes read-only in dirgate.
	Profile map[string]string `json:"profileSchema,omitempty"`
	// Schedule is a cron rule (five fields; default DefaultSchedule,
	// hourly); ScheduleManual turns scheduled runs off.
	Schedule string `json:"schedule"`
	// ManualApproval: new users arrive STAGED and wait for an admin.
	ManualApproval bool `json:"manualApproval,omitempty"`
	// Paging on with PageSize (default 1000); off, a server's size limit
	// is an error, never a silent truncation.
	Paging   bool `json:"paging"`
	PageSize int  `json:"pageSize,omitempty"`
	// Groups: searched under GroupBase with GroupFilter when GroupBase is
	// set.
	GroupBase       string `json:"groupSearchBase,omitempty"`
	GroupFilter     string `json:"groupSearchFilter,omitempty"`
	GroupNameAttr   string `json:"groupNameAttribute,omitempty"`   // default cn
	GroupMemberAttr string `json:"groupMemberAttribute,omitempty"` // member (default), uniqueMember, memberUid
	GroupMemberForm string `json:"groupMemberForm,omitempty"`      // dn (default; login for memberUid)
	// GroupMap renames source groups (by name) to dirgate groups.
	GroupMap map[string]string `json:"groupMapping,omitempty"`
	// Attributes are copied to custom profile attributes named
	// AttributePrefix + attribute.
	Attributes      []string `json:"attributeSync,omitempty"`
	AttributePrefix string   `json:"attributePrefix,omitempty"`
	// ExternalURL, an HTTPS URL, returns extra groups and attributes per
	// user (JSON), called during sync.
	ExternalURL string `json:"externalEndpoint,omitempty"`
	// DefaultGroups every imported user gets (the form's default
	// permissions).
	DefaultGroups []string `json:"defaultGroups,omitempty"`
	// Removal of users gone from the source (default deactivate).
	Removal Removal `json:"removal,omitempty"`
	// Delegated: binds of synced users are checked against the source.
	Delegated bool `json:"delegatedAuthentication,omitempty"`
	// Timeout bounds each connection and request (default 30 s).
	Timeout Duration `json:"timeout,omitempty"`
}

// Duration is a time.Duration as JSON "30s".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// FieldError is a setting that is wrong, and why.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func bad(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Normalize fills in the defaults and checks the settings; the first
// problem is returned as a *FieldError.
func (s *Settings) Normalize() error {
	if len(s.URLs) == 0 {
		return bad("urls", "give at least one LDAP URL (ldaps://host:636 or ldap://host:389 with StartTLS)")
	}
	for i, raw := range s.URLs {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return bad("urls", "%q is not an LDAP URL: use ldaps://host[:port] or ldap://host[:port]", raw)
		}
		s.URLs[i] = u.Scheme + "://" + u.Host
		if u.Scheme == "ldap" && !s.StartTLS && !s.InsecurePlaintext {
			return bad("startTLS", "%s is plain LDAP: turn StartTLS on (or use ldaps://), so that the bind password is not sent in clear", s.URLs[i])
		}
	}
	if strings.TrimSpace(s.BindDN) == "" {
		return bad("bindDN", "give the DN the sync binds as (a read-only account of the source)")
	}
	if strings.TrimSpace(s.UserBase) == "" {
		return bad("userSearchBase", "give the base DN under which users are searched")
	}
	switch {
	case s.UserAttribute != "" && s.UserFilter != "":
		return bad("userSearchFilter", "give either a user attribute or a user search filter, not both: "+
			"the attribute finds users by (attribute=*) and names their login, the filter selects users itself; with both it is unclear which users are meant")
	case s.UserAttribute == "" && s.UserFilter == "":
		return bad("userAttribute", "give a user attribute (e.g. uid or sAMAccountName) or a user search filter")
	case s.UserFilter != "":
		if !strings.HasPrefix(strings.TrimSpace(s.UserFilter), "(") {
			return bad("userSearchFilter", "an LDAP filter starts with \"(\", e.g. (&(objectClass=person)(memberOf=cn=staff,ou=groups,dc=example,dc=com))")
		}
		if s.LoginAttribute == "" {
			s.LoginAttribute = "uid"
		}
	default:
		s.LoginAttribute = s.UserAttribute
	}
	if s.PageSize == 0 {
		s.PageSize = DefaultPageSize
	}
	if s.PageSize < 1 || s.PageSize > 100_000 {
		return bad("pageSize", "a page size is between 1 and 100000, not %d", s.PageSize)
	}
	s.groupDefaults()
	if s.GroupMemberForm != MemberDN && s.GroupMemberForm != MemberLogin {
		return bad("groupMemberForm", "the member form is dn or login, not %q", s.GroupMemberForm)
	}
	if s.GroupFilter != "" && !strings.HasPrefix(strings.TrimSpace(s.GroupFilter), "(") {
		return bad("groupSearchFilter", "an LDAP filter starts with \"(\", e.g. (objectClass=groupOfNames)")
	}
	if len(s.Attributes) > 0 && s.AttributePrefix == "" {
		return bad("attributePrefix", "synced attributes are stored under a prefix (e.g. ldap-): give one")
	}
	for _, a := range s.Attributes {
		if !attrName.MatchString(s.AttributePrefix + a) {
			return bad("attributePrefix", "%q is not a name a profile attribute can have (it is an LDAP attribute of dirgate's entries too): "+
				"a letter, then letters, digits and hyphens, at most 64; e.g. the prefix ldap-", s.AttributePrefix+a)
		}
	}
	if s.ExternalURL != "" {
		u, err := url.Parse(s.ExternalURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return bad("externalEndpoint", "the external groups and attributes endpoint is an https:// URL, not %q", s.ExternalURL)
		}
	}
	switch s.Removal {
	case "":
		s.Removal = RemoveDeactivate
	case RemoveDeactivate, RemoveSuspend, RemoveKeep:
	default:
		return bad("removal", "what to do with users gone from the source is deactivate, suspend or keep, not %q", s.Removal)
	}
	switch strings.TrimSpace(s.Schedule) {
	case "":
		s.Schedule = DefaultSchedule
	case ScheduleManual:
		s.Schedule = ScheduleManual
	default:
		if _, err := ParseSchedule(s.Schedule); err != nil {
			return bad("schedule", "%v (or %q for manual runs only)", err, ScheduleManual)
		}
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultTimeout)
	}
	if time.Duration(s.Timeout) < time.Second || time.Duration(s.Timeout) > 10*time.Minute {
		return bad("timeout", "a timeout is between 1s and 10m, not %s", time.Duration(s.Timeout))
	}
	for field := range s.Profile {
		if !slices.Contains(ProfileFields, field) && !strings.HasPrefix(field, "custom:") {
			return bad("profileSchema", "%q is not a profile field: use one of %s, or custom:NAME", field, strings.Join(ProfileFields, ", "))
		}
	}
	return nil
}

// attrName is what a custom profile attribute's name may be (an LDAP
// attribute description, RFC 4512).
var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

// ProfileFields are the profile fields an LDAP attribute may map to.
var ProfileFields = []string{"email", "firstName", "lastName", "displayName", "nickName", "title", "department",
	"organization", "mobilePhone", "primaryPhone"}

// ParseSettings reads settings from YAML or JSON (the CLI's file, the
// API's body), refusing unknown fields (a typo must not silently turn an
// option off), and normalizes them.
func ParseSettings(b []byte) (*Settings, error) {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("the settings are neither YAML nor JSON: %w", err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("the settings: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var s Settings
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("the settings: %w", err)
	}
	if err := s.Normalize(); err != nil {
		return nil, err
	}
	return &s, nil
}

// groupDefaults fills in the group search's defaults: names in cn,
// members in member as DNs (memberUid holds logins).
func (s *Settings) groupDefaults() {
	if s.GroupNameAttr == "" {
		s.GroupNameAttr = "cn"
	}
	if s.GroupMemberAttr == "" {
		s.GroupMemberAttr = "member"
	}
	if s.GroupMemberForm == "" {
		s.GroupMemberForm = MemberDN
		if strings.EqualFold(s.GroupMemberAttr, "memberUid") {
			s.GroupMemberForm = MemberLogin
		}
	}
}
