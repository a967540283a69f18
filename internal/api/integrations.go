package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

// Directory integrations: /api/dirgate/v1/integrations, an org's
// LDAP/Active Directory sources (Okta configures its AD/LDAP agents in its
// console only, so these are dirgate's own), the operations of `dirgate
// integration`. Reading needs any admin role; everything else needs
// SUPER_ADMIN, as the integration is the org's identity source and the
// test-* calls bind with its stored password. The bind password is write-only:
// no answer holds it (bindPasswordSet says whether one is stored).
//
// test-connection and test-login are diagnostics: a source that cannot
// be reached, or refuses a bind, is a 200 whose report's last step says
// what failed and why. test-sync (a dry run) and sync read the whole
// source; when that fails (unreachable, bind refused, a server's size
// limit, the external endpoint) nothing is applied and the answer is 502
// E0000009, whose summary and causes name the step, the URL and what to do.
// One sync of an integration runs at a time: another, asked for while it
// runs (here, or in any process sharing the store), is 409.

func (s *Server) integrationRoutes() {
	const read, security = directory.PermRead, directory.PermSecurity
	s.handle("GET /api/dirgate/v1/integrations", read, s.listIntegrations)
	s.handle("POST /api/dirgate/v1/integrations", security, s.createIntegration)
	s.handle("GET /api/dirgate/v1/integrations/{id}", read, s.getIntegration)
	s.handle("PUT /api/dirgate/v1/integrations/{id}", security, s.replaceIntegration)
	s.handle("DELETE /api/dirgate/v1/integrations/{id}", security, s.deleteIntegration)
	s.handle("POST /api/dirgate/v1/integrations/{id}/test-connection", security, s.testConnection)
	s.handle("POST /api/dirgate/v1/integrations/{id}/test-login", security, s.testLogin)
	s.handle("POST /api/dirgate/v1/integrations/{id}/test-sync", security, s.runSync(true))
	s.handle("POST /api/dirgate/v1/integrations/{id}/sync", security, s.runSync(false))
}

// integrationJSON is an integration as the API shows it: never its
// password.
type integrationJSON struct {
	ID              string                `json:"id"`
	Name            string                `json:"name"`
	Kind            string                `json:"kind"`
	Default         bool                  `json:"default"`
	Settings        json.RawMessage       `json:"settings"`
	OwnedAttributes []string              `json:"ownedAttributes"`
	BindPasswordSet bool                  `json:"bindPasswordSet"`
	State           *integrationStateJSON `json:"state"` // null: it never ran
	Created         jsonTime              `json:"created"`
	LastUpdated     jsonTime              `json:"lastUpdated"`
	Links           map[string]any        `json:"_links"`
}

// integrationStateJSON is what the directory records of an integration's
// runs (directory.IntegrationState, without the connector's marks and the
// lease's holder).
type integrationStateJSON struct {
	Running      bool            `json:"running"`
	LastStarted  jsonTime        `json:"lastStarted"`
	LastFinished jsonTime        `json:"lastFinished"` // null while the first run runs
	LastError    string          `json:"lastError,omitempty"`
	LastReport   *syncReportJSON `json:"lastReport"` // the last real run's, shortened
}

func (s *Server) stateOut(in *directory.Integration) *integrationStateJSON {
	st := directory.StateOf(in)
	here, runsHere := s.runner.Running(in.ID) // started, maybe not yet leased
	if runsHere && here.After(st.LastStarted) {
		st.LastStarted = here
	}
	if st.LastStarted.IsZero() && st.LastFinished.IsZero() {
		return nil
	}
	out := &integrationStateJSON{Running: runsHere || st.Holder != "" && s.now().Before(st.LeaseUntil),
		LastStarted: jsonTime(st.LastStarted), LastFinished: jsonTime(st.LastFinished), LastError: st.LastError}
	if st.LastReport != nil {
		out.LastReport = syncReportOut(st.LastReport)
	}
	return out
}

