package ldapsource

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"
)

// SourceUser is a user entry as read from the source.
type SourceUser struct {
	// DN is the entry's DN as the server spells it (NormalizeDN makes it
	// comparable).
	DN string
	// Login is the login attribute's value, in lower case with
	// Settings.CaseInsensitive.
	Login string
	// ExternalID identifies the entry across renames: entryUUID, else
	// objectGUID in its usual text form (Active Directory's byte order),
	// else the normalised DN.
	ExternalID string
	// Attrs are the attributes read, by lower-cased name (objectguid in
	// text form).
	Attrs map[string][]string
	// Modified is the later of modifyTimestamp and whenChanged; zero when
	// the entry has neither.
	Modified time.Time
}

// Attr is the first value of the attribute name (any case), or "".
func (u *SourceUser) Attr(name string) string {
	if v := u.Attrs[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// SourceGroup is a group entry as read from the source.
type SourceGroup struct {
	DN          string
	Name        string // Settings.GroupNameAttr
	Description string
	ExternalID  string // as SourceUser.ExternalID
	// Members are the values of Settings.GroupMemberAttr: normalised DNs
	// (member form dn) or logins (form login, in lower case with
	// CaseInsensitive), each once, in the server's order.
	Members  []string
	Modified time.Time
}

// Skip is an entry a read left out, and why.
type Skip struct {
	DN, Reason string
}

// DefaultGroupFilter selects the usual group classes of OpenLDAP and
// Active Directory.
const DefaultGroupFilter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))"

// Attributes every read asks for besides the configured ones.
var (
	idAttrs   = []string{"entryUUID", "objectGUID"}
	timeAttrs = []string{"modifyTimestamp", "whenChanged"}
)

// UserFilter is the filter users are searched with.
func (c *Client) userFilter() string {
	if c.s.UserAttribute != "" {
		return "(" + c.s.UserAttribute + "=*)"
	}
	return strings.TrimSpace(c.s.UserFilter)
}

// userAttributes are the attributes a user read asks for: the login, the
// profile's and the synced attributes, the ids and the timestamps, each
// once.
func (c *Client) userAttributes() []string {
	attrs := []string{c.s.LoginAttribute}
	profile := make([]string, 0, len(c.s.Profile))
	for _, a := range c.s.Profile {
		profile = append(profile, a)
	}
	sort.Strings(profile)
	attrs = append(attrs, profile...)
	attrs = append(attrs, c.s.Attributes...)
	attrs = append(attrs, timeAttrs...)
	attrs = append(attrs, idAttrs...)
	return uniqueFold(attrs)
}

// uniqueFold drops empty and repeated (in any case) names.
func uniqueFold(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0:0]
	for _, n := range names {
		n = strings.TrimSpace(n)
		k := strings.ToLower(n)
		if n == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
	}
	return out
}

// Users reads every user of the user search (s.UserBase, subtree, with
// (UserAttribute=*) or UserFilter), paged when s.Paging. An entry without
// the login attribute is left out and listed in the skips. A server that
// stops at a size limit makes it fail (a *StepError holding a
// *SizeLimitError): a truncated list is never returned.
func (c *Client) Users(ctx context.Context) ([]SourceUser, []Skip, error) {
	if strings.TrimSpace(c.s.UserBase) == "" {
		return nil, nil, bad("userSearchBase", "give the base DN under which users are searched")
	}
	filter := c.userFilter()
	if filter == "" {
		return nil, nil, bad("userAttribute", "give a user attribute (e.g. uid or sAMAccountName) or a user search filter")
	}
	t0 := time.Now()
	entries, err := c.search(ctx, c.s.UserBase, filter, c.userAttributes())
	if err != nil {
		return nil, nil, err
	}
	users := make([]SourceUser, 0, len(entries))
	var skips []Skip
	for _, e := range entries {
		u, reason := c.toUser(e)
		if reason != "" {
			skips = append(skips, Skip{DN: e.DN, Reason: reason})
			continue
		}
		users = append(users, u)
	}
	c.log.Log(ctx, c.level, "ldap: users read", "url", c.url, "users", len(users), "skipped", len(skips), "duration", time.Since(t0))
	return users, skips, nil
}

