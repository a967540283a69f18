package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/totp"
)

func TestPersonCreateEditFactorsDelete(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	csrf := b.signIn("admin", "admin-Password-1")
	form := url.Values{"csrf": {csrf}, "login": {"dana"}, "email": {"not-an-address"}, "firstName": {"Dana"}, "activate": {"on"}}
	code, page, _ := b.post("/console/people", form)
	if code != http.StatusBadRequest || !strings.Contains(page, `id="email-error"`) || !strings.Contains(page, `value="Dana"`) {
		t.Fatalf("create with a bad email: %d\n%s", code, page)
	}
	form.Set("email", "dana@example.com")
	form.Set("password", "Dana-password-1")
	code, _, h := b.post("/console/people", form)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	dpath := h.Get("Location")
	u, err := f.d.User(ctx, "example", "dana")
	if err != nil || u.Status != directory.StatusActive || u.PasswordHash == "" {
		t.Fatalf("dana: %+v, %v", u, err)
	}

	// Edit: the fields the form names change, custom ones stay.
	if code, _, _ := b.post(dpath+"/profile", url.Values{"csrf": {csrf}, "login": {"dana"}, "email": {"dana@example.com"},
		"firstName": {"Dana"}, "lastName": {"Diaz"}, "title": {"SRE"}}); code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	if u, _ = f.d.User(ctx, "example", "dana"); u.Profile.LastName != "Diaz" || u.Profile.Title != "SRE" {
		t.Fatalf("after the edit: %+v", u.Profile)
	}
	code, page, _ = b.post(dpath+"/profile", url.Values{"csrf": {csrf}, "login": {"carol"}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="login-error"`) || !strings.Contains(page, "already exists") {
		t.Fatalf("renaming to a taken login: %d\n%s", code, page)
	}

	// TOTP: enrol shows the QR code and the secret once; a code activates.
	code, page, _ = b.post(dpath+"/factors/enroll", url.Values{"csrf": {csrf}})
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page)
	if code != 200 || m == nil || !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("enrol: %d\n%s", code, page)
	}
	if _, page, _ = b.get(dpath); strings.Contains(page, m[1]) {
		t.Fatalf("the secret shows again on the person's page")
	}
	key, err := totp.DecodeSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := b.post(dpath+"/factors/activate", url.Values{"csrf": {csrf}, "code": {totp.Code(key, time.Now())}}); code != http.StatusSeeOther {
		t.Fatalf("activate: %d", code)
	}
	if _, page, _ = b.get(dpath); !strings.Contains(page, "The TOTP factor is active.") || !strings.Contains(page, `badge active">ACTIVE`) {
		t.Fatalf("after activating:\n%s", page)
	}
	if code, _, _ := b.post(dpath+"/factors/reset", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("reset: %d", code)
	}
	if fs, _ := f.d.Factors(ctx, "example", "dana"); len(fs) != 0 {
		t.Fatalf("%d factors after the reset", len(fs))
	}

	// Delete only once deactivated.
	if _, page, _ = b.get(dpath); strings.Contains(page, "/delete") {
		t.Fatalf("an ACTIVE person has a delete button")
	}
	if code, _, _ := b.post(dpath+"/delete", url.Values{"csrf": {csrf}}); code != http.StatusBadRequest {
		t.Fatalf("deleting an ACTIVE person: %d", code)
	}
	b.post(dpath+"/lifecycle/deactivate", url.Values{"csrf": {csrf}})
	if code, _, _ := b.post(dpath+"/delete", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if _, err := f.d.User(ctx, "example", "dana"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("dana after delete: %v", err)
	}
}
