package directory_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
	"github.com/dirgate/dirgate/internal/totp"
)

// factorEnv is a directory with a secret key over a real SQLite store,
// with an injected clock, and what a test needs to open a second one.
type factorEnv struct {
	d     *directory.Directory
	st    store.Store
	c     *clock
	db    string
	keys  *sealed.Keys
	alice *directory.User
}

func testKeys(t *testing.T) *sealed.Keys {
	t.Helper()
	raw := make([]byte, 32)
	rand.Read(raw)
	k, err := sealed.KeyFromString(hex.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := sealed.NewKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// openDir opens another Directory (another "process") over the database.
func (e *factorEnv) openDir(t *testing.T, keys *sealed.Keys) *directory.Directory {
	t.Helper()
	st, err := sqlite.Open(e.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: cheap, Now: e.c.now, LoginFlushInterval: time.Hour, Secrets: keys, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	return d
}

func newFactorEnv(t *testing.T) *factorEnv {
	t.Helper()
	e := &factorEnv{db: filepath.Join(t.TempDir(), "dirgate.db"), keys: testKeys(t),
		c: &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}}
	st, err := sqlite.Open(e.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	e.d, err = directory.New(directory.Config{Store: st, Password: cheap, Now: e.c.now, LoginFlushInterval: time.Hour, Secrets: e.keys, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.d.Close(); st.Close() })
	if _, err := e.d.CreateOrg(context.Background(), directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	e.alice = mustUser(t, e.d, "alice", "password-alice", "")
	return e
}

// enrol enrols login and returns the enrolment and its decoded secret.
func (e *factorEnv) enrol(t *testing.T, login string) (*directory.Enrollment, []byte) {
	t.Helper()
	en, err := e.d.EnrollTOTP(context.Background(), "example", login)
	if err != nil {
		t.Fatalf("enrol %s: %v", login, err)
	}
	secret, err := totp.DecodeSecret(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return en, secret
}

// activate enrols login and activates its factor with the current code.
func (e *factorEnv) activate(t *testing.T, login string) []byte {
	t.Helper()
	_, secret := e.enrol(t, login)
	if _, err := e.d.ActivateTOTP(context.Background(), "example", login, totp.Code(secret, e.c.t)); err != nil {
		t.Fatalf("activate %s: %v", login, err)
	}
	return secret
}

func TestEnrollTOTP(t *testing.T) {
	e := newFactorEnv(t)
	ctx := context.Background()
	en, _ := e.enrol(t, "ALICE")

	u, err := url.Parse(en.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, c := range []struct{ what, got, want string }{
		{"scheme", u.Scheme, "otpauth"},
		{"type", u.Host, "totp"},
		{"label", u.Path, "/dirgate (example):alice"},
		{"secret", q.Get("secret"), en.Secret},
		{"issuer", q.Get("issuer"), "dirgate (example)"},
		{"algorithm", q.Get("algorithm"), "SHA1"},
		{"digits", q.Get("digits"), "6"},
		{"period", q.Get("period"), "30"},
	} {
		if c.got != c.want {
			t.Errorf("URI %s: %q, want %q", c.what, c.got, c.want)
		}
	}
	f := en.Factor
	if !strings.HasPrefix(f.ID, "00f") || len(f.ID) != 20 || f.UserID != e.alice.ID || f.Type != store.FactorTOTP ||
		f.Status != store.FactorPendingActivation || f.LastStep != 0 || !f.Created.Equal(e.c.t) {
		t.Fatalf("factor %+v", f)
	}
	png, err := en.QRPNG()
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("QR PNG: %d bytes, %v", len(png), err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("enrolled", "enrollment", en)
	for _, s := range []string{fmt.Sprintf("%v", en), fmt.Sprintf("%+v", en), fmt.Sprintf("%#v", en), fmt.Sprintf("%s", en), logged.String()} {
		if strings.Contains(s, en.Secret) || strings.Contains(s, "otpauth") {
			t.Fatalf("formatted enrolment shows the secret: %s", s)
		}
	}

	// Enrolling again replaces the pending factor.
	en2, _ := e.enrol(t, "alice")
	fs, err := e.d.Factors(ctx, "example", "alice")
	if err != nil || len(fs) != 1 || fs[0].ID != en2.Factor.ID || en2.Secret == en.Secret {
		t.Fatalf("after re-enrolment: %v %v", fs, err)
	}

	for _, tc := range []struct {
		name, org, login string
		code             directory.Code
	}{
		{"unknown user", "example", "nobody", directory.CodeNotFound},
		{"unknown org", "nope", "alice", directory.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.d.EnrollTOTP(ctx, tc.org, tc.login)
			wantCode(t, err, tc.code)
		})
	}
}

func TestActivateTOTP(t *testing.T) {
	e := newFactorEnv(t)
	ctx := context.Background()
	mustUser(t, e.d, "bob", "password-bob", "")
	_, secret := e.enrol(t, "alice")
	now := e.c.t
	for _, tc := range []struct {
		name, login, code string
		want              directory.Code
		msg               string
	}{
		{"wrong code", "alice", wrongCode(secret, now), directory.CodeInvalidCredentials, "TOTP code is wrong"},
		{"malformed code", "alice", "12345a", directory.CodeInvalidCredentials, "TOTP code is wrong"},
		{"code of two steps ago", "alice", totp.Code(secret, now.Add(-2*totp.Period)), directory.CodeInvalidCredentials, "TOTP code is wrong"},
		{"not enrolled", "bob", totp.Code(secret, now), directory.CodeNotFound, "enrol one first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.d.ActivateTOTP(ctx, "example", tc.login, tc.code)
			wantCode(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q, want it to say %q", err, tc.msg)
			}
		})
	}
	fs, _ := e.d.Factors(ctx, "example", "alice")
	if len(fs) != 1 || fs[0].Status != store.FactorPendingActivation {
		t.Fatalf("a failed activation changed the factor: %+v", fs)
	}

	// The previous step's code is within the skew.
	f, err := e.d.ActivateTOTP(ctx, "example", "alice", totp.Code(secret, now.Add(-totp.Period)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != store.FactorActive || f.LastStep != totp.Step(now)-1 || !f.Activated.Equal(now) {
		t.Fatalf("activated factor %+v", f)
	}
	_, err = e.d.ActivateTOTP(ctx, "example", "alice", totp.Code(secret, now))
	wantCode(t, err, directory.CodeConflict)
	_, err = e.d.EnrollTOTP(ctx, "example", "alice")
	wantCode(t, err, directory.CodeConflict)
	if !strings.Contains(err.Error(), "reset") {
		t.Fatalf("enrol while active: %v", err)
	}
}

// wrongCode returns a well-formed code that no step near t has.
func wrongCode(secret []byte, t time.Time) string {
	used := map[string]bool{}
	for s := -2; s <= 2; s++ {
		used[totp.Code(secret, t.Add(time.Duration(s)*totp.Period))] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		if !used[c] {
			return c
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	e := newFactorEnv(t)
	ctx := context.Background()
	secret := e.activate(t, "alice") // LastStep = step of t0
	t0 := e.c.t
	// Each row runs at clock t0+at with the code of step t0+codeAt, in order.
	for _, tc := range []struct {
		name       string
		at, codeAt time.Duration
		want       bool
	}{
		{"activation code replayed", 0, 0, false},
		{"next step's code (clock behind)", 0, totp.Period, true},
		{"its replay", 0, totp.Period, false},
		{"its replay 30 s later", totp.Period, totp.Period, false},
		{"older step within skew", 2 * totp.Period, totp.Period, false},
		{"current step", 2 * totp.Period, 2 * totp.Period, true},
		{"next step", 3 * totp.Period, 3 * totp.Period, true},
		{"code too far ahead", 3 * totp.Period, 5 * totp.Period, false},
		{"code too old", 10 * totp.Period, 8 * totp.Period, false},
		{"previous step within skew", 10 * totp.Period, 9 * totp.Period, true},
		{"wrong code", 10 * totp.Period, -1, false},
		{"malformed", 10 * totp.Period, -2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.c.t = t0.Add(tc.at)
			code := totp.Code(secret, t0.Add(tc.codeAt))
			switch tc.codeAt {
			case -1:
				code = wrongCode(secret, e.c.t)
			case -2:
				code = "1234567"
			}
			ok, err := e.d.VerifyTOTP(ctx, e.alice.ID, code)
			if err != nil || ok != tc.want {
				t.Fatalf("VerifyTOTP = %v, %v; want %v", ok, err, tc.want)
			}
		})
	}

	// Another process over the same store sees the step stored: a code
	// accepted here is refused there.
	e.c.t = t0.Add(20 * totp.Period)
	code := totp.Code(secret, e.c.t)
	if ok, err := e.d.VerifyTOTP(ctx, e.alice.ID, code); !ok || err != nil {
		t.Fatalf("fresh code: %v %v", ok, err)
	}
	other := e.openDir(t, e.keys)
	if ok, err := other.VerifyTOTP(ctx, e.alice.ID, code); ok || err != nil {
		t.Fatalf("replay in another process: %v %v", ok, err)
	}

	// Not enrolled (no factor, or only a pending one) is its own error.
	bob := mustUser(t, e.d, "bob", "password-bob", "")
	_, err := e.d.VerifyTOTP(ctx, bob.ID, code)
	wantCode(t, err, directory.CodeForbidden)
	e.enrol(t, "bob")
	_, err = e.d.VerifyTOTP(ctx, bob.ID, code)
	wantCode(t, err, directory.CodeForbidden)
	if !strings.Contains(err.Error(), "no active TOTP factor") {
		t.Fatalf("not enrolled: %v", err)
	}
}

func TestFactorSecretSealed(t *testing.T) {
	e := newFactorEnv(t)
	ctx := context.Background()
	en, secret := e.enrol(t, "alice")
	var stored *store.Factor
	if err := e.st.View(ctx, func(r store.Reader) error {
		var err error
		stored, err = r.Factor(en.Factor.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, clearText := range []string{en.Secret, strings.ToLower(en.Secret), hex.EncodeToString(secret), string(secret)} {
		if strings.Contains(stored.Secret, clearText) {
			t.Fatalf("stored secret %q holds the secret in clear", stored.Secret)
		}
	}
	if !strings.HasPrefix(stored.Secret, "v1:"+e.keys.Current().ID()+":") {
		t.Fatalf("stored secret %q is not sealed with the key", stored.Secret)
	}
	if _, err := e.d.ActivateTOTP(ctx, "example", "alice", totp.Code(secret, e.c.t)); err != nil {
		t.Fatal(err)
	}

	// Alice's sealed secret copied to Bob's factor does not open for Bob.
	bob := mustUser(t, e.d, "bob", "password-bob", "")
	enBob, _ := e.enrol(t, "bob")
	if err := e.st.Update(ctx, func(tx store.Tx) error {
		f := *enBob.Factor
		f.Secret, f.Status = stored.Secret, store.FactorActive
		return tx.UpdateFactor(&f)
	}); err != nil {
		t.Fatal(err)
	}
	e.c.t = e.c.t.Add(totp.Period)
	ok, err := e.d.VerifyTOTP(ctx, bob.ID, totp.Code(secret, e.c.t))
	if ok {
		t.Fatal("a secret copied to another user opened")
	}
	wantCode(t, err, directory.CodeInternal)

	// Another key does not open it either; no key at all is a clear error.
	_, err = e.openDir(t, testKeys(t)).VerifyTOTP(ctx, e.alice.ID, totp.Code(secret, e.c.t))
	wantCode(t, err, directory.CodeInternal)
	none := e.openDir(t, nil)
	_, err = none.EnrollTOTP(ctx, "example", "bob")
	wantCode(t, err, directory.CodeUnavailable)
	if !strings.Contains(err.Error(), "no secret key configured") {
		t.Fatalf("no key: %v", err)
	}
	_, err = none.ActivateTOTP(ctx, "example", "bob", "123456")
	wantCode(t, err, directory.CodeUnavailable)
	_, err = none.VerifyTOTP(ctx, e.alice.ID, "123456")
	wantCode(t, err, directory.CodeUnavailable)
	// The right key still verifies Alice's code.
	if ok, err := e.d.VerifyTOTP(ctx, e.alice.ID, totp.Code(secret, e.c.t)); !ok || err != nil {
		t.Fatalf("alice after the failed attempts: %v %v", ok, err)
	}
}

func TestResetFactors(t *testing.T) {
	e := newFactorEnv(t)
	ctx := context.Background()
	secret := e.activate(t, "alice")
	// Reset needs no key (it is how a lost key is recovered from).
	n, err := e.openDir(t, nil).ResetFactors(ctx, "example", "alice")
	if err != nil || n != 1 {
		t.Fatalf("reset: %d %v", n, err)
	}
	if fs, err := e.d.Factors(ctx, "example", "alice"); err != nil || len(fs) != 0 {
		t.Fatalf("factors after reset: %v %v", fs, err)
	}
	_, err = e.d.VerifyTOTP(ctx, e.alice.ID, totp.Code(secret, e.c.t.Add(totp.Period)))
	wantCode(t, err, directory.CodeForbidden)
	if n, err := e.d.ResetFactors(ctx, "example", "alice"); err != nil || n != 0 {
		t.Fatalf("second reset: %d %v", n, err)
	}
	_, err = e.d.ResetFactors(ctx, "example", "nobody")
	wantCode(t, err, directory.CodeNotFound)
	// A new enrolment works after the reset, with a new secret.
	secret2 := e.activate(t, "alice")
	if bytes.Equal(secret, secret2) {
		t.Fatal("the same secret after a reset")
	}
}