func (s *Server) integrationOut(r *http.Request, in *directory.Integration) *integrationJSON {
	self := s.base(r) + "/api/dirgate/v1/integrations/" + url.PathEscape(in.ID)
	out := &integrationJSON{ID: in.ID, Name: in.Name, Kind: in.Kind, Default: in.Default, Settings: json.RawMessage(`{}`),
		OwnedAttributes: in.Owned, BindPasswordSet: in.Secret != "", State: s.stateOut(in),
		Created: jsonTime(in.Created), LastUpdated: jsonTime(in.LastUpdated),
		Links: map[string]any{"self": link(self), "testConnection": postLink(self + "/test-connection"),
			"testLogin": postLink(self + "/test-login"), "testSync": postLink(self + "/test-sync"), "sync": postLink(self + "/sync")}}
	// Stored JSON that does not parse would break the whole answer.
	if len(in.Settings) > 0 && json.Valid(in.Settings) {
		out.Settings = in.Settings
	}
	if out.OwnedAttributes == nil {
		out.OwnedAttributes = []string{}
	}
	return out
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request, c *call) error {
	ins, err := s.dir.Integrations(c.ctx, c.org)
	if err != nil {
		return err
	}
	writeList(s, w, r, ins, func(in *directory.Integration) *integrationJSON { return s.integrationOut(r, in) }, false, "")
	return nil
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.dir.Integration(c.ctx, c.org, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.integrationOut(r, in))
	return nil
}

// integrationRequest is the body of a create and of a replace.
type integrationRequest struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // "" or ldap
	// Default, when given, makes it the org's default integration or
	// not; absent, a replace leaves it as it is.
	Default  *bool           `json:"default"`
	Settings json.RawMessage `json:"settings"`
	// BindPassword, when given, is the new bind password; absent, a
	// replace keeps the stored one.
	BindPassword *string `json:"bindPassword"`
}

// integrationInput decodes and checks the body: the settings through the
// connector (a *ldapsource.FieldError names the setting).
func (s *Server) integrationInput(r *http.Request) (directory.IntegrationInput, error) {
	var req integrationRequest
	if err := s.decode(r, &req); err != nil {
		return directory.IntegrationInput{}, err
	}
	in := directory.IntegrationInput{Name: req.Name, Kind: req.Kind, Default: req.Default}
	if in.Kind == "" {
		in.Kind = directory.KindLDAP
	}
	if len(req.Settings) == 0 || string(req.Settings) == "null" {
		return in, validation("settings", "give the integration's settings: urls, bindDN, userSearchBase, userAttribute or userSearchFilter, ...")
	}
	set, err := ldapsource.ParseSettings(req.Settings)
	if err != nil {
		return in, settingsError(err)
	}
	if in.Settings, err = json.Marshal(set); err != nil {
		return in, err
	}
	in.Owned = ldapsource.Owned(set)
	if req.BindPassword != nil {
		if *req.BindPassword == "" {
			return in, validation("bindPassword", "the bind password is empty: give the bind account's password, or leave bindPassword out (a replace then keeps the stored one)")
		}
		in.Secret = []byte(*req.BindPassword)
	}
	return in, nil
}

// settingsError is a settings problem as a validation error about the
// setting, "settings.<field>".
func settingsError(err error) error {
	var fe *ldapsource.FieldError
	if errors.As(err, &fe) {
		return validation("settings."+fe.Field, fe.Message)
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		return validation("settings."+ute.Field, fmt.Sprintf("expected a %s, got a JSON %s", ute.Type, ute.Value))
	}
	msg := strings.TrimPrefix(err.Error(), "the settings: ")
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return validation("settings."+f, fmt.Sprintf("unknown setting %q", f))
	}
	return validation("settings", msg)
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.integrationInput(r)
	defer clear(in.Secret)
	if err != nil {
		return err
	}
	out, err := s.dir.CreateIntegration(c.ctx, c.org, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.integrationOut(r, out))
	return nil
}

// replaceIntegration replaces an integration's name and settings (and
// password, when bindPassword is given).
func (s *Server) replaceIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.integrationInput(r)
	defer clear(in.Secret)
	if err != nil {
		return err
	}
	out, err := s.dir.UpdateIntegration(c.ctx, c.org, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.integrationOut(r, out))
	return nil
}

