package ldapsource

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
)

// settingsFor are valid settings (Normalize passes) for srv, reading users
// by the login attribute and groups under GroupsBase, over urls (default:
// StartTLS on srv.URL), trusting srv's CA.
func settingsFor(t *testing.T, srv *ldaptest.Server, urls ...string) *Settings {
	t.Helper()
	if len(urls) == 0 {
		urls = []string{srv.URL}
	}
	s := &Settings{
		URLs:          urls,
		StartTLS:      true,
		CACert:        readFile(t, srv.CAFile),
		BindDN:        srv.BindDN,
		UserBase:      srv.UsersBase,
		UserAttribute: srv.LoginAttr,
		GroupBase:     srv.GroupsBase,
		Paging:        true,
		Timeout:       Duration(20 * time.Second),
	}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	return s
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dialT(t *testing.T, s *Settings, pw string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), s, []byte(pw), nil)
	if err != nil {
		t.Fatalf("Dial(%v): %v", s.URLs, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func stepError(t *testing.T, err error, step string) *StepError {
	t.Helper()
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *StepError", err, err)
	}
	if se.Step != step {
		t.Fatalf("step %q, want %q: %v", se.Step, step, err)
	}
	return se
}

func stepNames(r *TestReport) []string {
	var names []string
	for _, st := range r.Steps {
		ok := "ok"
		if !st.OK {
			ok = "FAIL"
		}
		names = append(names, st.Name+" "+ok)
	}
	return names
}

// noSecrets fails when a password shows in a report or an error.
func noSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a password shows in %q", text)
		}
	}
}

func reportText(r *TestReport) string {
	b, _ := json.Marshal(r)
	s := string(b)
	if r.Err != nil {
		s += " " + r.Err.Error()
	}
	return s
}