// UsersChanged is an incremental read: every user of the user search with
// its ids and modification time only (present, to tell removals and to
// resolve group members), and the users modified at or after since with
// every attribute (changed). It needs the source to keep modifyTimestamp
// or whenChanged.
func (c *Client) UsersChanged(ctx context.Context, since time.Time) (present, changed []SourceUser, skips []Skip, err error) {
	filter := c.userFilter()
	if strings.TrimSpace(c.s.UserBase) == "" || filter == "" {
		return nil, nil, nil, bad("userSearchBase", "give the user search base and a user attribute or filter")
	}
	light := uniqueFold(append(append([]string{c.s.LoginAttribute}, timeAttrs...), idAttrs...))
	entries, err := c.search(ctx, c.s.UserBase, filter, light)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, e := range entries {
		u, reason := c.toUser(e)
		if reason != "" {
			skips = append(skips, Skip{DN: e.DN, Reason: reason})
			continue
		}
		present = append(present, u)
	}
	g := since.UTC().Format("20060102150405Z")
	changedFilter := "(&" + filter + "(|(modifyTimestamp>=" + g + ")(whenChanged>=" + g + ")))"
	entries, err = c.search(ctx, c.s.UserBase, changedFilter, c.userAttributes())
	if err != nil {
		return nil, nil, nil, err
	}
	for _, e := range entries {
		if u, reason := c.toUser(e); reason == "" {
			changed = append(changed, u)
		}
	}
	c.log.Log(ctx, c.level, "ldap: users read incrementally", "url", c.url, "present", len(present), "changed", len(changed), "since", g)
	return present, changed, skips, nil
}

func (c *Client) toUser(e *ldap.Entry) (SourceUser, string) {
	login := ""
	for _, v := range e.GetEqualFoldAttributeValues(c.s.LoginAttribute) {
		if v = strings.TrimSpace(v); v != "" {
			login = v
			break
		}
	}
	if login == "" {
		return SourceUser{}, "no " + c.s.LoginAttribute + " attribute (the login)"
	}
	if c.s.CaseInsensitive {
		login = strings.ToLower(login)
	}
	attrs := entryAttrs(e)
	return SourceUser{
		DN:         e.DN,
		Login:      login,
		ExternalID: externalID(e.DN, attrs),
		Attrs:      attrs,
		Modified:   modified(attrs),
	}, ""
}

// entryAttrs are e's attributes by lower-cased name, objectGUID in text
// form.
func entryAttrs(e *ldap.Entry) map[string][]string {
	m := make(map[string][]string, len(e.Attributes))
	for _, a := range e.Attributes {
		name := strings.ToLower(a.Name)
		vals := a.Values
		if name == "objectguid" {
			vals = make([]string, len(a.ByteValues))
			for i, b := range a.ByteValues {
				vals[i] = FormatGUID(b)
			}
		}
		m[name] = append(m[name], vals...)
	}
	return m
}

func externalID(dn string, attrs map[string][]string) string {
	if v := attrs["entryuuid"]; len(v) > 0 && v[0] != "" {
		return strings.ToLower(v[0])
	}
	if v := attrs["objectguid"]; len(v) > 0 && v[0] != "" {
		return v[0]
	}
	return NormalizeDN(dn)
}

// modified is the later of modifyTimestamp and whenChanged.
func modified(attrs map[string][]string) time.Time {
	var t time.Time
	for _, a := range []string{"modifytimestamp", "whenchanged"} {
		if v := attrs[a]; len(v) > 0 {
			if p, err := ParseGeneralizedTime(v[0]); err == nil && p.After(t) {
				t = p
			}
		}
	}
	return t
}

// ParseGeneralizedTime parses an LDAP GeneralizedTime (RFC 4517 3.3.13:
// "20240301080000Z", Active Directory's "20240301080000.0Z", an offset
// instead of Z) into UTC.
func ParseGeneralizedTime(v string) (time.Time, error) {
	t, err := ber.ParseGeneralizedTime([]byte(strings.TrimSpace(v)))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a generalized time: %w", v, err)
	}
	return t.UTC(), nil
}

