package dit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
)

// syncEvent is what a synchronisation sent: an entry with its state, an
// intermediate Sync Info, or the end.
type syncEvent struct {
	dn     string
	state  goldap.ControlSyncStateState
	attrs  map[string]string
	info   *goldap.ControlSyncInfo
	done   *goldap.ControlSyncDone
	err    error
	finish bool
}

// syncStream runs a synchronisation and delivers what it sends.
func syncStream(t *testing.T, c *goldap.Conn, mode goldap.ControlSyncRequestMode, cookie []byte, filter string) (<-chan syncEvent, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req := goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter,
		[]string{"uid", "title", "memberOf", "cn"}, nil)
	r := c.Syncrepl(ctx, req, 64, mode, cookie, false)
	ch := make(chan syncEvent, 256)
	go func() {
		defer close(ch)
		for r.Next() {
			ev := syncEvent{}
			if e := r.Entry(); e != nil {
				ev.dn, ev.attrs = e.DN, map[string]string{}
				for _, a := range e.Attributes {
					ev.attrs[a.Name] = strings.Join(a.Values, "|")
				}
			}
			for _, ctl := range r.Controls() {
				switch x := ctl.(type) {
				case *goldap.ControlSyncState:
					ev.state = x.State
				case *goldap.ControlSyncInfo:
					ev.info = x
				case *goldap.ControlSyncDone:
					ev.done = x
				}
			}
			ch <- ev
		}
		ch <- syncEvent{err: r.Err(), finish: true}
	}()
	t.Cleanup(cancel)
	return ch, cancel
}

// collect reads events until until says stop (or 10 s pass).
func collect(t *testing.T, ch <-chan syncEvent, until func(syncEvent) bool) []syncEvent {
	t.Helper()
	var evs []syncEvent
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
			if until(ev) {
				return evs
			}
		case <-timeout:
			t.Fatalf("no end after %d events: %+v", len(evs), evs)
		}
	}
}

// entries lists the entries among evs as "state dn".
func entriesOf(evs []syncEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.dn != "" {
			out = append(out, [...]string{"present", "add", "modify", "delete"}[ev.state]+" "+ev.dn)
		}
	}
	slices.Sort(out)
	return out
}

func isInfo(ev syncEvent) bool { return ev.info != nil }
func isEnd(ev syncEvent) bool  { return ev.finish }