// deleteIntegration deletes an integration; its users and groups stay, as
// local ones.
func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.dir.DeleteIntegration(c.ctx, c.org, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// openIntegration is the integration of the path with its settings and
// bind password (the caller clears it).
func (s *Server) openIntegration(r *http.Request, c *call) (*directory.Integration, *ldapsource.Settings, []byte, error) {
	in, err := s.dir.Integration(c.ctx, c.org, r.PathValue("id"))
	if err != nil {
		return nil, nil, nil, err
	}
	set, err := ldapsource.SettingsOf(in)
	if err != nil {
		var fe *ldapsource.FieldError
		if errors.As(err, &fe) {
			return nil, nil, nil, settingsError(fe)
		}
		return nil, nil, nil, err
	}
	pw, err := s.dir.IntegrationSecret(in)
	if err != nil {
		return nil, nil, nil, err
	}
	return in, set, pw, nil
}

// testReport answers a connection test's report, passed or not.
func testReport(w http.ResponseWriter, rep *ldapsource.TestReport) {
	if rep.Steps == nil {
		rep.Steps = []ldapsource.TestStep{}
	}
	writeJSON(w, http.StatusOK, rep)
}

// testConnection connects, sets up TLS and binds as the integration
// would, and reports each step.
func (s *Server) testConnection(w http.ResponseWriter, r *http.Request, c *call) error {
	_, set, pw, err := s.openIntegration(r, c)
	if err != nil {
		return err
	}
	defer clear(pw)
	testReport(w, ldapsource.TestConnection(c.ctx, set, pw))
	return nil
}

// testLogin finds a user in the source as the sync would and binds as
// them with the password given (never stored, never logged).
func (s *Server) testLogin(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Login) == "" {
		return validation("login", "give the login of a user of the source")
	}
	if req.Password == "" {
		return validation("password", "give the user's password in the source")
	}
	_, set, pw, err := s.openIntegration(r, c)
	if err != nil {
		return err
	}
	defer clear(pw)
	upw := []byte(req.Password)
	defer clear(upw)
	testReport(w, ldapsource.TestLogin(c.ctx, set, pw, req.Login, upw))
	return nil
}

// syncReportJSON is directory.SyncReport as the API shows it.
type syncReportJSON struct {
	DryRun          bool                `json:"dryRun"`
	Incremental     bool                `json:"incremental"`
	Users           int                 `json:"users"`
	Created         int                 `json:"created"`
	Adopted         int                 `json:"adopted"`
	Updated         int                 `json:"updated"`
	Reactivated     int                 `json:"reactivated"`
	Deactivated     int                 `json:"deactivated"`
	Suspended       int                 `json:"suspended"`
	Unchanged       int                 `json:"unchanged"`
	Groups          int                 `json:"groups"`
	GroupsCreated   int                 `json:"groupsCreated"`
	GroupsUpdated   int                 `json:"groupsUpdated"`
	MembersAdded    int                 `json:"membersAdded"`
	MembersRemoved  int                 `json:"membersRemoved"`
	DuplicateEmails []string            `json:"duplicateEmails"`
	Skipped         []syncSkipJSON      `json:"skipped"`
	Examples        map[string][]string `json:"examples"`
	Started         jsonTime            `json:"started"`
	Finished        jsonTime            `json:"finished"`
}

type syncSkipJSON struct {
	Login      string `json:"login,omitempty"`
	ExternalID string `json:"externalId"`
	Reason     string `json:"reason"`
}

func syncReportOut(rep *directory.SyncReport) *syncReportJSON {
	out := &syncReportJSON{DryRun: rep.DryRun, Incremental: rep.Incremental, Users: rep.Users, Created: rep.Created,
		Adopted: rep.Adopted, Updated: rep.Updated,
		Reactivated: rep.Reactivated, Deactivated: rep.Deactivated, Suspended: rep.Suspended, Unchanged: rep.Unchanged,
		Groups: rep.Groups, GroupsCreated: rep.GroupsCreated, GroupsUpdated: rep.GroupsUpdated,
		MembersAdded: rep.MembersAdded, MembersRemoved: rep.MembersRemoved,
		DuplicateEmails: rep.DuplicateEmails, Skipped: make([]syncSkipJSON, len(rep.Skipped)), Examples: rep.Examples,
		Started: jsonTime(rep.Started), Finished: jsonTime(rep.Finished)}
	for i, k := range rep.Skipped {
		out.Skipped[i] = syncSkipJSON{Login: k.Login, ExternalID: k.ExternalID, Reason: k.Reason}
	}
	if out.DuplicateEmails == nil {
		out.DuplicateEmails = []string{}
	}
	if out.Examples == nil {
		out.Examples = map[string][]string{}
	}
	return out
}