// TestDial connects to a small OpenLDAP source every way there is:
// LDAPS, StartTLS, failover, untrusted and unreadable CAs, an unreachable
// or silent server, wrong and empty bind passwords, plaintext refused.
func TestDial(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 30, Groups: 3})
	ctx := context.Background()

	t.Run("LDAPS", func(t *testing.T) {
		c := dialT(t, settingsFor(t, srv, srv.LDAPSURL), srv.BindPassword)
		if c.URL() != srv.LDAPSURL || len(c.Failed()) != 0 {
			t.Fatalf("URL %s, failed %v", c.URL(), c.Failed())
		}
		st, ok := c.conn.TLSConnectionState()
		if !ok || st.Version < 0x0303 {
			t.Fatalf("TLS state %v %x", ok, st.Version)
		}
	})
	t.Run("StartTLS", func(t *testing.T) {
		c := dialT(t, settingsFor(t, srv, srv.URL), srv.BindPassword)
		if _, ok := c.conn.TLSConnectionState(); !ok {
			t.Fatal("no TLS after StartTLS")
		}
		users, _, err := c.Users(ctx)
		if err != nil || len(users) != len(srv.Users) {
			t.Fatalf("Users over StartTLS: %d, %v", len(users), err)
		}
		r := TestConnection(ctx, settingsFor(t, srv, srv.URL), []byte(srv.BindPassword))
		if !r.OK || !slices.Equal(stepNames(r), []string{"connect ok", "tls ok", "bind ok"}) {
			t.Fatalf("report %+v", r)
		}
		if !strings.Contains(r.Steps[1].Message, "StartTLS") {
			t.Errorf("tls step says %q", r.Steps[1].Message)
		}
	})
	t.Run("Failover", func(t *testing.T) {
		s := settingsFor(t, srv, "ldap://127.0.0.1:1", srv.LDAPSURL)
		c := dialT(t, s, srv.BindPassword)
		if c.URL() != srv.LDAPSURL {
			t.Fatalf("connected to %s", c.URL())
		}
		if f := c.Failed(); len(f) != 1 || f[0].Step != StepConnect || f[0].URL != "ldap://127.0.0.1:1" {
			t.Fatalf("failed %v", f)
		}
		r := TestConnection(ctx, s, []byte(srv.BindPassword))
		t.Logf("report: %s", reportText(r))
		if !r.OK || r.URL != srv.LDAPSURL || !slices.Equal(stepNames(r), []string{"connect FAIL", "connect ok", "tls ok", "bind ok"}) {
			t.Fatalf("report %v %+v", stepNames(r), r)
		}
		if r.Steps[0].URL != "ldap://127.0.0.1:1" || !strings.Contains(r.Steps[0].Message, "connect: 127.0.0.1:1: connection refused") {
			t.Errorf("first step %+v", r.Steps[0])
		}
		for _, st := range r.Steps {
			if st.Duration <= 0 {
				t.Errorf("step %s has no duration", st.Name)
			}
		}
	})
	t.Run("FailoverOnTLS", func(t *testing.T) {
		// ldaps:// to the plain LDAP port: TLS fails, the next URL is tried.
		notTLS := strings.Replace(srv.URL, "ldap://", "ldaps://", 1)
		s := settingsFor(t, srv, notTLS, srv.URL)
		r := TestConnection(ctx, s, []byte(srv.BindPassword))
		t.Logf("report: %s", reportText(r))
		if !r.OK || r.URL != srv.URL || !slices.Equal(stepNames(r), []string{"connect ok", "tls FAIL", "connect ok", "tls ok", "bind ok"}) {
			t.Fatalf("report %v", stepNames(r))
		}
	})
	t.Run("UntrustedCert", func(t *testing.T) {
		for _, u := range []string{srv.LDAPSURL, srv.URL} {
			s := settingsFor(t, srv, u)
			s.CACert = readFile(t, srv.OtherCAFile)
			_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
			se := stepError(t, err, StepTLS)
			var ua x509.UnknownAuthorityError
			if !errors.As(err, &ua) || se.URL != u || se.Hint == "" {
				t.Fatalf("%s: %#v", u, se)
			}
			if want := "TLS: certificate signed by unknown authority: give the server's CA certificate"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: %q, want %q…", u, err, want)
			}
		}
		// No CA given: the system's roots do not know the fixture's CA.
		s := settingsFor(t, srv, srv.LDAPSURL)
		s.CACert = ""
		_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
		if se := stepError(t, err, StepTLS); !strings.Contains(se.Hint, "caCert") {
			t.Errorf("hint %q", se.Hint)
		}
	})
	t.Run("BadCA", func(t *testing.T) {
		s := settingsFor(t, srv, srv.LDAPSURL)
		s.CACert = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
		if se := stepError(t, err, StepTLS); !strings.Contains(se.Error(), "holds no PEM certificate") {
			t.Errorf("%v", se)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		s := settingsFor(t, srv, "ldap://127.0.0.1:1")
		_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
		se := stepError(t, err, StepConnect)
		if !strings.HasPrefix(se.Error(), "connect: 127.0.0.1:1: connection refused") || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%q", se)
		}
		s = settingsFor(t, srv, "ldap://127.0.0.1:1", "ldaps://no-such-host.invalid:636")
		_, err = Dial(ctx, s, []byte(srv.BindPassword), nil)
		var de *DialError
		if !errors.As(err, &de) || len(de.Attempts) != 2 || de.Attempts[1].Step != StepConnect {
			t.Fatalf("%v", err)
		}
		stepError(t, err, StepConnect)
		t.Logf("%v", err)
		// A stopped server: its URLs refuse, like any unused port.
		other := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 1, Groups: 1})
		other.Stop()
		_, err = Dial(ctx, settingsFor(t, other, other.LDAPSURL), []byte(other.BindPassword), nil)
		stepError(t, err, StepConnect)
	})
	t.Run("Silent", func(t *testing.T) {
		// A server that accepts and never answers: TLS times out.
		s := settingsFor(t, srv, "ldaps://"+ldaptest.Silent(t))
		s.Timeout = Duration(time.Second)
		t0 := time.Now()
		_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
		se := stepError(t, err, StepTLS)
		if d := time.Since(t0); d > 5*time.Second || !strings.Contains(se.Error(), "within 1s") {
			t.Errorf("%v after %v", se, d)
		}
		// Cancelling the context stops the wait at once.
		s.Timeout = Duration(time.Minute)
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		t0 = time.Now()
		_, err = Dial(cctx, s, []byte(srv.BindPassword), nil)
		if d := time.Since(t0); err == nil || d > 5*time.Second || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v after %v", err, d)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		const wrong = "not-the-Password-42"
		s := settingsFor(t, srv, srv.URL, srv.LDAPSURL)
		_, err := Dial(ctx, s, []byte(wrong), nil)
		se := stepError(t, err, StepBind)
		var de *DialError
		if se.URL != srv.URL || errors.As(err, &de) {
			t.Fatalf("failed over on a wrong password: %v", err)
		}
		want := "bind as " + srv.BindDN + " failed: invalid credentials (49): check the bind DN and password"
		if err.Error() != want {
			t.Errorf("%q\nwant %q", err, want)
		}
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Errorf("the LDAP error is lost: %v", err)
		}
		noSecrets(t, err.Error(), wrong)
		r := TestConnection(ctx, s, []byte(wrong))
		if r.OK || !slices.Equal(stepNames(r), []string{"connect ok", "tls ok", "bind FAIL"}) || r.Failed().URL != srv.URL {
			t.Fatalf("report %v", stepNames(r))
		}
		noSecrets(t, reportText(r), wrong)

		_, err = Dial(ctx, s, nil, nil)
		if se := stepError(t, err, StepBind); !strings.Contains(se.Error(), "no password given") {
			t.Errorf("%v", se)
		}
	})
	t.Run("Plaintext", func(t *testing.T) {
		s := settingsFor(t, srv, srv.URL)
		s.StartTLS = false
		_, err := Dial(ctx, s, []byte(srv.BindPassword), nil)
		stepError(t, err, StepTLS)
		s.InsecurePlaintext = true
		c := dialT(t, s, srv.BindPassword)
		if _, ok := c.conn.TLSConnectionState(); ok {
			t.Error("TLS on a plaintext connection?")
		}
	})
	t.Run("DebugLogging", func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		s := settingsFor(t, srv)
		s.Debug = true
		c, err := Dial(ctx, s, []byte(srv.BindPassword), log)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, _, err := c.Users(ctx); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"ldap: bound", "ldap: search", `filter="(uid=*)"`, `base="` + srv.UsersBase + `"`, "paged=true", "pageSize=1000",
			"ldap: search done", fmt.Sprintf("entries=%d", len(srv.Users)), "pages=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("the debug log has no %q:\n%s", want, out)
			}
		}
		noSecrets(t, out, srv.BindPassword)
		// Without Debug, nothing at info.
		buf.Reset()
		s.Debug = false
		c2 := dialT(t, s, srv.BindPassword)
		c2.log = log
		if _, _, err := c2.Users(ctx); err != nil || buf.Len() != 0 {
			t.Errorf("logged without debug: %v %s", err, buf.String())
		}
	})
	t.Run("TestLogin", func(t *testing.T) {
		s := settingsFor(t, srv, "ldap://127.0.0.1:1", srv.URL)
		u := srv.Users[2] // Anouk.DeVries
		pw := srv.UserPassword(u.Login)
		r := TestLogin(ctx, s, []byte(srv.BindPassword), u.Login, []byte(pw))
		t.Logf("report: %s", reportText(r))
		if !r.OK || !slices.Equal(stepNames(r), []string{"connect FAIL", "connect ok", "tls ok", "bind ok", "find user ok", "bind as user ok"}) {
			t.Fatalf("report %v", stepNames(r))
		}
		if !strings.Contains(r.Steps[4].Message, u.DN) {
			t.Errorf("find user says %q", r.Steps[4].Message)
		}
		noSecrets(t, reportText(r), pw, srv.BindPassword)

		// The login attribute matches in any case.
		if r := TestLogin(ctx, s, []byte(srv.BindPassword), strings.ToLower(u.Login), []byte(pw)); !r.OK {
			t.Errorf("lower-case login: %s", reportText(r))
		}

		const wrong = "Wrong-pw-1"
		r = TestLogin(ctx, s, []byte(srv.BindPassword), u.Login, []byte(wrong))
		if r.OK || r.Failed().Name != StepBindAsUser || !strings.Contains(r.Failed().Message, "invalid credentials (49)") {
			t.Fatalf("wrong password: %s", reportText(r))
		}
		stepError(t, r.Err, StepBindAsUser)
		noSecrets(t, reportText(r), wrong, pw, srv.BindPassword)

		r = TestLogin(ctx, s, []byte(srv.BindPassword), u.Login, nil)
		if r.OK || r.Failed().Name != StepBindAsUser || !strings.Contains(r.Failed().Message, "no password given") {
			t.Fatalf("empty password: %s", reportText(r))
		}

		r = TestLogin(ctx, s, []byte(srv.BindPassword), "nobody.here", []byte(pw))
		if r.OK || r.Failed().Name != StepFindUser {
			t.Fatalf("unknown login: %s", reportText(r))
		}

		// LDAP injection: the login is a value, never filter syntax. With
		// it unescaped, (uid=*)(uid=*) would find users (and "*" everyone).
		filtered := settingsFor(t, srv)
		filtered.UserAttribute, filtered.UserFilter, filtered.LoginAttribute = "", "(objectClass=inetOrgPerson)", ""
		if err := filtered.Normalize(); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Settings{s, filtered} {
			for _, login := range []string{"*)(uid=*", "*", u.Login + ")(|(uid=*", "*)(|(objectClass=*"} {
				r := TestLogin(ctx, st, []byte(srv.BindPassword), login, []byte(pw))
				if r.OK || r.Failed().Name != StepFindUser || !strings.Contains(r.Failed().Message, "no user with") {
					t.Errorf("login %q: %s", login, reportText(r))
				}
			}
		}
		if r := TestLogin(ctx, filtered, []byte(srv.BindPassword), u.Login, []byte(pw)); !r.OK {
			t.Errorf("with a user filter: %s", reportText(r))
		}
	})
}

