package directory

// Push sign-ins, the role Okta Verify's push plays: a sign-in whose
// sign-on policy asks for MFA may carry "push" where the one-time code
// goes (an LDAP bind's "<password>,push"); once the password is right,
// Authenticate waits until the user approves or denies the request on
// the console's self-service page, or until PushTimeout passes. A denial
// or a timeout is the sign-on policy's denial (49, "Authentication denied
// by sign on policy.").
//
// Waiting requests live in this process's memory: the console that
// answers must be served by the same dirgate process as the bind (with
// several nodes, issue 11 moves them to the store). They are bounded per
// user and in all, so a client that knows a password cannot pile them up.

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

const (
	// DefaultPushTimeout is how long a push sign-in waits for its answer.
	DefaultPushTimeout = 60 * time.Second
	// PushCode is what a sign-in gives instead of a one-time code to ask
	// for a push (compared without case).
	PushCode = "push"
	// maxPushesPerUser and maxPushes bound the waiting requests.
	maxPushesPerUser = 3
	maxPushes        = 10_000
	prefixPush       = "00p"
)

// Push events (Okta's names).
const (
	EventPushSent    = "system.push.send_factor_verify_push"
	EventPushApprove = "user.authentication.auth_via_mfa"
	EventPushDeny    = "user.mfa.okta_verify.deny_push"
)

func init() {
	displayMessages[EventPushSent] = "Push notification sent for factor verification"
	displayMessages[EventPushApprove] = "Authentication of user via MFA (push approved)"
	displayMessages[EventPushDeny] = "User rejected Okta push verify"
}

// PushRequest is a push sign-in waiting for its user's answer.
type PushRequest struct {
	ID            string
	OrgID, UserID string
	// Client is where the sign-in comes from (IP, protocol, TLS, and the
	// application on whose behalf it asks, when known).
	Client           ClientInfo
	Created, Expires time.Time

	answer chan bool // buffered: the first answer wins
}

type pushHub struct {
	timeout time.Duration
	mu      sync.Mutex
	byID    map[string]*PushRequest
	perUser map[string]int
}

func newPushHub(timeout time.Duration) *pushHub {
	if timeout <= 0 {
		timeout = DefaultPushTimeout
	}
	return &pushHub{timeout: timeout, byID: map[string]*PushRequest{}, perUser: map[string]int{}}
}

// add registers p unless the user or the process has too many waiting.
func (h *pushHub) add(p *PushRequest) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byID) >= maxPushes || h.perUser[p.UserID] >= maxPushesPerUser {
		return false
	}
	h.byID[p.ID] = p
	h.perUser[p.UserID]++
	return true
}

func (h *pushHub) remove(p *PushRequest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID[p.ID] != p {
		return
	}
	delete(h.byID, p.ID)
	if h.perUser[p.UserID]--; h.perUser[p.UserID] <= 0 {
		delete(h.perUser, p.UserID)
	}
}

// isPush reports whether a sign-in's code asks for a push.
func isPush(code []byte) bool { return strings.EqualFold(string(code), PushCode) }

// waitPush sends u a push sign-in and waits for the answer: nil when the
// user approved it, else the sign-on policy's denial saying why.
func (d *Directory) waitPush(ctx context.Context, u *User, req *AuthRequest, dec policy.Decision) error {
	var active bool
	err := d.st.View(ctx, func(r store.Reader) error {
		fs, err := r.Factors(u.ID)
		active = slices.ContainsFunc(fs, func(f *store.Factor) bool { return f.Type == store.FactorPush && f.Status == store.FactorActive })
		return err
	})
	if err != nil {
		return storeErr(err)
	}
	if !active {
		return policyDenied(MsgNoFactor, dec, "push sign-in asked for and the user has not turned push sign-ins on")
	}
	now := d.now().UTC()
	p := &PushRequest{ID: newID(prefixPush), OrgID: u.OrgID, UserID: u.ID, Client: req.Client,
		Created: now, Expires: now.Add(d.pushes.timeout), answer: make(chan bool, 1)}
	p.Client.BindDN = "" // the user knows their own name; keep what they need
	if !d.pushes.add(p) {
		return policyDenied(MsgPolicyDenied, dec, "too many push sign-ins waiting for this user")
	}
	defer d.pushes.remove(p)
	d.emit(u.OrgID, &LogEvent{EventType: EventPushSent, DisplayMessage: displayMessages[EventPushSent],
		Actor:   userActor(u),
		Client:  &LogClient{IPAddress: req.Client.IP, Protocol: req.Client.Protocol, TLS: req.Client.TLS},
		Target:  []LogTarget{userTarget(u)},
		Outcome: LogOutcome{Result: ResultSuccess}})
	t := time.NewTimer(d.pushes.timeout)
	defer t.Stop()
	select {
	case ok := <-p.answer:
		if ok {
			return nil
		}
		return policyDenied(MsgPolicyDenied, dec, "push sign-in denied by the user")
	case <-t.C:
		return policyDenied(MsgPolicyDenied, dec, "push sign-in not answered within "+d.pushes.timeout.String())
	case <-ctx.Done():
		return policyDenied(MsgPolicyDenied, dec, "push sign-in abandoned: "+ctx.Err().Error())
	}
}

