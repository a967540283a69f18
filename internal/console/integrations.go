package console

import (
	"cmp"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

// Directory integrations → Add LDAP directory: the org's LDAP/Active
// Directory sources (package connector/ldapsource owns their settings and
// runs, package directory every rule of applying one), the settings form
// grouped as Immuta's LDAP/Active Directory IAM form is, and the tests an
// admin runs before trusting a source: the connection, one user's login, a
// dry run; then Sync now. The CLI's equivalent is `dirgate integration`.

// integrationPerm is what changing, testing and running an integration
// takes: its bind account reads the whole source, and a sync creates and
// removes users, so it is the SUPER_ADMIN's, as the REST API has it.
// Viewing takes PermRead (the bind password is never shown to anyone).
const integrationPerm = directory.PermSecurity

func (s *Server) routesIntegrations() {
	s.page("GET /console/integrations", directory.PermRead, s.integrations)
	s.page("GET /console/integrations/new", integrationPerm, s.newIntegration)
	s.page("POST /console/integrations", integrationPerm, s.createIntegration)
	s.page("GET /console/integrations/{id}", directory.PermRead, s.integration)
	s.page("GET /console/integrations/{id}/edit", integrationPerm, s.editIntegration)
	s.page("POST /console/integrations/{id}/edit", integrationPerm, s.updateIntegration)
	s.page("POST /console/integrations/{id}/delete", integrationPerm, s.deleteIntegration)
	s.page("POST /console/integrations/{id}/test-connection", integrationPerm, s.testIntegrationConnection)
	s.page("POST /console/integrations/{id}/test-login", integrationPerm, s.testIntegrationLogin)
	s.page("POST /console/integrations/{id}/test-sync", integrationPerm, s.testIntegrationSync)
	s.page("POST /console/integrations/{id}/sync", integrationPerm, s.syncIntegration)
}

// The list.

type integrationsData struct {
	Rows      []integrationRow
	CanChange bool
}

type integrationRow struct {
	ID, Name, Kind, URL string
	Default             bool
	Owned               []string
	Last                *lastRunView
}

func (s *Server) integrations(w http.ResponseWriter, r *http.Request, q *request) error {
	ins, err := s.dir.Integrations(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d := integrationsData{CanChange: q.p.Allow(integrationPerm) == nil}
	for _, in := range ins {
		row := integrationRow{ID: in.ID, Name: in.Name, Kind: integrationKind(in.Kind), Default: in.Default, Owned: in.Owned, Last: s.lastRunOf(in)}
		var set ldapsource.Settings
		if json.Unmarshal(in.Settings, &set) == nil && len(set.URLs) > 0 {
			row.URL = set.URLs[0]
			if n := len(set.URLs) - 1; n > 0 {
				row.URL += fmt.Sprintf(" (+%d for failover)", n)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, http.StatusOK, "integrations", s.view(q, "Directory integrations", "integrations", d))
	return nil
}

func integrationKind(kind string) string {
	if kind == directory.KindLDAP {
		return "LDAP / Active Directory"
	}
	return kind
}

// lastRunView is what an integration's state says of its runs.
type lastRunView struct {
	When    string // the last run's end (or start, while it runs)
	Running bool
	OK      bool
	Error   string
	Summary string // counts of the last report
	Report  *syncView
}

func (s *Server) lastRunOf(in *directory.Integration) *lastRunView {
	st := directory.StateOf(in)
	if _, ok := s.runner.Running(in.ID); !ok && st.LastStarted.IsZero() && st.LastFinished.IsZero() {
		return nil
	}
	v := &lastRunView{When: runTime(st.LastFinished)}
	here, runsHere := s.runner.Running(in.ID) // started, maybe not yet leased
	if runsHere && here.After(st.LastStarted) {
		st.LastStarted = here
	}
	if runsHere || st.Holder != "" && s.now().Before(st.LeaseUntil) {
		v.Running, v.When = true, runTime(st.LastStarted)
		return v
	}
	if st.LastFinished.IsZero() {
		v.When = runTime(st.LastStarted)
	}
	v.Error = st.LastError
	v.OK = v.Error == "" && !st.LastFinished.IsZero()
	if st.LastReport != nil {
		r := st.LastReport
		v.Summary = fmt.Sprintf("%d created, %d updated, %d reactivated, %d deactivated, %d suspended, %d unchanged",
			r.Created, r.Updated, r.Reactivated, r.Deactivated, r.Suspended, r.Unchanged)
		v.Report = syncViewOf("last", r)
	}
	return v
}

func runTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// The form.

// integrationForm is the settings form's values as typed (the password
// apart: it is never kept, nor shown again).
type integrationForm struct {
	Name, DefaultGroups                        string
	URLs                                       string
	StartTLS                                   bool
	CACert, BindDN, Timeout                    string
	UserBase, UserAttribute, UserFilter, Login string
	CaseInsensitive, Debug                     bool
	Profile                                    map[string]string // profile field -> LDAP attribute
	Custom                                     []customRow
	Scheduled                                  bool
	Schedule                                   string
	ManualApproval                             bool
	Paging                                     bool
	PageSize                                   string
	GroupBase, GroupFilter, GroupNameAttr      string
	GroupMemberAttr, GroupMemberForm, GroupMap string
	Attributes, AttributePrefix                string
	ExternalURL                                string
	Removal                                    string
	Delegated, Default                         bool
}

// customRow is a custom profile attribute's row of the profile schema.
type customRow struct {
	N          int // the row's number, for its inputs' names
	Name, Attr string
}

// blankCustomRows is how many empty custom attribute rows the form offers
// (without JavaScript, a row cannot be added on the page).
const blankCustomRows = 3

// newIntegrationForm is the form of a new integration: Immuta's defaults.
func newIntegrationForm() *integrationForm {
	return &integrationForm{StartTLS: true, Timeout: time.Duration(ldapsource.DefaultTimeout).String(),
		Profile:   map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn", "displayName": "displayName"},
		Scheduled: true, Schedule: ldapsource.DefaultSchedule, Paging: true, PageSize: strconv.Itoa(ldapsource.DefaultPageSize),
		GroupNameAttr: "cn", GroupMemberAttr: "member", Removal: string(ldapsource.RemoveDeactivate)}
}

// formOfSettings is the form showing an integration's stored settings.
func formOfSettings(in *directory.Integration, s *ldapsource.Settings) *integrationForm {
	f := &integrationForm{Name: in.Name, Default: in.Default, DefaultGroups: strings.Join(s.DefaultGroups, "\n"),
		URLs: strings.Join(s.URLs, "\n"), StartTLS: s.StartTLS, CACert: s.CACert, BindDN: s.BindDN,
		UserBase: s.UserBase, UserAttribute: s.UserAttribute, UserFilter: s.UserFilter,
		CaseInsensitive: s.CaseInsensitive, Debug: s.Debug, Profile: map[string]string{},
		Scheduled: s.Schedule != ldapsource.ScheduleManual, Schedule: s.Schedule, ManualApproval: s.ManualApproval,
		Paging: s.Paging, GroupBase: s.GroupBase, GroupFilter: s.GroupFilter, GroupNameAttr: s.GroupNameAttr,
		GroupMemberAttr: s.GroupMemberAttr, GroupMemberForm: s.GroupMemberForm,
		Attributes: strings.Join(s.Attributes, "\n"), AttributePrefix: s.AttributePrefix, ExternalURL: s.ExternalURL,
		Removal: string(s.Removal), Delegated: s.Delegated}
	if s.UserAttribute == "" {
		f.Login = s.LoginAttribute // with an attribute, the login is the attribute
	}
	if !f.Scheduled || f.Schedule == "" {
		f.Schedule = ldapsource.DefaultSchedule
	}
	if s.PageSize > 0 {
		f.PageSize = strconv.Itoa(s.PageSize)
	}
	if s.Timeout > 0 {
		f.Timeout = time.Duration(s.Timeout).String()
	}
	if f.Removal == "" {
		f.Removal = string(ldapsource.RemoveDeactivate)
	}
	var lines []string
	for src, to := range s.GroupMap {
		lines = append(lines, src+"="+to)
	}
	sort.Strings(lines)
	f.GroupMap = strings.Join(lines, "\n")
	for field, attr := range s.Profile {
		if name, ok := strings.CutPrefix(field, "custom:"); ok {
			f.Custom = append(f.Custom, customRow{Name: name, Attr: attr})
		} else {
			f.Profile[field] = attr
		}
	}
	sort.Slice(f.Custom, func(i, j int) bool { return f.Custom[i].Name < f.Custom[j].Name })
	return f
}

// maxCustomRows bounds the custom attribute rows a form may post.
const maxCustomRows = 200

// integrationFormOf is the form as posted.
func integrationFormOf(r *http.Request) *integrationForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	f := &integrationForm{Name: v("name"), DefaultGroups: v("defaultGroups"), URLs: v("urls"), StartTLS: on("startTLS"),
		CACert: v("caCert"), BindDN: v("bindDN"), Timeout: v("timeout"), UserBase: v("userSearchBase"),
		UserAttribute: v("userAttribute"), UserFilter: v("userSearchFilter"), Login: v("loginAttribute"),
		CaseInsensitive: on("caseInsensitiveUsernames"), Debug: on("debugLogging"), Profile: map[string]string{},
		Scheduled: on("scheduledSync"), Schedule: v("schedule"), ManualApproval: on("manualApproval"),
		Paging: on("paging"), PageSize: v("pageSize"), GroupBase: v("groupSearchBase"), GroupFilter: v("groupSearchFilter"),
		GroupNameAttr: v("groupNameAttribute"), GroupMemberAttr: v("groupMemberAttribute"), GroupMemberForm: v("groupMemberForm"),
		GroupMap: v("groupMapping"), Attributes: v("attributeSync"), AttributePrefix: v("attributePrefix"),
		ExternalURL: v("externalEndpoint"), Removal: v("removal"), Delegated: on("delegatedAuthentication"), Default: on("default")}
	for _, field := range ldapsource.ProfileFields {
		if a := v("profile_" + field); a != "" {
			f.Profile[field] = a
		}
	}
	var ns []int
	for k := range r.PostForm {
		rest, ok := strings.CutPrefix(k, "custom_name_")
		if !ok {
			rest, ok = strings.CutPrefix(k, "custom_attr_")
		}
		if n, err := strconv.Atoi(rest); ok && err == nil && n > 0 && n <= maxCustomRows && !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	for _, n := range ns {
		row := customRow{N: n, Name: v(fmt.Sprintf("custom_name_%d", n)), Attr: v(fmt.Sprintf("custom_attr_%d", n))}
		if row.Name != "" || row.Attr != "" {
			f.Custom = append(f.Custom, row)
		}
	}
	return f
}

// customNameRE is what the org's custom attributes may be named
// (directory.validateCustomAttributes): a name the org would refuse later
// is refused here.
var customNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

// settings applies the form to base (an integration's stored settings,
// whose fields the form lacks stay) and checks the result; errs holds the
// settingProblems by field (the inputs' names), "" for the form.
func (f *integrationForm) settings(base ldapsource.Settings) (ldapsource.Settings, map[string]string) {
	errs := map[string]string{}
	s := base
	if f.Name == "" {
		errs["name"] = `give the directory a display name (e.g. "Corporate AD")`
	}
	s.DefaultGroups = nonEmptyLines(f.DefaultGroups)
	s.URLs = strings.FieldsFunc(f.URLs, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	s.StartTLS, s.CACert, s.BindDN = f.StartTLS, f.CACert, f.BindDN
	s.Timeout = 0
	if f.Timeout != "" {
		if d, err := time.ParseDuration(f.Timeout); err != nil {
			errs["timeout"] = fmt.Sprintf("%q is not a duration: write e.g. 30s or 2m", f.Timeout)
		} else {
			s.Timeout = ldapsource.Duration(d)
		}
	}
	s.UserBase, s.UserAttribute, s.UserFilter, s.LoginAttribute = f.UserBase, f.UserAttribute, f.UserFilter, f.Login
	s.CaseInsensitive, s.Debug = f.CaseInsensitive, f.Debug
	s.Profile = map[string]string{}
	for field, attr := range f.Profile {
		s.Profile[field] = attr
	}
	seen := map[string]bool{}
	for i, c := range f.Custom {
		row := i + 1
		switch {
		case c.Name == "" || c.Attr == "":
			errs["customProfile"] = fmt.Sprintf("custom attribute row %d: give both the attribute's name in dirgate and the LDAP attribute that fills it (or clear both)", row)
		case strings.EqualFold(c.Name, "login"):
			errs["customProfile"] = "the login comes from the user attribute (or the login attribute), not from the profile schema"
		case directory.IsBaseProfileAttribute(c.Name):
			errs["customProfile"] = fmt.Sprintf("%s is a profile field of its own: map it in its row above", c.Name)
		case !customNameRE.MatchString(c.Name):
			errs["customProfile"] = fmt.Sprintf("custom attribute %q: a name starts with a letter and holds only letters, digits and hyphens (at most 64), as the org's custom attributes do", c.Name)
		case seen[strings.ToLower(c.Name)]:
			errs["customProfile"] = fmt.Sprintf("custom attribute %s is mapped twice", c.Name)
		default:
			seen[strings.ToLower(c.Name)] = true
			s.Profile["custom:"+c.Name] = c.Attr
		}
	}
	if len(s.Profile) == 0 {
		s.Profile = nil
	}
	s.Schedule = ldapsource.ScheduleManual
	if f.Scheduled {
		s.Schedule = f.Schedule // "" is the default, hourly
	}
	s.ManualApproval, s.Paging = f.ManualApproval, f.Paging
	s.PageSize = 0
	if f.PageSize != "" {
		if n, err := strconv.Atoi(f.PageSize); err != nil {
			errs["pageSize"] = fmt.Sprintf("%q is not a whole number: a page size is e.g. 1000", f.PageSize)
		} else {
			s.PageSize = n
		}
	}
	s.GroupBase, s.GroupFilter, s.GroupNameAttr = f.GroupBase, f.GroupFilter, f.GroupNameAttr
	s.GroupMemberAttr, s.GroupMemberForm = f.GroupMemberAttr, f.GroupMemberForm
	s.GroupMap = nil
	for i, line := range strings.Split(f.GroupMap, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		src, to, ok := strings.Cut(line, "=")
		src, to = strings.TrimSpace(src), strings.TrimSpace(to)
		if !ok || src == "" || to == "" {
			errs["groupMapping"] = fmt.Sprintf("line %d, %q: write source group=dirgate group", i+1, line)
			continue
		}
		if s.GroupMap == nil {
			s.GroupMap = map[string]string{}
		}
		if _, dup := s.GroupMap[src]; dup {
			errs["groupMapping"] = fmt.Sprintf("line %d: the source group %s is mapped twice", i+1, src)
		}
		s.GroupMap[src] = to
	}
	s.Attributes = strings.FieldsFunc(f.Attributes, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	s.AttributePrefix, s.ExternalURL = f.AttributePrefix, f.ExternalURL
	s.Removal, s.Delegated = ldapsource.Removal(f.Removal), f.Delegated
	if err := s.Normalize(); err != nil {
		var fe *ldapsource.FieldError
		switch {
		case !errors.As(err, &fe):
			errs[""] = err.Error()
		case errs[fe.Field] == "":
			errs[fe.Field] = fe.Message
		}
	}
	return s, errs
}

// lines are the non-empty lines of s, trimmed.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// settingField is one input of the form (and a row of the settings shown).
type settingField struct {
	Kind        string // text, password, textarea, checkbox, select, radio, group (a fieldset of Fields)
	Type        string // an input's type: text, url, password
	Name, Label string
	Value       string
	Hint, Error string
	Describe    string // the ids aria-describedby names
	Auto        string // autocomplete
	InputMode   string
	Rows        int
	Mono        bool // code: DNs, filters, URLs
	Required    bool
	Checked     bool
	Disabled    bool
	Options     []settingOption
	Fields      []settingField // a group's
	// Show is how the settings page shows the value (lines), Pre a
	// preformatted block under it.
	Show []string
	Pre  string
}

type settingOption struct {
	Value, Label string
	Selected     bool
}

// settingSection is a fieldset of the form, as Immuta's form groups them.
type settingSection struct {
	ID, Legend, Intro string
	Error             string // the section's (profileSchema)
	Describe          string
	Fields            []settingField
	// The profile schema's rows.
	Profile     []profileRow
	Custom      []customRow
	CustomError string
}

type profileRow struct {
	Field, Name, Label, Value, Hint string
}

// ldapProfileLabels name the profile fields, with the attributes that
// usually fill them.
var ldapProfileLabels = map[string][2]string{
	"email": {"Email", "Usually mail."}, "firstName": {"First name", "Usually givenName."}, "lastName": {"Last name", "Usually sn."},
	"displayName": {"Display name", "Usually displayName."}, "nickName": {"Nickname", "Often left empty."}, "title": {"Title", "Usually title."},
	"department":   {"Department", "Usually department (Active Directory) or departmentNumber (OpenLDAP)."},
	"organization": {"Organization", "Usually o, or company (Active Directory)."}, "mobilePhone": {"Mobile phone", "Usually mobile."},
	"primaryPhone": {"Primary phone", "Usually telephoneNumber."},
}

func fieldText(name, label, value, hint string) settingField {
	return settingField{Kind: "text", Type: "text", Name: name, Label: label, Value: value, Hint: hint, Auto: "off"}
}

func fieldMono(f settingField) settingField { f.Mono = true; return f }

func fieldRequired(f settingField) settingField { f.Required = true; return f }

func fieldArea(name, label, value, hint string, rows int) settingField {
	return settingField{Kind: "textarea", Name: name, Label: label, Value: value, Hint: hint, Rows: rows}
}

func fieldCheck(name, label string, on bool, hint string) settingField {
	return settingField{Kind: "checkbox", Name: name, Label: label, Checked: on, Hint: hint}
}

func fieldChoice(kind, name, label, value, hint string, opts ...settingOption) settingField {
	found := false
	for i := range opts {
		if opts[i].Value == value {
			opts[i].Selected, found = true, true
		}
	}
	if !found && value != "" { // a value set elsewhere (the CLI) stays choosable
		opts = append(opts, settingOption{Value: value, Label: value, Selected: true})
	}
	return settingField{Kind: kind, Name: name, Label: label, Value: value, Hint: hint, Options: opts}
}

// sections lays the form out; in is the integration edited (nil: a new
// one).
func (f *integrationForm) sections(errs map[string]string, in *directory.Integration) []settingSection {
	editing := in != nil
	pw := settingField{Kind: "password", Type: "password", Name: "bindPassword", Label: "Bind password", Auto: "new-password",
		Hint: "Stored encrypted; never shown again, not even here.", Required: true}
	switch {
	case editing && in.Secret != "":
		pw.Hint, pw.Required = "Stored encrypted and never shown. Leave it empty to keep the stored password.", false
		pw.Show = []string{"stored (encrypted; never shown)"}
	case editing:
		pw.Hint, pw.Show = "No password is stored yet: give the bind account's.", []string{"none stored"}
	}
	def := fieldCheck("default", "Make this the org's default directory", f.Default,
		"The org has at most one default directory. It owns a person who is in several of the org's sources: its runs take over, by login, users of another integration. Making this one the default takes it from another.")
	if editing && in.Default {
		def.Hint = "This is the org's default directory. Clear the box and the org has none."
	}
	timeout := fieldText("timeout", "Timeout", f.Timeout, "For each connection and each request, e.g. 30s (1s to 10m).")
	pageSize := fieldText("pageSize", "Page size", f.PageSize, "Entries per page, 1 to 100000; 1000 by default (Active Directory's MaxPageSize).")
	pageSize.InputMode = "numeric"
	endpoint := fieldMono(fieldText("externalEndpoint", "External groups and attributes endpoint", f.ExternalURL,
		`An https:// URL the sync GETs once per run. It answers {"users": {"<login>": {"groups": […], "attributes": {…}}}}: the groups (dirgate groups, which must exist) are given to the user, the attributes stored under the attribute prefix. A run whose endpoint fails, fails. Leave it empty for none.`))
	endpoint.Type = "url"
	secs := []settingSection{
		{ID: "sec-general", Legend: "Display name and default permissions", Fields: []settingField{
			fieldRequired(fieldText("name", "Display name", f.Name, "How the console and the system log name this directory, e.g. Corporate AD.")),
			fieldArea("defaultGroups", "Default groups", f.DefaultGroups,
				"Default permissions: the dirgate groups every synced user joins, one per line. They must exist (see Groups).", 3),
		}},
		{ID: "sec-credentials", Legend: "Credentials and options", Fields: []settingField{
			fieldRequired(fieldMono(fieldArea("urls", "LDAP URLs", f.URLs,
				"One per line, in failover order: when one cannot be reached the next is tried. ldaps://host:636, or ldap://host:389 with StartTLS.", 3))),
			fieldCheck("startTLS", "StartTLS", f.StartTLS,
				"Upgrades an ldap:// connection to TLS before binding. Without it, an ldap:// URL is refused: the bind password would cross the network in clear."),
			fieldMono(fieldArea("caCert", "CA certificate (PEM)", f.CACert,
				"The certificate of the CA that signed the server's, -----BEGIN CERTIFICATE----- … (several may follow each other). Empty: the system's trusted CAs. The external endpoint is checked with it too.", 6)),
			fieldRequired(fieldMono(fieldText("bindDN", "Bind DN", f.BindDN, "The read-only account the sync binds as, e.g. cn=dirgate-sync,ou=Service,dc=corp,dc=example."))),
			pw,
			fieldRequired(fieldMono(fieldText("userSearchBase", "User search base", f.UserBase, "The DN under which users are searched (the whole subtree), e.g. ou=Staff,dc=corp,dc=example."))),
			{Kind: "group", Name: "users", Label: "Which users: a user attribute or a user search filter, not both",
				Hint: "Give one of the two. A user attribute both selects the users (the entries that have it) and holds their login; a user search filter selects the users itself, and their login is then the login attribute. Given both, it would be unclear which users are meant, so the form refuses it.",
				Fields: []settingField{
					fieldMono(fieldText("userAttribute", "User attribute", f.UserAttribute,
						"Either this or a user search filter. E.g. uid (OpenLDAP) or sAMAccountName (Active Directory): users are the entries with it, (attribute=*), and it is their login.")),
					fieldMono(fieldText("userSearchFilter", "User search filter", f.UserFilter,
						"Either this or a user attribute. A full LDAP filter, e.g. (&(objectClass=person)(memberOf=cn=staff,ou=Groups,dc=corp,dc=example)).")),
					fieldMono(fieldText("loginAttribute", "Login attribute (with a user search filter)", f.Login,
						"The attribute holding the login of the users the filter selects; uid by default. Not used with a user attribute.")),
				}},
			fieldCheck("caseInsensitiveUsernames", "Case-insensitive usernames", f.CaseInsensitive,
				"Logins are compared and stored in lower case, as Active Directory treats them."),
			fieldCheck("debugLogging", "Debug logging", f.Debug,
				"Logs each LDAP request of this directory and how many entries it returned in the server's log, at info level (never a password)."),
			timeout,
		}},
		{ID: "sec-profile", Legend: "Profile schema",
			Intro: "Which LDAP attribute fills each profile field. A mapped field is kept by this directory: read-only in dirgate for its users, changed in the source and brought here by the next sync. Leave a row empty to leave that field to dirgate. The login comes from the user attribute (or the login attribute)."},
		{ID: "sec-schedule", Legend: "Scheduled sync", Fields: []settingField{
			fieldCheck("scheduledSync", "Sync on a schedule", f.Scheduled, "Off: the directory is synced only with Sync now."),
			fieldMono(fieldText("schedule", "Schedule (cron)", f.Schedule,
				"Five fields: minute, hour, day of month, month, day of week (or @hourly, @daily, @every 30m). 0 */1 * * * is every hour on the hour, the default.")),
			fieldCheck("manualApproval", "Manual approval", f.ManualApproval, "New users arrive STAGED and wait for an admin to activate them."),
		}},
		{ID: "sec-pagination", Legend: "Pagination", Fields: []settingField{
			fieldCheck("paging", "Paged searches", f.Paging,
				"Reads users and groups page by page (RFC 2696), past the server's size limit. Off, a server's size limit fails the sync: dirgate never syncs a truncated list."),
			pageSize,
		}},
		{ID: "sec-groups", Legend: "Group sync",
			Intro: "Groups are synced when a group search base is given: each source group becomes a dirgate group (or is linked to the local group of its name), with its members that are synced users.",
			Fields: []settingField{
				fieldMono(fieldText("groupSearchBase", "Group search base", f.GroupBase, "The DN under which groups are searched, e.g. ou=Groups,dc=corp,dc=example. Empty: no group sync.")),
				fieldMono(fieldText("groupSearchFilter", "Group search filter", f.GroupFilter, "Empty: "+ldapsource.DefaultGroupFilter+".")),
				fieldMono(fieldText("groupNameAttribute", "Group name attribute", f.GroupNameAttr, "The attribute holding a group's name; cn by default.")),
				fieldChoice("select", "groupMemberAttribute", "Member attribute", f.GroupMemberAttr, "Which attribute of a group lists its members.",
					settingOption{Value: "member", Label: "member (DNs: groupOfNames, Active Directory)"},
					settingOption{Value: "uniqueMember", Label: "uniqueMember (DNs: groupOfUniqueNames)"},
					settingOption{Value: "memberUid", Label: "memberUid (logins: posixGroup)"}),
				fieldChoice("select", "groupMemberForm", "Member form", f.GroupMemberForm, "How the member attribute names a member.",
					settingOption{Value: "", Label: "automatic (logins for memberUid, DNs otherwise)"},
					settingOption{Value: ldapsource.MemberDN, Label: "DNs"},
					settingOption{Value: ldapsource.MemberLogin, Label: "logins"}),
				fieldMono(fieldArea("groupMapping", "Group mapping", f.GroupMap,
					"One per line, source group=dirgate group, e.g. Immuta Users=immuta_users. A group not mapped keeps its source name.", 3)),
			}},
		{ID: "sec-attributes", Legend: "Attribute sync", Fields: []settingField{
			fieldMono(fieldArea("attributeSync", "Attributes", f.Attributes,
				"LDAP attributes copied to custom profile attributes, one per line (or separated by commas), e.g. employeeNumber.", 2)),
			fieldMono(fieldText("attributePrefix", "Attribute prefix", f.AttributePrefix,
				"Synced attributes are named prefix + attribute: ldap- stores employeeNumber as ldap-employeeNumber. Needed when attributes are synced.")),
		}},
		{ID: "sec-endpoint", Legend: "External endpoint", Fields: []settingField{endpoint}},
		{ID: "sec-removal", Legend: "Removal", Fields: []settingField{
			fieldChoice("radio", "removal", "When a user is gone from the source", f.Removal, "Users of other directories and local users are never touched.",
				settingOption{Value: string(ldapsource.RemoveDeactivate), Label: "Deactivate (DEPROVISIONED: cannot sign in; reactivated if they come back)"},
				settingOption{Value: string(ldapsource.RemoveSuspend), Label: "Suspend (active users SUSPENDED, others deactivated; reactivated if they come back)"},
				settingOption{Value: string(ldapsource.RemoveKeep), Label: "Keep (left as they are)"}),
		}},
		{ID: "sec-delegated", Legend: "Delegated authentication", Fields: []settingField{
			fieldCheck("delegatedAuthentication", "Delegated authentication", f.Delegated,
				"The passwords of this directory's users are checked against the source, as a bind there, instead of by dirgate."),
		}},
		{ID: "sec-default", Legend: "Default directory", Fields: []settingField{def}},
	}
	for i := range secs {
		sec := &secs[i]
		finishSettingFields(sec.Fields, errs)
		if sec.ID == "sec-profile" {
			sec.Error, sec.CustomError = errs["profileSchema"], errs["customProfile"]
			for _, field := range ldapsource.ProfileFields {
				l := ldapProfileLabels[field]
				if l[0] == "" {
					l = [2]string{field, ""}
				}
				sec.Profile = append(sec.Profile, profileRow{Field: field, Name: "profile_" + field, Label: l[0], Value: f.Profile[field], Hint: l[1]})
			}
			n := 0
			for _, c := range f.Custom {
				n++
				sec.Custom = append(sec.Custom, customRow{N: n, Name: c.Name, Attr: c.Attr})
			}
			for range blankCustomRows {
				n++
				sec.Custom = append(sec.Custom, customRow{N: n})
			}
		}
		var ids []string
		if sec.Intro != "" {
			ids = append(ids, sec.ID+"-intro")
		}
		if sec.Error != "" {
			ids = append(ids, sec.ID+"-error")
		}
		sec.Describe = strings.Join(ids, " ")
	}
	return secs
}

// finishSettingFields puts each field's error by it and links its hint and
// error to it.
func finishSettingFields(fs []settingField, errs map[string]string) {
	for i := range fs {
		f := &fs[i]
		finishSettingFields(f.Fields, errs)
		f.Error = errs[f.Name]
		var ids []string
		if f.Hint != "" {
			ids = append(ids, f.Name+"-hint")
		}
		if f.Error != "" {
			ids = append(ids, f.Name+"-error")
		}
		f.Describe = strings.Join(ids, " ")
	}
}

// settingProblem is a line of the form's error summary, linking to the field.
type settingProblem struct {
	Anchor, Label, Message string
}

// settingProblems lists errs in the form's order; an error of no field of the
// form comes last, unlinked.
func settingProblems(secs []settingSection, errs map[string]string) []settingProblem {
	var out []settingProblem
	done := map[string]bool{}
	var walk func(fs []settingField)
	walk = func(fs []settingField) {
		for _, f := range fs {
			walk(f.Fields)
			if f.Error != "" && !done[f.Name] {
				done[f.Name] = true
				anchor := f.Name
				if f.Kind == "radio" && len(f.Options) > 0 {
					anchor = f.Name + "-" + f.Options[0].Value
				}
				out = append(out, settingProblem{Anchor: anchor, Label: f.Label, Message: f.Error})
			}
		}
	}
	for _, sec := range secs {
		walk(sec.Fields)
		if sec.Error != "" {
			done["profileSchema"] = true
			out = append(out, settingProblem{Anchor: sec.ID, Label: sec.Legend, Message: sec.Error})
		}
		if sec.CustomError != "" {
			done["customProfile"] = true
			out = append(out, settingProblem{Anchor: "customProfile", Label: "Custom attributes", Message: sec.CustomError})
		}
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !done[k] {
			out = append(out, settingProblem{Message: errs[k]})
		}
	}
	return out
}

type integrationFormData struct {
	In       *directory.Integration // the integration edited; nil: a new one
	Action   string
	Cancel   string
	Sections []settingSection
	Problems []settingProblem
}

func (s *Server) renderIntegrationForm(w http.ResponseWriter, q *request, in *directory.Integration, f *integrationForm, errs map[string]string, status int) error {
	secs := f.sections(errs, in)
	d := integrationFormData{In: in, Action: "/console/integrations", Cancel: "/console/integrations", Sections: secs, Problems: settingProblems(secs, errs)}
	title := "Add LDAP directory"
	if in != nil {
		d.Action, d.Cancel, title = "/console/integrations/"+in.ID+"/edit", "/console/integrations/"+in.ID, "Edit "+in.Name
	}
	s.render(w, status, "integration_form", s.view(q, title, "integrations", d))
	return nil
}

func (s *Server) newIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderIntegrationForm(w, q, nil, newIntegrationForm(), nil, http.StatusOK)
}

// checkDefaultGroups puts a default group that does not exist in errs.
func (s *Server) checkDefaultGroups(q *request, names []string, errs map[string]string) error {
	for _, name := range names {
		_, err := s.dir.Group(q.ctx, q.p.Org.Name, name)
		if directory.CodeOf(err) == directory.CodeNotFound {
			errs["defaultGroups"] = fmt.Sprintf("there is no group %q in %s: create it on the Groups page first, or take it off the list", name, q.p.Org.Name)
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// saveIntegration checks the posted form against base and creates (in
// nil) or updates the integration; a refusal shows the form again with
// each problem by its field (and never the password).
func (s *Server) saveIntegration(w http.ResponseWriter, r *http.Request, q *request, in *directory.Integration, base ldapsource.Settings) error {
	f := integrationFormOf(r)
	pw := []byte(r.PostFormValue("bindPassword"))
	defer clear(pw)
	set, errs := f.settings(base)
	if len(pw) == 0 && (in == nil || in.Secret == "") {
		errs["bindPassword"] = "give the bind account's password (it is stored encrypted and never shown again)"
	}
	if err := s.checkDefaultGroups(q, set.DefaultGroups, errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderIntegrationForm(w, q, in, f, errs, http.StatusBadRequest)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return err
	}
	input := directory.IntegrationInput{Name: f.Name, Kind: directory.KindLDAP, Settings: raw, Owned: ldapsource.Owned(&set), Default: &f.Default}
	if len(pw) > 0 {
		input.Secret = pw // else the stored one stays
	}
	var out *directory.Integration
	if in == nil {
		out, err = s.dir.CreateIntegration(q.ctx, q.p.Org.Name, input)
	} else {
		out, err = s.dir.UpdateIntegration(q.ctx, q.p.Org.Name, in.ID, input)
	}
	if err != nil {
		var de *directory.Error
		if !errors.As(err, &de) || de.Code == directory.CodeInternal || de.Code == directory.CodeNotFound || de.Code == directory.CodeForbidden {
			return err
		}
		field := strings.TrimPrefix(de.Field, "profile.")
		if de.Code != directory.CodeInvalid && de.Code != directory.CodeConflict {
			field = "" // e.g. no secret key to seal the password with
		}
		return s.renderIntegrationForm(w, q, in, f, map[string]string{field: de.Message}, http.StatusBadRequest)
	}
	if in == nil {
		q.ss.flash = "Added the LDAP directory " + out.Name + ". Test the connection, then a dry run, before the first sync."
	} else {
		q.ss.flash = "Saved the settings of " + out.Name + "."
	}
	http.Redirect(w, r, "/console/integrations/"+out.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.saveIntegration(w, r, q, nil, ldapsource.Settings{})
}

// storedSettings are in's settings as stored, not checked (a form must
// open to repair settings that no longer pass).
func storedSettings(in *directory.Integration) ldapsource.Settings {
	var set ldapsource.Settings
	_ = json.Unmarshal(in.Settings, &set)
	return set
}

func (s *Server) editIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	in, err := s.dir.Integration(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	set := storedSettings(in)
	return s.renderIntegrationForm(w, q, in, formOfSettings(in, &set), nil, http.StatusOK)
}

func (s *Server) updateIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	in, err := s.dir.Integration(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.saveIntegration(w, r, q, in, storedSettings(in))
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	in, err := s.dir.Integration(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.dir.DeleteIntegration(q.ctx, q.p.Org.Name, in.ID); err != nil {
		return err
	}
	q.ss.flash = "Deleted the directory integration " + in.Name + "; its users and groups stay, as local ones."
	http.Redirect(w, r, "/console/integrations", http.StatusSeeOther)
	return nil
}

// The integration's page: its settings, tests and runs.

type integrationData struct {
	In          *directory.Integration
	Sections    []settingSection
	Profile     []profileRow // the mapped fields
	Custom      []customRow
	SettingsErr string // the stored settings no longer pass
	Plaintext   bool   // insecurePlaintext (set with the CLI)
	CanChange   bool
	Last        *lastRunView
	Result      *integrationResult
	Login       string          // the test login form's login
	AdoptFrom   []settingOption // where users may be migrated from
}

// integrationResult is what a test or run just found.
type integrationResult struct {
	Title string
	Test  *testView
	Sync  *syncView
	Err   string // the run failed
	// Running: the run goes on after the page (Last run shows it).
	Running bool
}

type testView struct {
	OK      bool
	URL     string
	Summary string
	Steps   []stepView
}

type stepView struct {
	Name, URL, Message, Duration string
	OK                           bool
}

// ldapStepLabels name the connector's steps.
var ldapStepLabels = map[string]string{
	ldapsource.StepConnect: "Connect", ldapsource.StepTLS: "TLS", ldapsource.StepBind: "Bind",
	ldapsource.StepSearch: "Search", ldapsource.StepFindUser: "Find user", ldapsource.StepBindAsUser: "Bind as user",
	"settings": "Settings",
}

func ldapStepLabel(name string) string {
	if l, ok := ldapStepLabels[name]; ok {
		return l
	}
	return name
}

func stepDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func testViewOf(r *ldapsource.TestReport) *testView {
	v := &testView{OK: r.OK, URL: r.URL}
	for _, st := range r.Steps {
		v.Steps = append(v.Steps, stepView{Name: ldapStepLabel(st.Name), URL: st.URL, Message: st.Message, Duration: stepDuration(st.Duration), OK: st.OK})
	}
	switch f := r.Failed(); {
	case r.OK:
		v.Summary = "Passed, with " + r.URL + "."
	case f != nil:
		v.Summary = "Failed at step " + ldapStepLabel(f.Name) + ": " + f.Message
	case r.Err != nil:
		v.Summary = "Failed: " + r.Err.Error()
	default:
		v.Summary = "Failed."
	}
	return v
}

// syncView is a sync report as the page shows it.
type syncView struct {
	ID          string // the prefix of its elements' ids
	DryRun      bool
	Incremental bool // the run read only the users changed since the last
	Users       []countRow
	Groups      []countRow
	Examples    []exampleRow
	Duplicates  []string
	DupMore     int
	Skipped     []directory.SyncSkip
	SkipMore    int
	Took        string
}

type countRow struct {
	ID, Label string
	N         int
}

type exampleRow struct {
	Label string
	Names []string
}

// syncListed bounds the duplicate emails and skips a report lists.
const syncListed = 20

func syncViewOf(id string, r *directory.SyncReport) *syncView {
	v := &syncView{ID: id, DryRun: r.DryRun, Incremental: r.Incremental,
		Users: []countRow{{"users", "In the source", r.Users}, {"created", "Created", r.Created}, {"adopted", "Migrated", r.Adopted}, {"updated", "Updated", r.Updated},
			{"reactivated", "Reactivated", r.Reactivated}, {"deactivated", "Deactivated", r.Deactivated},
			{"suspended", "Suspended", r.Suspended}, {"unchanged", "Unchanged", r.Unchanged}},
		Groups: []countRow{{"groups", "In the source", r.Groups}, {"groupsCreated", "Created", r.GroupsCreated},
			{"groupsUpdated", "Updated", r.GroupsUpdated}, {"membersAdded", "Members added", r.MembersAdded},
			{"membersRemoved", "Members removed", r.MembersRemoved}},
	}
	if r.Incremental {
		v.Users[0].Label = "Changed in the source"
	}
	if r.DryRun {
		for i, l := range []string{"", "To create", "To migrate", "To update", "To reactivate", "To deactivate", "To suspend", ""} {
			if l != "" {
				v.Users[i].Label = l
			}
		}
		for i, l := range []string{"", "To create", "To update", "Members to add", "Members to remove"} {
			if l != "" {
				v.Groups[i].Label = l
			}
		}
	}
	for _, k := range []struct{ kind, label string }{{"created", "Created"}, {"adopted", "Migrated"}, {"updated", "Updated"}, {"reactivated", "Reactivated"},
		{"deactivated", "Deactivated"}, {"suspended", "Suspended"}, {"groupsCreated", "Groups created"},
		{"membersAdded", "Members added"}, {"membersRemoved", "Members removed"}} {
		if names := r.Examples[k.kind]; len(names) > 0 {
			v.Examples = append(v.Examples, exampleRow{Label: k.label, Names: names})
		}
	}
	v.Duplicates = r.DuplicateEmails[:min(len(r.DuplicateEmails), syncListed)]
	v.DupMore = len(r.DuplicateEmails) - len(v.Duplicates)
	v.Skipped = r.Skipped[:min(len(r.Skipped), syncListed)]
	v.SkipMore = len(r.Skipped) - len(v.Skipped)
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		v.Took = stepDuration(r.Finished.Sub(r.Started))
	}
	return v
}

func (s *Server) integration(w http.ResponseWriter, r *http.Request, q *request) error {
	in, err := s.dir.Integration(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderIntegration(w, q, in, nil, "")
}

func (s *Server) renderIntegration(w http.ResponseWriter, q *request, in *directory.Integration, res *integrationResult, login string) error {
	set := storedSettings(in)
	f0 := formOfSettings(in, &set)
	d := integrationData{In: in, Sections: f0.sections(nil, in), Plaintext: set.InsecurePlaintext,
		CanChange: q.p.Allow(integrationPerm) == nil, Last: s.lastRunOf(in), Result: res, Login: login}
	if _, err := ldapsource.SettingsOf(in); err != nil {
		d.SettingsErr = err.Error()
	}
	d.AdoptFrom = []settingOption{{Value: "local", Label: "Local users (of no integration)"}}
	if d.CanChange {
		others, err := s.dir.Integrations(q.ctx, q.p.Org.Name)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != in.ID {
				d.AdoptFrom = append(d.AdoptFrom, settingOption{Value: o.ID, Label: "The integration " + o.Name})
			}
		}
	}
	for _, sec := range d.Sections {
		for _, p := range sec.Profile {
			if p.Value != "" {
				d.Profile = append(d.Profile, p)
			}
		}
		for _, c := range sec.Custom {
			if c.Name != "" {
				d.Custom = append(d.Custom, c)
			}
		}
	}
	for i := range d.Sections {
		showSettingFields(d.Sections[i].Fields)
	}
	if f := settingFieldNamed(d.Sections, "schedule"); f != nil && !f0.Scheduled {
		f.Show = []string{"none: synced only with Sync now"}
	}
	if f := settingFieldNamed(d.Sections, "default"); f != nil {
		f.Label, f.Show = "The org's default directory", []string{map[bool]string{true: "yes", false: "no"}[in.Default]}
	}
	s.render(w, http.StatusOK, "integration", s.view(q, in.Name, "integrations", d))
	return nil
}

// showSettingFields sets how the settings page shows each field's value.
func showSettingFields(fs []settingField) {
	for i := range fs {
		f := &fs[i]
		showSettingFields(f.Fields)
		if f.Show != nil {
			continue
		}
		switch f.Kind {
		case "checkbox":
			f.Show = []string{"off"}
			if f.Checked {
				f.Show = []string{"on"}
			}
		case "select", "radio":
			for _, o := range f.Options {
				if o.Selected {
					f.Show = []string{o.Label}
				}
			}
		case "password":
		default:
			f.Show = nonEmptyLines(f.Value)
		}
		switch f.Name {
		case "caCert":
			if f.Value != "" {
				f.Show, f.Pre = caCertSummary(f.Value), f.Value
			}
		case "externalEndpoint":
			if u, err := url.Parse(f.Value); err == nil && u.User != nil {
				f.Show = []string{u.Redacted()}
			}
		case "schedule":
			if len(f.Show) == 0 {
				f.Show = []string{ldapsource.DefaultSchedule}
			}
		}
	}
}

// settingFieldNamed is the field name of secs, or nil.
func settingFieldNamed(secs []settingSection, name string) *settingField {
	var find func(fs []settingField) *settingField
	find = func(fs []settingField) *settingField {
		for i := range fs {
			if fs[i].Name == name {
				return &fs[i]
			}
			if f := find(fs[i].Fields); f != nil {
				return f
			}
		}
		return nil
	}
	for i := range secs {
		if f := find(secs[i].Fields); f != nil {
			return f
		}
	}
	return nil
}

// caCertSummary names the certificates of a PEM bundle: subject and expiry.
func caCertSummary(b string) []string {
	var out []string
	rest := []byte(b)
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			out = append(out, "a certificate that does not parse")
			continue
		}
		out = append(out, fmt.Sprintf("%s (valid until %s)", c.Subject, c.NotAfter.UTC().Format("2006-01-02")))
	}
	if len(out) == 0 {
		out = []string{"no PEM certificate"}
	}
	return out
}

// openIntegration is the integration of the request with its settings
// and bind password, for a test or a run; a problem with them is the
// result to show.
func (s *Server) openIntegration(r *http.Request, q *request) (*directory.Integration, *ldapsource.Settings, []byte, string, error) {
	in, err := s.dir.Integration(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return nil, nil, nil, "", err
	}
	set, err := ldapsource.SettingsOf(in)
	if err != nil {
		return in, nil, nil, err.Error() + " Edit the settings first.", nil
	}
	pw, err := s.dir.IntegrationSecret(in)
	if err != nil {
		if msg := s.runError(r, err); msg != "" {
			return in, nil, nil, msg, nil
		}
		return nil, nil, nil, "", err
	}
	return in, set, pw, "", nil
}

// runError is what the page says of a failed test or run: the
// connector's messages are written for the admin (and never hold a
// password), the directory's are safe to show; an internal error is
// logged, not shown.
func (s *Server) runError(r *http.Request, err error) string {
	var de *directory.Error
	if errors.As(err, &de) && de.Code == directory.CodeInternal {
		s.log.Error("console: integration run failed", "path", r.URL.Path, "err", err)
		return "Something went wrong inside dirgate; the server's log says what."
	}
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

func (s *Server) testIntegrationConnection(w http.ResponseWriter, r *http.Request, q *request) error {
	in, set, pw, msg, err := s.openIntegration(r, q)
	if err != nil {
		return err
	}
	defer clear(pw)
	res := &integrationResult{Title: "Test connection", Err: msg}
	if msg == "" {
		res.Test = testViewOf(ldapsource.TestConnection(q.ctx, set, pw))
	}
	return s.renderIntegration(w, q, in, res, "")
}

func (s *Server) testIntegrationLogin(w http.ResponseWriter, r *http.Request, q *request) error {
	login := strings.TrimSpace(r.PostFormValue("login"))
	upw := []byte(r.PostFormValue("password"))
	defer clear(upw)
	in, set, pw, msg, err := s.openIntegration(r, q)
	if err != nil {
		return err
	}
	defer clear(pw)
	res := &integrationResult{Title: "Test user login: " + login, Err: msg}
	switch {
	case msg != "":
	case login == "" || len(upw) == 0:
		res.Title, res.Err = "Test user login", "Give the login of a user of the source and their password."
	default:
		res.Test = testViewOf(ldapsource.TestLogin(q.ctx, set, pw, login, upw))
	}
	return s.renderIntegration(w, q, in, res, login)
}

func (s *Server) testIntegrationSync(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.runIntegration(w, r, q, true)
}

func (s *Server) syncIntegration(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.runIntegration(w, r, q, false)
}

// runIntegration runs a sync (a dry run: nothing written) and shows its
// report. The form may ask for a full run (full) and a migration (adopt:
// "local" or another integration's id, adoptBy: login or email). A real
// run goes on after the request (s.runner): the page waits
// Config.SyncWait for it, then says it goes on; its report is then the
// page's Last run.
func (s *Server) runIntegration(w http.ResponseWriter, r *http.Request, q *request, dry bool) error {
	in, _, pw, msg, err := s.openIntegration(r, q)
	if err != nil {
		return err
	}
	clear(pw) // the run opens it again
	ro := ldapsource.RunOptions{DryRun: dry, Full: r.PostFormValue("full") == "on", Adopt: r.PostFormValue("adopt"), AdoptBy: r.PostFormValue("adoptBy")}
	res := &integrationResult{Title: "Sync now", Err: msg}
	switch {
	case ro.Adopt != "" && dry:
		res.Title = "Preview the migration (dry run: nothing was written)"
	case ro.Adopt != "":
		res.Title = "Migrate users"
	case dry:
		res.Title = "Test sync (dry run: nothing was written)"
	case ro.Full:
		res.Title = "Full sync"
	}
	if msg != "" {
		return s.renderIntegration(w, q, in, res, "")
	}
	var rep *directory.SyncReport
	if dry {
		rep, err = ldapsource.RunWith(q.ctx, s.dir, q.p.Org.Name, in, ro, s.log)
	} else {
		job, started := s.runner.Start(q.p.Org.Name, in, ro)
		switch {
		case !started:
			res.Err = fmt.Sprintf("A sync of this integration is running on this server (started %s): its report will be under Last run.", runTime(job.Started))
		case !job.Wait(q.ctx, cmp.Or(s.cfg.SyncWait, DefaultSyncWait)):
			res.Running = true
		default:
			rep, err = job.Result()
		}
	}
	if err != nil {
		res.Err = s.runError(r, err)
	}
	if rep != nil {
		id := "sync"
		if dry {
			id = "dry"
		}
		res.Sync = syncViewOf(id, rep)
	}
	if !dry { // its state changed: the last run
		if in, err = s.dir.Integration(q.ctx, q.p.Org.Name, in.ID); err != nil {
			return err
		}
	}
	return s.renderIntegration(w, q, in, res, "")
}

// DefaultSyncWait is how long Sync now waits for its run before the page
// says it goes on.
const DefaultSyncWait = 15 * time.Second