// TestContentSync: RFC 4533 over a real directory, with go-ldap's
// consumer. refreshOnly sends the whole content, then with a cookie only
// what changed (the delete phase), or the whole content again when a
// change touches entries it does not name; refreshAndPersist follows
// additions, modifications and deletions as they happen, ends with
// e-syncRefreshRequired when the org's settings change, and shows a plain
// user only its own entry, ending when that user is no longer active.
func TestContentSync(t *testing.T) {
	dir, url := passwordDirectory(t)
	ctx := context.Background()
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	users := "(objectClass=inetOrgPerson)"
	all := []string{"add " + pwDN("alice"), "add " + pwDN("bob"), "add " + pwDN("ops"), "add " + pwDN("root"), "add " + pwDN("svc")}

	ch, _ := syncStream(t, ops, goldap.SyncRequestModeRefreshOnly, nil, users)
	evs := collect(t, ch, isEnd)
	end := evs[len(evs)-2]
	if got := entriesOf(evs); !slices.Equal(got, all) || end.done == nil || end.done.RefreshDeletes || evs[len(evs)-1].err != nil {
		t.Fatalf("the first refresh: %q, done %+v", got, end.done)
	}
	cookie := end.done.Cookie

	ch, _ = syncStream(t, ops, goldap.SyncRequestModeRefreshOnly, cookie, users)
	evs = collect(t, ch, isEnd)
	if got, done := entriesOf(evs), evs[len(evs)-2].done; len(got) != 0 || done == nil || !done.RefreshDeletes || string(done.Cookie) != string(cookie) {
		t.Fatalf("a refresh with nothing changed: %q, %+v", got, done)
	}

	// Changes to records: only those, as add, or delete once out of the
	// filter's reach.
	if _, err := dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "dave"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.PatchProfile(ctx, "acme", "alice", map[string]string{"title": "Pilot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Lifecycle(ctx, "acme", "bob", directory.ActionSuspend); err != nil {
		t.Fatal(err)
	}
	active := "(&(objectClass=inetOrgPerson)(organizationalStatus=ACTIVE))"
	// (Until the snapshot has all three, the refresh sends what it has,
	// and a cookie from before the rest.)
	want := []string{"add " + pwDN("alice"), "add " + pwDN("dave"), "delete " + pwDN("bob")}
	waitFor(t, "the changes in a delta refresh", func() bool {
		ch, _ = syncStream(t, ops, goldap.SyncRequestModeRefreshOnly, cookie, active)
		evs = collect(t, ch, isEnd)
		return slices.Equal(entriesOf(evs), want)
	})
	if !evs[len(evs)-2].done.RefreshDeletes {
		t.Fatal("a delta refresh without refreshDeletes")
	}
	cookie = evs[len(evs)-2].done.Cookie

	// A membership changes other entries' memberOf: the whole content.
	if _, err := dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: "eng"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AddMember(ctx, "acme", "eng", "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a full refresh after a membership", func() bool {
		ch, _ = syncStream(t, ops, goldap.SyncRequestModeRefreshOnly, cookie, users)
		evs = collect(t, ch, isEnd)
		return !evs[len(evs)-2].done.RefreshDeletes
	})
	if got := entriesOf(evs); len(got) != 6 {
		t.Fatalf("the full refresh: %q", got)
	}

	// refreshAndPersist, from a snapshot with all of the above.
	waitFor(t, "alice in eng", func() bool {
		return readEntry(t, ops, pwDN("alice"), "memberOf").GetAttributeValue("memberOf") == grDN("eng")
	})
	ch, stop := syncStream(t, ops, goldap.SyncRequestModeRefreshAndPersist, nil, "(|(objectClass=inetOrgPerson)(objectClass=groupOfUniqueNames))")
	evs = collect(t, ch, isInfo)
	if info := evs[len(evs)-1].info; info.RefreshPresent == nil || !info.RefreshPresent.RefreshDone || len(entriesOf(evs)) != 7 {
		t.Fatalf("the persist search's refresh: %q, %+v", entriesOf(evs), info)
	}
	// step makes a change and reads the steps it comes in (one, or
	// several when its parts reach the snapshot apart) until the entries'
	// latest states are want.
	step := func(what string, change func(), want ...string) {
		t.Helper()
		change()
		latest := map[string]string{}
		for {
			evs := collect(t, ch, isInfo)
			if info := evs[len(evs)-1].info; info == nil || info.NewCookie == nil {
				t.Fatalf("%s: a step ended with %+v, want a new cookie", what, evs[len(evs)-1])
			}
			for _, e := range entriesOf(evs) {
				state, dn, _ := strings.Cut(e, " ")
				latest[dn] = state
			}
			var got []string
			for dn, state := range latest {
				got = append(got, state+" "+dn)
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
			if len(got) > len(want) {
				t.Fatalf("%s: %q, want %q", what, got, want)
			}
		}
	}
	step("a new user", func() {
		if _, err := dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "erin"}}); err != nil {
			t.Fatal(err)
		}
	}, "add "+pwDN("erin"))
	step("a changed user", func() {
		if _, err := dir.PatchProfile(ctx, "acme", "erin", map[string]string{"title": "Engineer"}); err != nil {
			t.Fatal(err)
		}
	}, "modify "+pwDN("erin"))
	step("a membership", func() {
		if _, err := dir.AddMember(ctx, "acme", "eng", "erin"); err != nil {
			t.Fatal(err)
		}
	}, "modify "+grDN("eng"), "modify "+pwDN("erin"))
	step("a deleted user", func() {
		for range 2 {
			if _, err := dir.DeactivateOrDelete(ctx, "acme", "erin"); err != nil {
				t.Fatal(err)
			}
		}
	}, "delete "+pwDN("erin"), "modify "+grDN("eng"))
	if _, err := dir.SetLDAPWrites(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	evs = collect(t, ch, isEnd)
	var le *goldap.Error
	if err := evs[len(evs)-1].err; !errors.As(err, &le) || le.ResultCode != 4096 {
		t.Errorf("after the org's settings changed: %v, want e-syncRefreshRequired (4096)", err)
	}
	stop()

	// A plain user follows its own entry, and only while active.
	alice := pwBind(t, url, "alice", "alice-Passw0rd")
	ch, _ = syncStream(t, alice, goldap.SyncRequestModeRefreshAndPersist, nil, users)
	evs = collect(t, ch, isInfo)
	if got := entriesOf(evs); !slices.Equal(got, []string{"add " + pwDN("alice")}) {
		t.Fatalf("alice's refresh: %q", got)
	}
	if _, err := dir.PatchProfile(ctx, "acme", "ops", map[string]string{"title": "Boss"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.PatchProfile(ctx, "acme", "alice", map[string]string{"title": "Captain"}); err != nil {
		t.Fatal(err)
	}
	evs = collect(t, ch, func(ev syncEvent) bool { return ev.dn != "" })
	if got := entriesOf(evs); !slices.Equal(got, []string{"modify " + pwDN("alice")}) || evs[len(evs)-1].attrs["title"] != "Captain" {
		t.Errorf("alice's persist stage: %q %v", got, evs[len(evs)-1].attrs)
	}
	if _, err := dir.Lifecycle(ctx, "acme", "alice", directory.ActionSuspend); err != nil {
		t.Fatal(err)
	}
	evs = collect(t, ch, isEnd)
	if err := evs[len(evs)-1].err; !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInsufficientAccessRights {
		t.Errorf("alice's synchronisation after her suspension: %v", err)
	}
}