// TestReadOpenLDAP reads 10,000 users and 205 groups of an OpenLDAP
// source, paged, and checks every user and group against the fixture;
// unpaged, the server's size limit (500) is a clear error.
func TestReadOpenLDAP(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 10000, Groups: 200, SizeLimit: 500})
	ctx := context.Background()
	s := settingsFor(t, srv, srv.LDAPSURL)
	s.Profile = map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn", "displayName": "displayName",
		"title": "title", "department": "departmentNumber"}
	s.Attributes, s.AttributePrefix = []string{"employeeNumber", "telephoneNumber", "manager"}, "ldap-"
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	c := dialT(t, s, srv.BindPassword)

	t.Run("Users", func(t *testing.T) {
		t0 := time.Now()
		users, skips, err := c.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d users read in %v", len(users), time.Since(t0))
		if len(users) != len(srv.Users) || len(skips) != 0 {
			t.Fatalf("%d users, %d skipped; want %d", len(users), len(skips), len(srv.Users))
		}
		got := map[string]SourceUser{}
		for _, u := range users {
			got[u.Login] = u
		}
		for _, want := range srv.Users {
			u, ok := got[want.Login]
			if !ok {
				t.Fatalf("user %s missing", want.Login)
			}
			if NormalizeDN(u.DN) != NormalizeDN(want.DN) || u.ExternalID != want.EntryUUID || !u.Modified.Equal(want.Modified) {
				t.Fatalf("user %s: %+v\nwant %+v", want.Login, u, want)
			}
			for attr, v := range map[string]string{"mail": want.Email, "givenname": want.GivenName, "sn": want.Surname,
				"displayname": want.DisplayName, "title": want.Title, "departmentnumber": want.Department,
				"employeenumber": want.EmployeeNumber, "telephonenumber": want.Phone, "manager": want.Manager, "uid": want.Login} {
				if u.Attr(attr) != v {
					t.Fatalf("user %s: %s is %q, want %q", want.Login, attr, u.Attr(attr), v)
				}
			}
			if _, ok := u.Attrs["userpassword"]; ok {
				t.Fatal("userPassword was read")
			}
		}
		if u := got["zoe.mueller"]; u.Attr("givenName") != "Zoë" {
			t.Errorf("UTF-8: %q", u.Attr("givenName"))
		}
	})
	t.Run("Pages", func(t *testing.T) {
		req := ldap.NewSearchRequest(s.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(uid=*)", []string{"uid"}, nil)
		entries, pages, err := c.do(ctx, req, true)
		if err != nil || len(entries) != len(srv.Users) || pages < len(srv.Users)/s.PageSize {
			t.Fatalf("%d entries in %d pages: %v", len(entries), pages, err)
		}
	})
	t.Run("Groups", func(t *testing.T) {
		users, _, err := c.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		groups, skips, err := c.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != len(srv.Groups) || len(skips) != 0 {
			t.Fatalf("%d groups, %d skipped, want %d", len(groups), len(skips), len(srv.Groups))
		}
		res := NewMemberResolver(s, users)
		for _, g := range groups {
			want := srv.Group(g.Name)
			if want == nil || NormalizeDN(g.DN) != NormalizeDN(want.DN) || g.ExternalID != want.EntryUUID || g.Description != want.Description || !g.Modified.Equal(want.Modified) {
				t.Fatalf("group %+v\nwant %+v", g, want)
			}
			if want.Kind != ldaptest.GroupOfNames {
				if len(g.Members) != 0 { // member is not their attribute
					t.Errorf("%s (%v) has members %v", g.Name, want.Kind, g.Members)
				}
				continue
			}
			if !slices.Equal(g.Members, normalizeAll(want.Members)) {
				t.Fatalf("%s: members %d, want %d", g.Name, len(g.Members), len(want.Members))
			}
			logins, unresolved := res.Logins(g)
			if !slices.Equal(logins, want.MemberLogins) || len(unresolved) != 0 {
				t.Fatalf("%s: logins %v, unresolved %v", g.Name, logins, unresolved)
			}
		}
	})
	t.Run("UniqueAndPosixGroups", func(t *testing.T) {
		for _, tc := range []struct {
			filter, attr string
			kind         ldaptest.GroupKind
		}{
			{"(objectClass=groupOfUniqueNames)", "uniqueMember", ldaptest.GroupOfUniqueNames},
			{"(objectClass=posixGroup)", "memberUid", ldaptest.PosixGroup},
		} {
			gs := *s
			gs.GroupFilter, gs.GroupMemberAttr, gs.GroupMemberForm = tc.filter, tc.attr, ""
			if err := gs.Normalize(); err != nil {
				t.Fatal(err)
			}
			gc := dialT(t, &gs, srv.BindPassword)
			groups, _, err := gc.Groups(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, g := range groups {
				want := srv.Group(g.Name)
				if want.Kind != tc.kind {
					t.Fatalf("%s is a %v", g.Name, want.Kind)
				}
				n++
				wantMembers := normalizeAll(want.Members)
				if tc.kind == ldaptest.PosixGroup {
					wantMembers = want.MemberLogins // case kept: memberUid is case-exact
				}
				if !slices.Equal(g.Members, wantMembers) {
					t.Fatalf("%s: members %v\nwant %v", g.Name, g.Members, wantMembers)
				}
			}
			if n == 0 {
				t.Fatalf("no %v group", tc.kind)
			}
		}
	})
	t.Run("CaseInsensitive", func(t *testing.T) {
		cs := *s
		cs.UserAttribute, cs.UserFilter, cs.LoginAttribute = "", "(|(uid=Anouk.DeVries)(uid=zoe.mueller))", "uid"
		cs.CaseInsensitive = true
		cc := dialT(t, &cs, srv.BindPassword)
		users, _, err := cc.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var logins []string
		for _, u := range users {
			logins = append(logins, u.Login)
		}
		slices.Sort(logins)
		if !slices.Equal(logins, []string{"anouk.devries", "zoe.mueller"}) {
			t.Fatalf("logins %v", logins)
		}
	})
	t.Run("SizeLimitWithoutPaging", func(t *testing.T) {
		us := *s
		us.Paging = false
		uc := dialT(t, &us, srv.BindPassword)
		users, _, err := uc.Users(ctx)
		if users != nil {
			t.Fatalf("a truncated list of %d users was returned", len(users))
		}
		stepError(t, err, StepSearch)
		var sl *SizeLimitError
		if !errors.As(err, &sl) || sl.Returned != 500 || sl.Paged {
			t.Fatalf("%v", err)
		}
		want := "the server returned only 500 entries and stopped at its size limit: turn paging on (page size ≤ the server's limit) or raise the limit; dirgate does not sync a truncated list"
		if err.Error() != want {
			t.Errorf("%q\nwant %q", err, want)
		}
		// Fewer entries than the limit read fine without paging.
		gs, _, err := uc.Groups(ctx)
		if err != nil || len(gs) != len(srv.Groups) {
			t.Errorf("groups without paging: %d, %v", len(gs), err)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		cc := dialT(t, s, srv.BindPassword)
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(20*time.Millisecond, cancel)
		users, _, err := cc.Users(cctx)
		if users != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("%d users, %v", len(users), err)
		}
		if _, _, err := cc.Users(ctx); err == nil {
			t.Fatal("a cancelled client still reads")
		}
	})
}

func normalizeAll(dns []string) []string {
	out := make([]string, len(dns))
	for i, d := range dns {
		out[i] = NormalizeDN(d)
	}
	return out
}

// TestPageLimits: a server that serves pages of at most 300 entries and
// 500 entries unpaged; paging with a fitting page size reads everything.
func TestPageLimits(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 1200, Groups: 5, SizeLimit: 500, MaxPageSize: 300})
	ctx := context.Background()
	for _, tc := range []struct {
		paging   bool
		pageSize int
		want     string // error
	}{
		{true, 300, ""},
		{true, 250, ""},
		{true, 1000, "the server refused pages of 1000 entries: admin limit exceeded (11)"},
		{false, 0, "the server returned only 500 entries and stopped at its size limit"},
	} {
		s := settingsFor(t, srv)
		s.Paging, s.PageSize = tc.paging, tc.pageSize
		if err := s.Normalize(); err != nil {
			t.Fatal(err)
		}
		users, _, err := dialT(t, s, srv.BindPassword).Users(ctx)
		switch {
		case tc.want == "" && (err != nil || len(users) != len(srv.Users)):
			t.Errorf("paging %v, size %d: %d users, %v", tc.paging, tc.pageSize, len(users), err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || users != nil):
			t.Errorf("paging %v, size %d: %d users, %v; want %q", tc.paging, tc.pageSize, len(users), err, tc.want)
		case err != nil:
			t.Logf("paging %v, size %d: %v", tc.paging, tc.pageSize, err)
		}
	}
}