// PendingPushes returns the user's push sign-ins waiting for an answer,
// oldest first.
func (d *Directory) PendingPushes(orgID, userID string) []PushRequest {
	h := d.pushes
	h.mu.Lock()
	var out []PushRequest
	for _, p := range h.byID {
		if p.UserID == userID && p.OrgID == orgID {
			out = append(out, *p)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b PushRequest) int { return a.Created.Compare(b.Created) })
	for i := range out {
		out[i].answer = nil
	}
	return out
}

// PendingPushCount is how many push sign-ins wait for the user.
func (d *Directory) PendingPushCount(userID string) int {
	d.pushes.mu.Lock()
	defer d.pushes.mu.Unlock()
	return d.pushes.perUser[userID]
}

// AnswerPush approves or denies one of the user's waiting push sign-ins.
// Only the user it was sent to can answer it; one that timed out or was
// answered already is CodeNotFound.
func (d *Directory) AnswerPush(ctx context.Context, orgID, userID, id string, approve bool) error {
	h := d.pushes
	h.mu.Lock()
	p := h.byID[id]
	if p != nil && (p.UserID != userID || p.OrgID != orgID) {
		p = nil
	}
	if p != nil {
		delete(h.byID, id) // answered: gone from the list at once
		if h.perUser[p.UserID]--; h.perUser[p.UserID] <= 0 {
			delete(h.perUser, p.UserID)
		}
	}
	h.mu.Unlock()
	if p == nil {
		return errf(CodeNotFound, "that sign-in request is no longer waiting (it was answered or timed out)")
	}
	p.answer <- approve
	ev, result := EventPushApprove, ResultSuccess
	if !approve {
		ev, result = EventPushDeny, ResultDeny
	}
	d.emit(orgID, &LogEvent{EventType: ev, DisplayMessage: displayMessages[ev], Actor: actorOf(ctx),
		Client:  &LogClient{IPAddress: p.Client.IP, Protocol: p.Client.Protocol, TLS: p.Client.TLS},
		Target:  []LogTarget{{ID: userID, Type: "User"}},
		Outcome: LogOutcome{Result: result}})
	return nil
}

// EnrollPush turns push sign-ins on for the user: an ACTIVE push factor
// (the user is signed in to the console when they do it, so there is
// nothing more to prove).
func (d *Directory) EnrollPush(ctx context.Context, org, userRef string) (*store.Factor, error) {
	var out *store.Factor
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, u, fs, err := userFactors(tx, org, userRef)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(fs, func(f *store.Factor) bool { return f.Type == store.FactorPush }) {
			return errf(CodeConflict, "push sign-ins are already on for user %s", u.Profile.Login)
		}
		now := d.now().UTC()
		out = &store.Factor{ID: newID(prefixFactor), OrgID: o.ID, UserID: u.ID, Type: store.FactorPush,
			Status: store.FactorActive, Created: now, Activated: now, LastUpdated: now}
		return tx.CreateFactor(out)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, out.OrgID, EventFactorActivate,
		LogTarget{ID: out.UserID, Type: "User"}, LogTarget{ID: out.ID, Type: "Factor", DisplayName: out.Type})
	return out, nil
}

func userActor(u *User) LogActor {
	return LogActor{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: userDisplayName(u)}
}
