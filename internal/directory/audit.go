package directory

// The system log (audit events), shaped like Okta's LogEvent. Every
// authentication outcome and every committed directory write emits one
// event; emitting never blocks: events go to a bounded in-memory queue that
// one goroutine drains into the store in batches. A full queue drops the
// event, counts it (DroppedEvents) and says so in a rate-limited warning.
// No event ever holds a secret: authentication events are built from the
// request's names and client, never from its password.

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// Event types (Okta's names).
const (
	EventAuthViaLDAP           = "user.authentication.auth_via_ldap"
	EventUserCreate            = "user.lifecycle.create"
	EventUserActivate          = "user.lifecycle.activate"
	EventUserDeactivate        = "user.lifecycle.deactivate"
	EventUserSuspend           = "user.lifecycle.suspend"
	EventUserUnsuspend         = "user.lifecycle.unsuspend"
	EventUserUnlock            = "user.lifecycle.unlock"
	EventUserDelete            = "user.lifecycle.delete"
	EventUserUpdateProfile     = "user.account.update_profile"
	EventUserUpdatePassword    = "user.account.update_password"
	EventUserExpirePassword    = "user.account.expire_password"
	EventUserLock              = "user.account.lock" // lockout (password policy)
	EventPrivilegeGrant        = "user.account.privilege.grant"
	EventPrivilegeRevoke       = "user.account.privilege.revoke"
	EventGroupCreate           = "group.lifecycle.create"
	EventGroupDelete           = "group.lifecycle.delete"
	EventGroupUpdate           = "group.profile.update"
	EventGroupMembershipAdd    = "group.user_membership.add"
	EventGroupMembershipRemove = "group.user_membership.remove"
	// A group put in or taken out of another (nested groups, which Okta
	// does not have): dirgate's own event types, in Okta's naming.
	EventGroupGroupAdd    = "group.group_membership.add"
	EventGroupGroupRemove = "group.group_membership.remove"
	EventFactorActivate   = "user.mfa.factor.activate"
	EventFactorResetAll   = "user.mfa.factor.reset_all"
	EventFactorDeactivate = "user.mfa.factor.deactivate"
	EventPolicyCreate     = "policy.lifecycle.create"
	EventPolicyUpdate     = "policy.lifecycle.update"
	EventPolicyDelete     = "policy.lifecycle.delete"
	EventOrgDelete        = "system.org.delete"
	EventTokenCreate      = "system.api_token.create"
	EventTokenRevoke      = "system.api_token.revoke"
	// EventAPICall records one management-API call: who, what and how it
	// ended (the writes it made have events of their own).
	EventAPICall = "system.api.call"
	// EventPolicySignOn records which sign-on policy and rule decided a
	// sign-in whose password was right (only when an org policy decided,
	// not the built-in default).
	EventPolicySignOn = "policy.evaluate_sign_on"
)

// Outcome results (Okta's names).
const (
	ResultSuccess = "SUCCESS"
	ResultFailure = "FAILURE"
	ResultDeny    = "DENY"
	// Of policy.evaluate_sign_on: allowed, or allowed after a second factor.
	ResultAllow     = "ALLOW"
	ResultChallenge = "CHALLENGE"
)

// Event severities.
const (
	SeverityInfo = "INFO"
	SeverityWarn = "WARN"
)

// LogEvent is an event's document (store.Event.Doc), Okta's LogEvent shape.
type LogEvent struct {
	UUID           string        `json:"uuid"`
	Published      string        `json:"published"` // RFC 3339, milliseconds, UTC
	EventType      string        `json:"eventType"`
	Version        string        `json:"version"`
	Severity       string        `json:"severity"`
	DisplayMessage string        `json:"displayMessage"`
	Actor          LogActor      `json:"actor"`
	Client         *LogClient    `json:"client,omitempty"`
	Outcome        LogOutcome    `json:"outcome"`
	Target         []LogTarget   `json:"target,omitempty"`
	DebugContext   *DebugContext `json:"debugContext,omitempty"`
}