// TestReadAD reads an Active-Directory-like source: sAMAccountName logins,
// objectGUID ids, whenChanged, groups of class group with DNs that need
// escaping, a filter leaving disabled accounts out, and a user's login.
func TestReadAD(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.AD, Users: 1500, Groups: 20, DisabledUsers: 15})
	ctx := context.Background()
	s := settingsFor(t, srv, srv.LDAPSURL)
	s.CaseInsensitive = true
	s.PageSize = 400
	s.Profile = map[string]string{"email": "mail", "department": "department", "displayName": "displayName"}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	c := dialT(t, s, srv.BindPassword)

	users, skips, err := c.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(srv.Users) || len(skips) != 0 {
		t.Fatalf("%d users, %d skipped", len(users), len(skips))
	}
	byLogin := map[string]SourceUser{}
	for _, u := range users {
		byLogin[u.Login] = u
	}
	for _, want := range srv.Users {
		u, ok := byLogin[strings.ToLower(want.Login)]
		if !ok {
			t.Fatalf("no user %s", want.Login)
		}
		if u.ExternalID != want.EntryUUID || u.Attr("objectGUID") != want.EntryUUID || !u.Modified.Equal(want.Modified) ||
			u.Attr("department") != want.Department || u.Attr("sAMAccountName") != want.Login || NormalizeDN(u.DN) != NormalizeDN(want.DN) {
			t.Fatalf("user %+v\nwant %+v", u, want)
		}
	}
	if _, ok := byLogin["adevries"]; !ok {
		t.Error("the mixed-case login is not folded")
	}

	t.Run("ObjectGUIDAndWhenChanged", func(t *testing.T) {
		// Without entryUUID and modifyTimestamp (which real AD lacks), the
		// id is objectGUID's and the time whenChanged's.
		entries, err := c.search(ctx, s.UserBase, "(sAMAccountName=*)", []string{"sAMAccountName", "objectGUID", "whenChanged"})
		if err != nil || len(entries) != len(srv.Users) {
			t.Fatalf("%d, %v", len(entries), err)
		}
		for _, e := range entries {
			u, reason := c.toUser(e)
			want := srv.User(u.Login)
			if reason != "" || want == nil || u.ExternalID != want.EntryUUID || !u.Modified.Equal(want.Modified) || u.Modified.IsZero() {
				t.Fatalf("%q %+v, want %+v", reason, u, want)
			}
		}
	})
	t.Run("Groups", func(t *testing.T) {
		groups, _, err := c.Groups(ctx)
		if err != nil || len(groups) != len(srv.Groups) {
			t.Fatalf("%d groups, %v", len(groups), err)
		}
		res := NewMemberResolver(s, users)
		obrien := NormalizeDN(srv.Users[3].DN)
		foundOBrien := false
		for _, g := range groups {
			want := srv.Group(g.Name)
			if want == nil || g.ExternalID != want.EntryUUID || !slices.Equal(g.Members, normalizeAll(want.Members)) {
				t.Fatalf("group %s: %+v", g.Name, want)
			}
			logins, unresolved := res.Logins(g)
			var wantLogins []string
			for _, l := range want.MemberLogins {
				wantLogins = append(wantLogins, strings.ToLower(l))
			}
			if !slices.Equal(logins, wantLogins) || len(unresolved) != 0 {
				t.Fatalf("%s: %v %v", g.Name, logins, unresolved)
			}
			foundOBrien = foundOBrien || slices.Contains(g.Members, obrien)
		}
		if !foundOBrien || !strings.Contains(srv.Users[3].DN, `\`) {
			t.Errorf("O'Brien (%s) is in no group", srv.Users[3].DN)
		}
	})
	t.Run("FilterDisabled", func(t *testing.T) {
		fs := *s
		fs.UserAttribute, fs.LoginAttribute = "", "sAMAccountName"
		fs.UserFilter = "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
		fc := dialT(t, &fs, srv.BindPassword)
		active, _, err := fc.Users(ctx)
		if err != nil || len(active) != len(srv.Users)-15 {
			t.Fatalf("%d active users, %v", len(active), err)
		}
		for _, u := range active {
			if srv.User(u.Login).Disabled {
				t.Fatalf("%s is disabled", u.Login)
			}
		}
	})
	t.Run("TestLogin", func(t *testing.T) {
		u := srv.Users[3] // CN=O'Brien\, Seán
		if r := TestLogin(ctx, s, []byte(srv.BindPassword), strings.ToUpper(u.Login), []byte(srv.UserPassword(u.Login))); !r.OK {
			t.Fatalf("%s", reportText(r))
		}
		if r := TestLogin(ctx, s, []byte(srv.BindPassword), "*)(sAMAccountName=*", []byte(srv.UserPassword(u.Login))); r.OK || r.Failed().Name != StepFindUser {
			t.Fatalf("injection: %s", reportText(r))
		}
	})
}

// Unit tests without a server.

func TestNormalizeDN(t *testing.T) {
	same := [][]string{
		{`CN=O'Brien\, Seán,OU=Staff,DC=corp,DC=example`, `cn=o'brien\2c seán, ou=staff, dc=corp, dc=example`, `cn=O'BRIEN\, SEÁN,ou=Staff,dc=Corp,dc=Example`},
		{`uid=jdoe+cn=John Doe,ou=people,dc=x`, `CN=john doe+UID=JDOE,ou=People,dc=X`},
		{`cn=a\+b,dc=x`, `cn=a\2Bb,dc=x`},
	}
	for _, set := range same {
		for _, dn := range set[1:] {
			if NormalizeDN(dn) != NormalizeDN(set[0]) {
				t.Errorf("%q → %q\n%q → %q", dn, NormalizeDN(dn), set[0], NormalizeDN(set[0]))
			}
		}
	}
	if got := NormalizeDN(`CN=O'Brien\, Seán,OU=Staff,DC=corp,DC=example`); got != `cn=o'brien\, seán,ou=staff,dc=corp,dc=example` {
		t.Errorf("%q", got)
	}
	if NormalizeDN("cn=a,dc=x") == NormalizeDN("cn=b,dc=x") || NormalizeDN("cn=a,dc=x") == NormalizeDN("cn=a,dc=y") {
		t.Error("different DNs are equal")
	}
	if got := NormalizeDN(" Not A DN "); got != "not a dn" {
		t.Errorf("%q", got)
	}
}

func TestEntryConversion(t *testing.T) {
	es, err := effective(&Settings{URLs: []string{"ldaps://x"}, UserAttribute: "sAMAccountName", CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{s: es}
	guid := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	e := &ldap.Entry{DN: "CN=Jane Doe,OU=Staff,DC=corp,DC=example", Attributes: []*ldap.EntryAttribute{
		{Name: "sAMAccountName", Values: []string{"JDoe"}},
		{Name: "objectGUID", Values: []string{string(guid)}, ByteValues: [][]byte{guid}},
		{Name: "whenChanged", Values: []string{"20240301080000.0Z"}},
		{Name: "Mail", Values: []string{"jdoe@corp.example"}},
	}}
	u, reason := c.toUser(e)
	if reason != "" || u.Login != "jdoe" || u.ExternalID != "00112233-4455-6677-8899-aabbccddeeff" || u.Attr("mail") != "jdoe@corp.example" ||
		!u.Modified.Equal(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("%q %+v", reason, u)
	}
	// The later of modifyTimestamp and whenChanged; the DN when no id.
	e.Attributes = append(e.Attributes[:1], &ldap.EntryAttribute{Name: "modifyTimestamp", Values: []string{"20250102030405Z"}},
		&ldap.EntryAttribute{Name: "whenChanged", Values: []string{"20240301080000.0Z"}})
	u, _ = c.toUser(e)
	if u.ExternalID != "cn=jane doe,ou=staff,dc=corp,dc=example" || !u.Modified.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("%+v", u)
	}
	e.Attributes = e.Attributes[1:]
	if _, reason := c.toUser(e); reason != "no sAMAccountName attribute (the login)" {
		t.Fatalf("reason %q", reason)
	}
	for v, want := range map[string]time.Time{
		"20240301080000Z":      time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
		"20240301080000.5Z":    time.Date(2024, 3, 1, 8, 0, 0, 5e8, time.UTC),
		"20240301100000+0200":  time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
		"202403010800Z":        time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
		"20240301080000.000Z ": time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
	} {
		if got, err := ParseGeneralizedTime(v); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", v, got, err)
		}
	}
	if _, err := ParseGeneralizedTime("yesterday"); err == nil {
		t.Error("no error")
	}
	if got := FormatGUID([]byte("00112233-4455-6677-8899-AABBCCDDEEFF")); got != "00112233-4455-6677-8899-aabbccddeeff" {
		t.Errorf("%q", got)
	}
	if got := c.userAttributes(); !slices.Equal(got, []string{"sAMAccountName", "modifyTimestamp", "whenChanged", "entryUUID", "objectGUID"}) {
		t.Errorf("%v", got)
	}
	c.s.Profile = map[string]string{"email": "mail", "firstName": "givenName", "nickName": "SAMACCOUNTNAME"}
	c.s.Attributes = []string{"mail", "employeeID"}
	if got := c.userAttributes(); !slices.Equal(got, []string{"sAMAccountName", "givenName", "mail", "employeeID", "modifyTimestamp", "whenChanged", "entryUUID", "objectGUID"}) {
		t.Errorf("%v", got)
	}
}

// fakeConn answers searches from a function; other calls panic.
type fakeConn struct {
	ldap.Client
	search func(*ldap.SearchRequest) (*ldap.SearchResult, error)
	closed bool
}

func (f *fakeConn) Search(r *ldap.SearchRequest) (*ldap.SearchResult, error) { return f.search(r) }
func (f *fakeConn) IsClosing() bool                                          { return f.closed }
func (f *fakeConn) Close() error                                             { f.closed = true; return nil }

func fakeClient(t *testing.T, s *Settings, search func(*ldap.SearchRequest) (*ldap.SearchResult, error)) *Client {
	t.Helper()
	es, err := effective(s)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{s: es, url: "ldap://fake", conn: &fakeConn{search: search}, log: slog.New(slog.DiscardHandler)}
}

func entriesN(from, n int) []*ldap.Entry {
	var es []*ldap.Entry
	for i := from; i < from+n; i++ {
		es = append(es, ldap.NewEntry(fmt.Sprintf("uid=u%d,dc=x", i), map[string][]string{"uid": {fmt.Sprintf("u%d", i)}}))
	}
	return es
}

// TestPagedSizeLimit: a server that bounds a paged search's total stops on
// a later page; the pages before it are not returned.
func TestPagedSizeLimit(t *testing.T) {
	page := 0
	c := fakeClient(t, &Settings{URLs: []string{"ldap://fake"}, UserBase: "dc=x", UserAttribute: "uid", Paging: true, PageSize: 3},
		func(r *ldap.SearchRequest) (*ldap.SearchResult, error) {
			pc := ldap.FindControl(r.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if pc.PagingSize != 3 || (page == 0) != (len(pc.Cookie) == 0) {
				t.Fatalf("page %d: control %v", page, pc)
			}
			page++
			res := &ldap.SearchResult{Entries: entriesN(3*(page-1), 3)}
			if page < 3 {
				res.Controls = []ldap.Control{&ldap.ControlPaging{Cookie: []byte{byte(page)}}}
				return res, nil
			}
			res.Entries = res.Entries[:1]
			return res, ldap.NewError(ldap.LDAPResultSizeLimitExceeded, errors.New(""))
		})
	users, _, err := c.Users(context.Background())
	var sl *SizeLimitError
	if users != nil || !errors.As(err, &sl) || sl.Returned != 7 || !sl.Paged {
		t.Fatalf("%d users, %v", len(users), err)
	}
	t.Log(err)
}

// TestRangeRetrieval: Active Directory returns a large member attribute
// in ranges (member;range=0-1, then 2-3, then 4-*).
func TestRangeRetrieval(t *testing.T) {
	member := func(i int) string { return fmt.Sprintf("CN=User %d,OU=Staff,DC=corp,DC=example", i) }
	var asked []string
	c := fakeClient(t, &Settings{URLs: []string{"ldap://fake"}, GroupBase: "OU=Groups,DC=corp,DC=example"},
		func(r *ldap.SearchRequest) (*ldap.SearchResult, error) {
			if r.Scope == ldap.ScopeWholeSubtree {
				return &ldap.SearchResult{Entries: []*ldap.Entry{
					ldap.NewEntry("CN=Big,OU=Groups,DC=corp,DC=example", map[string][]string{"cn": {"Big"}, "member;range=0-1": {member(0), member(1)}}),
					ldap.NewEntry("CN=Small,OU=Groups,DC=corp,DC=example", map[string][]string{"cn": {"Small"}, "member": {member(0)}}),
				}}, nil
			}
			asked = append(asked, r.Attributes[0])
			switch r.Attributes[0] {
			case "member;range=2-*":
				return &ldap.SearchResult{Entries: []*ldap.Entry{ldap.NewEntry(r.BaseDN, map[string][]string{"member;range=2-3": {member(2), member(3)}})}}, nil
			case "member;range=4-*":
				return &ldap.SearchResult{Entries: []*ldap.Entry{ldap.NewEntry(r.BaseDN, map[string][]string{"member;range=4-*": {member(4)}})}}, nil
			}
			return nil, ldap.NewError(ldap.LDAPResultOther, errors.New("unexpected"))
		})
	groups, _, err := c.Groups(context.Background())
	if err != nil || len(groups) != 2 {
		t.Fatalf("%v %v", groups, err)
	}
	var want []string
	for i := range 5 {
		want = append(want, NormalizeDN(member(i)))
	}
	if !slices.Equal(groups[0].Members, want) || len(groups[1].Members) != 1 || !slices.Equal(asked, []string{"member;range=2-*", "member;range=4-*"}) {
		t.Fatalf("%v / %v / asked %v", groups[0].Members, groups[1].Members, asked)
	}
	for name, want := range map[string][2]int{"member;range=0-1499": {0, 1499}, "Member;Range=1500-*": {1500, -1}} {
		if lo, hi, ok := parseRange(name, "member"); !ok || lo != want[0] || hi != want[1] {
			t.Errorf("%s: %d %d %v", name, lo, hi, ok)
		}
	}
	for _, name := range []string{"member", "memberOf;range=0-1", "member;range=x-1", "member;range=5-1"} {
		if _, _, ok := parseRange(name, "member"); ok {
			t.Errorf("%s parsed", name)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  *StepError
		want string
	}{
		{bindError(StepBind, "ldaps://x", "cn=x", time.Second, ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New(""))),
			"bind as cn=x failed: invalid credentials (49): check the bind DN and password"},
		{bindError(StepBind, "ldaps://x", "cn=x", time.Second, ldap.NewError(ldap.LDAPResultInvalidCredentials,
			errors.New("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563"))),
			"bind as cn=x failed: invalid credentials (49): 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563: the account is locked out"},
		{bindError(StepBind, "ldap://x", "cn=x", time.Second, ldap.NewError(ldap.LDAPResultConfidentialityRequired, errors.New("TLS confidentiality required"))),
			"bind as cn=x failed: confidentiality required (13): TLS confidentiality required: the server requires a secure connection: use ldaps:// or turn StartTLS on"},
		{bindError(StepBind, "ldap://x", "cn=x", 3*time.Second, ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out"))),
			"bind as cn=x failed: no answer within 3s: the server is slow or stuck: try again, or raise the timeout"},
	} {
		if tc.err.Error() != tc.want {
			t.Errorf("%q\nwant %q", tc.err, tc.want)
		}
	}
	c := fakeClient(t, &Settings{URLs: []string{"ldap://fake"}, UserBase: "ou=nowhere,dc=x", UserFilter: "(&(objectClass=person)"}, nil)
	if _, _, err := c.Users(context.Background()); err == nil || !strings.Contains(err.Error(), "is not valid") {
		t.Errorf("bad filter: %v", err)
	}
	c = fakeClient(t, &Settings{URLs: []string{"ldap://fake"}, UserBase: "ou=nowhere,dc=x", UserAttribute: "uid"}, func(*ldap.SearchRequest) (*ldap.SearchResult, error) {
		return nil, &ldap.Error{ResultCode: ldap.LDAPResultNoSuchObject, MatchedDN: "dc=x", Err: errors.New("")}
	})
	_, _, err := c.Users(context.Background())
	if want := "search under ou=nowhere,dc=x for (uid=*) failed: the base ou=nowhere,dc=x does not exist: no such object (32): check the search base (the server has dc=x)"; err == nil || err.Error() != want {
		t.Errorf("%v\nwant %s", err, want)
	}
	b, err := json.Marshal(TestStep{Name: StepBind, OK: true, Duration: 1500 * time.Microsecond, Message: "bound"})
	if err != nil || string(b) != `{"name":"bind","ok":true,"message":"bound","duration":"1.5ms","durationMs":1.5}` {
		t.Errorf("%s %v", b, err)
	}
}