// FormatGUID is Active Directory's usual text form of an objectGUID
// (the first three fields little-endian, as AD stores them), in lower
// case. A value that is not 16 bytes is returned as a UUID in text when it
// is one, else in hex.
func FormatGUID(b []byte) string {
	if len(b) == 16 {
		var u uuid.UUID
		u[0], u[1], u[2], u[3] = b[3], b[2], b[1], b[0]
		u[4], u[5] = b[5], b[4]
		u[6], u[7] = b[7], b[6]
		copy(u[8:], b[8:])
		return u.String()
	}
	if u, err := uuid.ParseBytes(b); err == nil {
		return u.String()
	}
	return hex.EncodeToString(b)
}

// Groups reads the groups under s.GroupBase (subtree) with s.GroupFilter
// or DefaultGroupFilter, with their members from s.GroupMemberAttr
// (fetched in ranges when Active Directory returns member;range=…). It
// returns nothing when s.GroupBase is empty. A group without its name
// attribute is left out and listed in the skips.
func (c *Client) Groups(ctx context.Context) ([]SourceGroup, []Skip, error) {
	if strings.TrimSpace(c.s.GroupBase) == "" {
		return nil, nil, nil
	}
	filter := strings.TrimSpace(c.s.GroupFilter)
	if filter == "" {
		filter = DefaultGroupFilter
	}
	t0 := time.Now()
	attrs := uniqueFold(append([]string{c.s.GroupNameAttr, "description", c.s.GroupMemberAttr}, append(timeAttrs, idAttrs...)...))
	entries, err := c.search(ctx, c.s.GroupBase, filter, attrs)
	if err != nil {
		return nil, nil, err
	}
	groups := make([]SourceGroup, 0, len(entries))
	var skips []Skip
	for _, e := range entries {
		name := strings.TrimSpace(e.GetEqualFoldAttributeValue(c.s.GroupNameAttr))
		if name == "" {
			skips = append(skips, Skip{DN: e.DN, Reason: "no " + c.s.GroupNameAttr + " attribute (the group's name)"})
			continue
		}
		raw, err := c.memberValues(ctx, e)
		if err != nil {
			return nil, nil, err
		}
		ea := entryAttrs(e)
		groups = append(groups, SourceGroup{
			DN:          e.DN,
			Name:        name,
			Description: e.GetEqualFoldAttributeValue("description"),
			ExternalID:  externalID(e.DN, ea),
			Members:     c.members(raw),
			Modified:    modified(ea),
		})
	}
	c.log.Log(ctx, c.level, "ldap: groups read", "url", c.url, "groups", len(groups), "skipped", len(skips), "duration", time.Since(t0))
	return groups, skips, nil
}

// uniqueMemberUID is the optional UID of a nameAndOptionalUID value
// (uniqueMember: "cn=x,dc=y#'0101'B").
var uniqueMemberUID = regexp.MustCompile(`#'[01]*'B$`)