// runSync reads the integration's source and applies it (dry: reports
// what it would change, writing nothing). ?full=true reads every user
// even when an incremental run is possible; ?adopt=local|INTEGRATION
// (&adoptBy=login|email) migrates users, as the CLI's --adopt. A real run
// goes on after the call (s.runner): the call waits ?wait= seconds for it
// (default syncWait) and then answers 202, the report coming in the
// integration's state. A dry run writes nothing to come back to, so its
// call waits for it.
func (s *Server) runSync(dry bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		full, err := boolParam(r, "full", false)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		ro := ldapsource.RunOptions{DryRun: dry, Full: full, Adopt: q.Get("adopt"), AdoptBy: q.Get("adoptBy")}
		if by := ro.AdoptBy; by != "" && by != "login" && by != "email" {
			return validation("adoptBy", "users are matched by login or email, not "+quote(by))
		}
		wait := syncWait
		if v := q.Get("wait"); v != "" && !dry {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > int(maxSyncWait/time.Second) {
				return validation("wait", fmt.Sprintf("wait is a number of seconds from 0 to %d, not %q", int(maxSyncWait/time.Second), v))
			}
			wait = time.Duration(n) * time.Second
		}
		in, _, pw, err := s.openIntegration(r, c) // the settings and password are checked before the source is
		if err != nil {
			return err
		}
		clear(pw)
		if dry {
			rep, err := ldapsource.RunWith(c.ctx, s.dir, c.org, in, ro, s.log)
			if err != nil {
				return syncError(in, err)
			}
			writeJSON(w, http.StatusOK, syncReportOut(rep))
			return nil
		}
		job, started := s.runner.Start(c.org, in, ro)
		if !started {
			return &apiError{status: http.StatusConflict, code: codeValidation,
				summary: fmt.Sprintf("A sync of directory integration %q is running on this server (started %s); its report will be in the integration's state", in.Name, job.Started.Format(time.RFC3339))}
		}
		if !job.Wait(c.ctx, wait) {
			self := s.base(r) + "/api/dirgate/v1/integrations/" + url.PathEscape(in.ID)
			w.Header().Set("Location", self)
			writeJSON(w, http.StatusAccepted, &integrationStateJSON{Running: true, LastStarted: jsonTime(job.Started)})
			return nil
		}
		rep, err := job.Result()
		if err != nil {
			return syncError(in, err)
		}
		writeJSON(w, http.StatusOK, syncReportOut(rep))
		return nil
	}
}

// How long a sync call waits for its run by default, and at most (below
// the HTTP server's write timeout).
const (
	syncWait    = 60 * time.Second
	maxSyncWait = 240 * time.Second
)

// syncError is a failed run's answer: the directory's and the settings'
// errors as usual, a failure of the source (LDAP or the external
// endpoint) as 502 naming the step, the URL and what to do.
func syncError(in *directory.Integration, err error) error {
	var de *directory.Error
	var fe *ldapsource.FieldError
	switch {
	case errors.Is(err, directory.ErrRunning) && errors.As(err, &de):
		return &apiError{status: http.StatusConflict, code: codeValidation, summary: de.Message}
	case errors.As(err, &de):
		return err
	case errors.As(err, &fe):
		return settingsError(fe)
	case errors.Is(err, context.Canceled):
		return err
	}
	e := &apiError{status: http.StatusBadGateway, code: codeInternal}
	var dial *ldapsource.DialError
	var step *ldapsource.StepError
	switch {
	case errors.As(err, &dial):
		for _, a := range dial.Attempts {
			e.causes = append(e.causes, stepCause(a))
		}
		e.summary = "no LDAP server could be used: " + strings.Join(e.causes, "; ")
	case errors.As(err, &step):
		e.summary = stepCause(step)
		e.causes = []string{e.summary}
	default:
		e.summary = err.Error()
		e.causes = []string{e.summary}
	}
	e.summary = fmt.Sprintf("The sync of directory integration %q could not read its source, and changed nothing: %s", in.Name, e.summary)
	return e
}

// stepCause is a step's failure: "search ldap://host:389: what, and what
// to do".
func stepCause(se *ldapsource.StepError) string {
	where := se.Step
	if se.URL != "" {
		where += " " + se.URL
	}
	// A message may name its step already ("connect: host:port: ...").
	return where + ": " + strings.TrimPrefix(se.Error(), se.Step+": ")
}