// LogActor is who did it: a user, or the system (CLI, serve itself).
type LogActor struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // "User" or "SystemPrincipal"
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// LogClient is where the request came from.
type LogClient struct {
	IPAddress string `json:"ipAddress,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	TLS       bool   `json:"tls"`
}

// LogOutcome is the result and, for failures, why.
type LogOutcome struct {
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
}

// LogTarget is what the event acted on.
type LogTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // "User", "UserGroup", "ROLE"
	AlternateID string `json:"alternateId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// DebugContext carries protocol details (e.g. bindDN).
type DebugContext struct {
	DebugData map[string]any `json:"debugData,omitempty"`
}

// systemActor acts for writes made without a named actor (the CLI, serve).
var systemActor = LogActor{ID: "dirgate", Type: "SystemPrincipal", AlternateID: "system@dirgate", DisplayName: "dirgate System"}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the writes made with it (the
// REST API and console name the signed-in administrator); without one the
// actor is the system principal.
func WithActor(ctx context.Context, a LogActor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorOf(ctx context.Context) LogActor {
	if a, ok := ctx.Value(actorKey{}).(LogActor); ok {
		return a
	}
	return systemActor
}

// EventFilter selects events for Events.
type EventFilter struct {
	Since     time.Time // published at or after (zero: no bound)
	Until     time.Time // published before (zero: no bound)
	EventType string    // exact; "" any
	AfterSeq  int64     // Seq greater than this (paging, following)
	// BeforeSeq > 0: Seq less than this (paging newest first).
	BeforeSeq int64
	// Descending returns the newest first.
	Descending bool
	Limit      int // at most this many (0: 1000; at most 1000)
}

// StoredEvent is a system log event as stored: its document is a LogEvent
// in JSON.
type StoredEvent = store.Event

// MaxEventsPage is the most events one Events call returns.
const MaxEventsPage = 1000

// Events returns the org's events that q selects, oldest first (newest
// first with q.Descending).
func (d *Directory) Events(ctx context.Context, org string, q EventFilter) ([]*store.Event, error) {
	o, err := d.Org(ctx, org)
	if err != nil {
		return nil, storeErr(err)
	}
	if q.Limit <= 0 || q.Limit > MaxEventsPage {
		q.Limit = MaxEventsPage
	}
	evs, err := d.st.Events(ctx, store.EventQuery{OrgID: o.ID, Since: q.Since, Until: q.Until,
		EventType: q.EventType, AfterSeq: q.AfterSeq, BeforeSeq: q.BeforeSeq, Descending: q.Descending, Limit: q.Limit})
	return evs, storeErr(err)
}

// DroppedEvents counts the events lost since New because the queue was
// full or the store refused them (for metrics).
func (d *Directory) DroppedEvents() uint64 { return d.audit.dropped.Load() }

// PruneEvents deletes the events older than the retention now (the log
// writer also does so periodically) and reports how many it deleted.
func (d *Directory) PruneEvents(ctx context.Context) (int64, error) {
	if d.audit.retention < 0 {
		return 0, nil
	}
	n, err := d.st.PruneEvents(ctx, d.now().Add(-d.audit.retention))
	return n, storeErr(err)
}

// Defaults of the event writer.
const (
	DefaultEventQueueSize = 10_000
	DefaultEventRetention = 90 * 24 * time.Hour
	eventBatch            = 4096 // a transaction per batch: fewer, larger ones at sign-in peaks
	eventFlushEvery       = 200 * time.Millisecond
	eventPruneFirst       = 10 * time.Second // short-lived CLI runs never prune
	eventPruneEvery       = time.Hour
	dropWarnEvery         = 10 * time.Second
	appendTries           = 3
)

// auditLog is the queue and its writer.
type auditLog struct {
	st        store.Store
	log       *slog.Logger
	retention time.Duration // < 0: keep forever
	prune     func(context.Context) (int64, error)

	q        chan *store.Event
	dropped  atomic.Uint64
	warnMu   sync.Mutex
	lastWarn time.Time
	warned   uint64 // dropped count at the last warning
	closed   atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

func newAuditLog(cfg Config, log *slog.Logger, prune func(context.Context) (int64, error)) *auditLog {
	size := cfg.EventQueueSize
	if size <= 0 {
		size = DefaultEventQueueSize
	}
	ret := cfg.EventRetention
	if ret == 0 {
		ret = DefaultEventRetention
	}
	return &auditLog{st: cfg.Store, log: log, retention: ret, prune: prune, q: make(chan *store.Event, size),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// enqueue never blocks: a full queue (or a closed log) drops the event.
func (a *auditLog) enqueue(e *store.Event) {
	if !a.closed.Load() {
		select {
		case a.q <- e:
			return
		default:
		}
	}
	n := a.dropped.Add(1)
	a.warnDropped(n, "the system log queue is full")
}

func (a *auditLog) warnDropped(n uint64, why string) {
	a.warnMu.Lock()
	defer a.warnMu.Unlock()
	now := time.Now()
	if !a.lastWarn.IsZero() && now.Sub(a.lastWarn) < dropWarnEvery {
		return
	}
	a.log.Warn("system log events dropped", "why", why, "dropped", n-a.warned, "droppedTotal", n)
	a.lastWarn, a.warned = now, n
}

func (a *auditLog) run() {
	defer close(a.done)
	batch := make([]*store.Event, 0, 64)
	flush := func() {
		if len(batch) > 0 {
			a.write(batch)
			batch = batch[:0]
		}
	}
	tick := time.NewTicker(eventFlushEvery)
	defer tick.Stop()
	pruneAt := time.NewTimer(eventPruneFirst)
	defer pruneAt.Stop()
	for {
		select {
		case e := <-a.q:
			batch = append(batch, e)
			if len(batch) >= eventBatch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-pruneAt.C:
			flush()
			if n, err := a.prune(context.Background()); err != nil {
				a.log.Warn("could not prune the system log", "err", err)
			} else if n > 0 {
				a.log.Info("pruned the system log", "events", n, "retention", a.retention)
			}
			pruneAt.Reset(eventPruneEvery)
		case <-a.stop:
			for {
				select {
				case e := <-a.q:
					batch = append(batch, e)
					if len(batch) >= eventBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// write appends one batch, retrying a few times; a batch the store keeps
// refusing is dropped and counted.
func (a *auditLog) write(batch []*store.Event) {
	var err error
	for try := range appendTries {
		if try > 0 {
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		if err = a.st.AppendEvents(context.Background(), batch); err == nil {
			return
		}
		if errors.Is(err, store.ErrConflict) {
			break // a UUID clash will not heal
		}
	}
	n := a.dropped.Add(uint64(len(batch)))
	a.log.Warn("could not write system log events", "events", len(batch), "err", err)
	a.warnDropped(n, "the store refused them")
}

// close stops the writer after it wrote what is queued.
func (a *auditLog) close() {
	a.once.Do(func() {
		a.closed.Store(true)
		close(a.stop)
	})
	<-a.done
}

// --- building events

const publishedLayout = "2006-01-02T15:04:05.000Z07:00"

func (d *Directory) emit(orgID string, ev *LogEvent) {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	now := d.now().UTC()
	ev.UUID, ev.Published, ev.Version = id.String(), now.Format(publishedLayout), "0"
	if ev.Severity == "" {
		ev.Severity = SeverityInfo
	}
	doc := appendEventJSON(make([]byte, 0, 512), ev)
	e := &store.Event{UUID: ev.UUID, Published: now, OrgID: orgID, EventType: ev.EventType,
		Outcome: ev.Outcome.Result, ActorID: ev.Actor.ID, Doc: doc}
	if len(ev.Target) > 0 {
		e.TargetID = ev.Target[0].ID
	}
	if ev.Actor.Type == systemActor.Type {
		e.ActorID = ""
	}
	d.audit.enqueue(e)
}

var displayMessages = map[string]string{
	EventAuthViaLDAP:           "Authenticate user via LDAP interface",
	EventUserCreate:            "Create user",
	EventUserActivate:          "Activate user",
	EventUserDeactivate:        "Deactivate user",
	EventUserSuspend:           "Suspend user",
	EventUserUnsuspend:         "Unsuspend user",
	EventUserUnlock:            "Unlock user",
	EventUserDelete:            "Delete user",
	EventUserUpdateProfile:     "Update user profile",
	EventUserUpdatePassword:    "Update password for user",
	EventUserExpirePassword:    "Expire password for user",
	EventUserLock:              "Max sign in attempts exceeded",
	EventPrivilegeGrant:        "Grant user privilege",
	EventPrivilegeRevoke:       "Revoke user privilege",
	EventGroupCreate:           "Create group",
	EventGroupDelete:           "Delete group",
	EventGroupUpdate:           "Update group profile",
	EventGroupMembershipAdd:    "Add user to group membership",
	EventGroupMembershipRemove: "Remove user from group membership",
	EventGroupGroupAdd:         "Add group to group membership",
	EventGroupGroupRemove:      "Remove group from group membership",
	EventFactorActivate:        "User set up an MFA factor",
	EventFactorResetAll:        "Reset all MFA factors for user",
	EventFactorDeactivate:      "Reset MFA factor for user",
	EventPolicyCreate:          "Create policy",
	EventPolicyUpdate:          "Update policy",
	EventPolicyDelete:          "Delete policy",
	EventOrgDelete:             "Delete org",
	EventTokenCreate:           "Create API token",
	EventTokenRevoke:           "Revoke API token",
	EventAPICall:               "Management API call",
	EventPolicySignOn:          "Evaluation of sign-on policy",
}

func userTarget(u *User) LogTarget {
	return LogTarget{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: userDisplayName(u)}
}

func userDisplayName(u *User) string {
	if u.Profile.DisplayName != "" {
		return u.Profile.DisplayName
	}
	if n := strings.TrimSpace(u.Profile.FirstName + " " + u.Profile.LastName); n != "" {
		return n
	}
	return u.Profile.Login
}

func groupTarget(g *Group) LogTarget {
	return LogTarget{ID: g.ID, Type: "UserGroup", AlternateID: g.Name, DisplayName: g.Name}
}

// auditWrite records a committed write by the context's actor; it does
// nothing when err is set (the write did not happen).
func (d *Directory) auditWrite(ctx context.Context, err error, orgID, eventType string, targets ...LogTarget) {
	if err != nil {
		return
	}
	d.emit(orgID, &LogEvent{EventType: eventType, DisplayMessage: displayMessages[eventType],
		Actor: actorOf(ctx), Outcome: LogOutcome{Result: ResultSuccess}, Target: targets})
}

// auditUser records a committed write to u.
func (d *Directory) auditUser(ctx context.Context, err error, eventType string, u *User) {
	if err == nil && u != nil {
		d.auditWrite(ctx, nil, u.OrgID, eventType, userTarget(u))
	}
}

// auditRole records a committed role grant or revocation.
func (d *Directory) auditRole(ctx context.Context, err error, eventType string, u *User, role string) {
	if err == nil && u != nil {
		d.auditWrite(ctx, nil, u.OrgID, eventType, userTarget(u), LogTarget{ID: role, Type: "ROLE", DisplayName: role})
	}
}

// lifecycleEvents maps lifecycle actions to their event types.
var lifecycleEvents = map[Action]string{
	ActionActivate: EventUserActivate, ActionDeactivate: EventUserDeactivate,
	ActionSuspend: EventUserSuspend, ActionUnsuspend: EventUserUnsuspend,
	ActionUnlock: EventUserUnlock, ActionExpirePassword: EventUserExpirePassword,
	actionLock: EventUserLock,
}

// auditAuth records one Authenticate outcome. u is the user the request
// named, if it exists. The password is never looked at.
// auditSignOn records the sign-on policy decision for u (see
// EventPolicySignOn).
func (d *Directory) auditSignOn(req *AuthRequest, u *User, dec policy.Decision) {
	if dec.PolicyID == "" {
		return
	}
	result := ResultAllow
	switch {
	case !dec.Action.Allowed():
		result = ResultDeny
	case dec.Action.RequiresMFA():
		result = ResultChallenge
	}
	d.emit(u.OrgID, &LogEvent{EventType: EventPolicySignOn, DisplayMessage: displayMessages[EventPolicySignOn],
		Actor:  LogActor{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: userDisplayName(u)},
		Client: &LogClient{IPAddress: req.Client.IP, Protocol: req.Client.Protocol, TLS: req.Client.TLS},
		Target: []LogTarget{
			{ID: dec.PolicyID, Type: "PolicyEntity", AlternateID: string(policy.KindSignOn), DisplayName: dec.PolicyName},
			{Type: "PolicyRule", DisplayName: dec.RuleName},
		},
		Outcome: LogOutcome{Result: result, Reason: "Sign-on policy evaluation resulted in " + result}})
}

func (d *Directory) auditAuth(req *AuthRequest, u *User, err error) {
	actor := LogActor{ID: req.UserID, Type: "User", AlternateID: req.Login, DisplayName: req.Login}
	if u != nil {
		actor = LogActor{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: userDisplayName(u)}
	}
	ev := &LogEvent{EventType: EventAuthViaLDAP, DisplayMessage: displayMessages[EventAuthViaLDAP], Actor: actor,
		Client:  &LogClient{IPAddress: req.Client.IP, Protocol: req.Client.Protocol, TLS: req.Client.TLS},
		Outcome: LogOutcome{Result: ResultSuccess}}
	if u != nil {
		ev.Target = []LogTarget{userTarget(u)}
	}
	if err == nil && u != nil && u.Status == StatusPasswordExpired {
		ev.Outcome.Reason = "password expired: the connection may only change it"
	}
	if err != nil {
		ev.Severity, ev.Outcome.Result = SeverityWarn, ResultFailure
		var de *Error
		if errors.As(err, &de) {
			ev.Outcome.Reason = de.Reason
			if de.Reason == "" {
				ev.Outcome.Reason = de.Message
			}
			if de.Code == CodePolicyDenied {
				ev.Outcome.Result = ResultDeny
			}
		} else {
			ev.Outcome.Reason = err.Error()
		}
	}
	if req.Client.BindDN != "" {
		ev.DebugContext = &DebugContext{DebugData: map[string]any{"bindDN": req.Client.BindDN}}
	}
	d.emit(req.OrgID, ev)
}

// RecordAPICall records one management-API call by p (EventAPICall): the
// method, the path (never the query or body) and the status it got.
func (d *Directory) RecordAPICall(p *Principal, c ClientInfo, method, path string, status int) {
	result := ResultSuccess
	if status >= 400 {
		result = ResultFailure
	}
	if status == 401 || status == 403 || status == 429 {
		result = ResultDeny
	}
	d.emit(p.OrgID(), &LogEvent{EventType: EventAPICall, DisplayMessage: displayMessages[EventAPICall],
		Actor:        p.Actor(),
		Client:       &LogClient{IPAddress: c.IP, Protocol: c.Protocol, TLS: c.TLS},
		Outcome:      LogOutcome{Result: result},
		Target:       []LogTarget{tokenTarget(p.Token)},
		DebugContext: &DebugContext{DebugData: map[string]any{"method": method, "path": path, "status": status}}})
}