// members are the member values as SourceGroup.Members has them.
func (c *Client) members(raw []string) []string {
	out := make([]string, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for _, v := range raw {
		v = strings.TrimSpace(v)
		if c.s.GroupMemberForm == MemberLogin {
			if c.s.CaseInsensitive {
				v = strings.ToLower(v)
			}
		} else if v != "" {
			if _, err := ldap.ParseDN(v); err != nil && uniqueMemberUID.MatchString(v) {
				v = uniqueMemberUID.ReplaceAllString(v, "")
			}
			v = NormalizeDN(v)
		}
		if v == "" || seen[v] {
			continue // groupOfNames' placeholder empty member, repeats
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// memberValues are e's values of the member attribute, all of them: when
// the server returns them in ranges (Active Directory, past MaxValRange:
// member;range=0-1499), the rest is fetched range by range.
func (c *Client) memberValues(ctx context.Context, e *ldap.Entry) ([]string, error) {
	attr := c.s.GroupMemberAttr
	vals := slices.Clone(e.GetEqualFoldAttributeValues(attr))
	for _, a := range e.Attributes {
		_, hi, ok := parseRange(a.Name, attr)
		if !ok {
			continue
		}
		vals = append(vals, a.Values...)
		for rounds := 0; hi >= 0; rounds++ {
			if rounds > 100_000 {
				return nil, &StepError{Step: StepSearch, URL: c.url, Err: fmt.Errorf("reading the members of %s in ranges does not end", e.DN)}
			}
			next := hi + 1
			req := ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{fmt.Sprintf("%s;range=%d-*", attr, next)}, nil)
			entries, _, err := c.do(ctx, req, false)
			if err != nil {
				return nil, err
			}
			found := false
			if len(entries) == 1 {
				for _, b := range entries[0].Attributes {
					lo, h, ok := parseRange(b.Name, attr)
					if !ok {
						continue
					}
					if lo != next {
						return nil, &StepError{Step: StepSearch, URL: c.url,
							Err: fmt.Errorf("the members of %s: asked for the range from %d, got %s", e.DN, next, b.Name)}
					}
					vals = append(vals, b.Values...)
					hi, found = h, true
					break
				}
			}
			if !found {
				return nil, &StepError{Step: StepSearch, URL: c.url,
					Err: fmt.Errorf("the members of %s: the server returned no range from %d", e.DN, next)}
			}
		}
	}
	return vals, nil
}

// parseRange reads an attribute description "member;range=1500-2999"
// ("member;range=1500-*" for the last range: hi -1) for attribute attr.
func parseRange(name, attr string) (lo, hi int, ok bool) {
	prefix := strings.ToLower(attr) + ";range="
	if !strings.HasPrefix(strings.ToLower(name), prefix) {
		return 0, 0, false
	}
	l, h, cut := strings.Cut(name[len(prefix):], "-")
	if !cut {
		return 0, 0, false
	}
	lo, err := strconv.Atoi(l)
	if err != nil || lo < 0 {
		return 0, 0, false
	}
	if h == "*" {
		return lo, -1, true
	}
	hi, err = strconv.Atoi(h)
	if err != nil || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

// NormalizeDN is dn in a canonical form for comparison: attribute types
// and values in lower case, spaces around separators dropped, escapes
// reduced to those RFC 4514 requires, a multi-valued RDN's parts sorted;
// so that "CN=O'Brien\, Seán, OU=Staff,DC=corp,DC=example" and
// "cn=o'brien\2c seán,ou=staff,dc=corp,dc=example" are equal. A DN that
// does not parse is lower-cased and trimmed.
func NormalizeDN(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, r := range d.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(r.Attributes))
		for j, a := range r.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + escapeDNValue(strings.ToLower(a.Value))
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}

// escapeDNValue escapes what RFC 4514 2.4 requires, and nothing else (UTF-8
// stays as it is).
func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case strings.IndexByte(`"+,;<>\`, ch) >= 0,
			i == 0 && (ch == ' ' || ch == '#'),
			i == len(v)-1 && ch == ' ':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch == 0:
			b.WriteString(`\00`)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// MemberResolver maps groups' members to the users read in the same
// sync: by normalised DN (member form dn) or login (form login).
type MemberResolver struct {
	form  string
	keys  map[string]int // normalised DN or login → index in users
	users []SourceUser
}

// NewMemberResolver indexes users by what s's member form names them by:
// the normalised DN (dn) or the login (login).
func NewMemberResolver(s *Settings, users []SourceUser) *MemberResolver {
	form := MemberDN
	if es, err := effective(s); err == nil {
		form = es.GroupMemberForm
	} else if s != nil && s.GroupMemberForm != "" {
		form = s.GroupMemberForm
	}
	r := &MemberResolver{form: form, keys: make(map[string]int, len(users)), users: users}
	for i, u := range users {
		k := u.Login
		if form == MemberDN {
			k = NormalizeDN(u.DN)
		}
		r.keys[k] = i
	}
	return r
}

// Logins are the logins of g's members that are users, in g's order, and
// the members that are not (nested groups, entries outside the user
// search).
func (r *MemberResolver) Logins(g SourceGroup) (logins, unresolved []string) {
	return r.resolve(g, func(u *SourceUser) string { return u.Login })
}

// ExternalIDs are Logins, as the users' external ids.
func (r *MemberResolver) ExternalIDs(g SourceGroup) (ids, unresolved []string) {
	return r.resolve(g, func(u *SourceUser) string { return u.ExternalID })
}

func (r *MemberResolver) resolve(g SourceGroup, of func(*SourceUser) string) (out, unresolved []string) {
	for _, m := range g.Members {
		if i, ok := r.keys[m]; ok {
			out = append(out, of(&r.users[i]))
		} else {
			unresolved = append(unresolved, m)
		}
	}
	return out, unresolved
}

// search runs a subtree search under base, paged with s.PageSize when
// s.Paging. A server's size limit is an error (a *SizeLimitError in a
// *StepError), never a truncated result.
func (c *Client) search(ctx context.Context, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	entries, _, err := c.do(ctx, req, c.s.Paging)
	return entries, err
}

func scopeName(scope int) string {
	switch scope {
	case ldap.ScopeBaseObject:
		return "base"
	case ldap.ScopeSingleLevel:
		return "one"
	case ldap.ScopeWholeSubtree:
		return "sub"
	}
	return strconv.Itoa(scope)
}

// do runs req, page by page when paged, each request bounded by s.Timeout
// (and by ctx: cancelling it closes the connection). It logs the request
// and its result at the client's level.
func (c *Client) do(ctx context.Context, req *ldap.SearchRequest, paged bool) ([]*ldap.Entry, int, error) {
	if c.conn == nil || c.conn.IsClosing() {
		return nil, 0, &StepError{Step: StepSearch, URL: c.url, Err: errors.New("the connection to the LDAP server is closed"), Hint: "connect again"}
	}
	if _, err := ldap.CompileFilter(req.Filter); err != nil {
		return nil, 0, &StepError{Step: StepSearch, URL: c.url,
			Err:  &causeError{msg: fmt.Sprintf("the filter %s is not valid: %s", req.Filter, strings.TrimPrefix(errors.Unwrap(err).Error(), "ldap: ")), err: err},
			Hint: "check the search filter (RFC 4515), e.g. (&(objectClass=person)(uid=*))"}
	}
	timeout := c.s.timeout()
	req.TimeLimit = max(1, int(timeout/time.Second))
	var ctl *ldap.ControlPaging
	if paged {
		ctl = ldap.NewControlPaging(uint32(c.s.PageSize))
		req.Controls = append(req.Controls, ctl)
	}
	logArgs := []any{"url", c.url, "base", req.BaseDN, "scope", scopeName(req.Scope), "filter", req.Filter, "attributes", req.Attributes, "paged", paged}
	if paged {
		logArgs = append(logArgs, "pageSize", c.s.PageSize)
	}
	if req.SizeLimit > 0 {
		logArgs = append(logArgs, "sizeLimit", req.SizeLimit)
	}
	c.log.Log(ctx, c.level, "ldap: search", logArgs...)

	t0 := time.Now()
	var entries []*ldap.Entry
	pages, referrals := 0, 0
	var err error
	for {
		var res *ldap.SearchResult
		err = withContext(ctx, c.conn, func() error {
			var e error
			res, e = c.conn.Search(req)
			return e
		})
		pages++
		if res != nil {
			entries = append(entries, res.Entries...)
			referrals += len(res.Referrals)
		}
		if err != nil || !paged || res == nil {
			break
		}
		pc, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(pc.Cookie) == 0 {
			break // the last page (or a server that ignored paging and sent all)
		}
		ctl.SetCookie(pc.Cookie)
	}
	resultArgs := []any{"url", c.url, "base", req.BaseDN, "filter", req.Filter, "entries", len(entries), "pages", pages, "duration", time.Since(t0)}
	if referrals > 0 {
		resultArgs = append(resultArgs, "referralsIgnored", referrals)
	}
	if err != nil {
		serr := c.searchError(ctx, req, paged, len(entries), err)
		c.log.Log(ctx, c.level, "ldap: search failed", append(resultArgs, "error", serr.Error())...)
		return nil, pages, serr
	}
	c.log.Log(ctx, c.level, "ldap: search done", resultArgs...)
	return entries, pages, nil
}

func (c *Client) searchError(ctx context.Context, req *ldap.SearchRequest, paged bool, n int, err error) *StepError {
	se := &StepError{Step: StepSearch, URL: c.url}
	what := fmt.Sprintf("search under %s for %s", req.BaseDN, req.Filter)
	fail := func(reason string) error { return &causeError{msg: what + " failed: " + reason, err: err} }
	var le *ldap.Error
	isLDAP := errors.As(err, &le)
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		se.Err = fail("cancelled")
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			se.Err = fail("the deadline passed")
		}
	case isLDAP && le.ResultCode == ldap.LDAPResultSizeLimitExceeded:
		se.Err = &SizeLimitError{Returned: n, Paged: paged}
		if paged {
			se.Hint = "the server bounds a paged search's total too: raise the sync account's limit (OpenLDAP: size.prtotal; Active Directory: MaxResultSetSize) or narrow the search base or filter; dirgate does not sync a truncated list"
		} else {
			se.Hint = "turn paging on (page size ≤ the server's limit) or raise the limit; dirgate does not sync a truncated list"
		}
		if req.SizeLimit > 0 {
			se.Hint = fmt.Sprintf("more than the %d entries asked for match", req.SizeLimit)
		}
	case isLDAP && le.ResultCode == ldap.LDAPResultAdminLimitExceeded && paged:
		se.Err = fail(fmt.Sprintf("the server refused pages of %d entries: %s", c.s.PageSize, describeLDAP(err)))
		se.Hint = "lower the page size to the server's largest (OpenLDAP: size.pr; Active Directory: MaxPageSize)"
	case isLDAP && le.ResultCode == ldap.LDAPResultAdminLimitExceeded:
		se.Err = fail(describeLDAP(err))
		se.Hint = "the server stopped the search at an administrative limit: turn paging on, or raise the server's limits; dirgate does not sync a truncated list"
	case isLDAP && le.ResultCode == ldap.LDAPResultTimeLimitExceeded:
		se.Err = fail(describeLDAP(err))
		se.Hint = "the search took longer than the timeout allows: raise the timeout, or narrow the search base or filter; dirgate does not sync a truncated list"
	case isLDAP && le.ResultCode == ldap.LDAPResultNoSuchObject:
		se.Err = fail(fmt.Sprintf("the base %s does not exist: %s", req.BaseDN, describeLDAP(err)))
		se.Hint = "check the search base"
		if le.MatchedDN != "" {
			se.Hint += " (the server has " + le.MatchedDN + ")"
		}
	case isLDAP && le.ResultCode == ldap.LDAPResultInsufficientAccessRights:
		se.Err = fail(describeLDAP(err))
		se.Hint = "give the bind account read access to the search base"
	case isLDAP && le.ResultCode == ldap.LDAPResultUnavailableCriticalExtension && paged:
		se.Err = fail(describeLDAP(err))
		se.Hint = "the server does not support paged results: turn paging off"
	case isLDAP && le.ResultCode == ldap.LDAPResultReferral:
		se.Err = fail(describeLDAP(err))
		se.Hint = "this server does not hold the search base (it refers elsewhere): use the base's own server, or a base this server holds"
	case isLDAP && le.ResultCode == ldap.LDAPResultInvalidDNSyntax:
		se.Err = fail(describeLDAP(err))
		se.Hint = "the search base is not a valid DN (e.g. ou=people,dc=example,dc=com)"
	case isLDAP && le.ResultCode == ldap.ErrorNetwork && strings.Contains(le.Error(), "timed out"):
		se.Err = fail(fmt.Sprintf("no answer within %s", c.s.timeout()))
		se.Hint = "the server is slow or the search is large: raise the timeout, turn paging on, or narrow the search"
	case isLDAP && le.ResultCode == ldap.ErrorNetwork:
		se.Err = fail("the connection was lost: " + describeLDAP(err))
		se.Hint = "try again; check the server's logs"
	default:
		se.Err = fail(describeLDAP(err))
	}
	return se
}
