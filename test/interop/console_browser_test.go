package interop

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console in a real browser: Debian's chromium, headless, driven by
// chromedp. The browser trusts exactly the server's key
// (--ignore-certificate-errors-spki-list), not every certificate.

func requireChromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found on PATH (apt-get install chromium)")
		}
		t.Skip("chromium not found on PATH (apt-get install chromium)")
	}
	return p
}

// spkiHash is the base64 SHA-256 of the certificate's public key, the
// form chromium's --ignore-certificate-errors-spki-list takes.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", certFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(h[:])
}

// screenshotDir is where the browser tests save their screenshots:
// $DIRGATE_TEST_OUT/screenshots, or a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("DIRGATE_TEST_OUT")
	if base == "" {
		base = filepath.Join(os.TempDir(), "dirgate-test-out")
	}
	dir := filepath.Join(base, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newBrowser(t *testing.T, chromium, certFile string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, certFile)),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute) // bounds a hung browser; not a performance check
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	return ctx
}

// shots saves full-page screenshots of the current page at desktop and
// phone widths.
func shots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, size := range []struct {
		label string
		w, h  int64
	}{{"desktop", 1280, 860}, {"phone", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			t.Fatalf("viewport %s: %v", size.label, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s %s: %v", name, size.label, err)
		}
		// Quality 100: PNG.
		p := filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, size.label))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatal(err)
	}
}

// signInSteps signs in to the console at base as an admin of org
// example, up to the dashboard.
func signInSteps(base, login, pw string) chromedp.Action[chromedp.Void] {
	return signInUntil(base, login, pw, chromedp.CSS(`.grid`))
}

// signInUntil signs in as login of org example and waits for landing to
// be visible.
func signInUntil[S chromedp.Selectable](base, login, pw string, landing S) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/console/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#org`)),
		chromedp.SendKeys(chromedp.CSS(`#org`), "example"),
		chromedp.SendKeys(chromedp.CSS(`#login`), login),
		chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(landing),
	)
}

func TestConsoleInBrowser(t *testing.T) {
	chromium := requireChromium(t)
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Console-admin-1\n", "user", "create", "--data", data, "--org", "example", "--login", "admin",
		"--first", "Ada", "--last", "Admin", "--role", "org_admin", "--password-stdin")
	s := startDirgate(t, data, "--no-demo")
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	dir := screenshotDir(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#org`)),
	)
	if err != nil {
		t.Fatalf("the sign-in page: %v", err)
	}
	shots(t, ctx, dir, "signin")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#org`), "example"),
		chromedp.SendKeys(chromedp.CSS(`#login`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "Console-admin-1"),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`.grid`)),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "People by status") {
		t.Fatalf("the dashboard says:\n%s", body)
	}
	shots(t, ctx, dir, "dashboard")

	err = chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/people"),
		chromedp.WaitVisible(chromedp.CSS(`#q`)),
		chromedp.SendKeys(chromedp.CSS(`#q`), "ali"),
		chromedp.Submit(chromedp.CSS(`#q`)),
		chromedp.WaitVisible(chromedp.Search(`//a[text()="alice"]`)),
	)
	if err != nil {
		t.Fatalf("searching people: %v", err)
	}
	if body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tbody`))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "bob") {
		t.Errorf("a search for ali lists bob:\n%s", body)
	}
	shots(t, ctx, dir, "people")

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[text()="alice"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[text()="Suspend"]`)),
	)
	if err != nil {
		t.Fatalf("alice's page: %v", err)
	}
	shots(t, ctx, dir, "person")
	// alice signs in over LDAP before, and not after, the suspension.
	bind := func() result {
		return s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", aliceExD, "-w", "alice-password", "-b", exBase, "-s", "base", "1.1")
	}
	if r := bind(); r.code != 0 {
		t.Fatalf("alice's bind before: exit %d %s", r.code, r.stderr)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//button[text()="Suspend"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if err != nil {
		t.Fatalf("suspending alice: %v", err)
	}
	if body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.flash`))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "is now SUSPENDED") {
		t.Fatalf("after suspend the page says %q", body)
	}
	eventually(t, "alice's bind refused", func() error {
		if r := bind(); r.code != 49 {
			return fmt.Errorf("exit %d", r.code)
		}
		return nil
	})

	// Create a person with the form, put them in a group, exempt the bind
	// account from an MFA policy, and look at the LDAP Interface page.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/people"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#login`), "dave"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "dave@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#firstName`), "Dave"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "Dave-password-1"),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Created dave")]`)),
	)
	if err != nil {
		t.Fatalf("creating dave: %v", err)
	}
	mustDirgate(t, "", "user", "show", "--data", data, "--org", "example", "--login", "dave")
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/groups"),
		chromedp.Click(chromedp.Search(`//a[text()="eng"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#find`)),
		chromedp.SendKeys(chromedp.CSS(`#find`), "dav"),
		chromedp.Submit(chromedp.CSS(`#find`)),
		chromedp.Click(chromedp.Search(`//button[@aria-label="Add dave"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Added")]`)),
	)
	if err != nil {
		t.Fatalf("adding dave to eng: %v", err)
	}
	shots(t, ctx, dir, "group")
	eventually(t, "dave in eng over LDAP", func() error {
		r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(cn=eng)", "uniqueMember")...)
		if !strings.Contains(r.stdout, "uid=dave,") {
			return fmt.Errorf("uniqueMember: %s %s", r.stdout, r.stderr)
		}
		return nil
	})
	for _, page := range []string{"ldap", "integrations", "policies", "roles", "logs"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+"/console/"+page), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			t.Fatalf("the %s page: %v", page, err)
		}
		shots(t, ctx, dir, page)
		if page == "ldap" {
			pghba, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("snippet-pghba").value`))
			if err != nil || !strings.Contains(pghba, `ldapbasedn="ou=users,`+exBase+`"`) {
				t.Errorf("the pg_hba snippet: %q, %v", pghba, err)
			}
		}
	}
	// By now alice, the bind account and the admin signed in, and alice
	// failed once: the dashboard's chart shows them (the system log is
	// written in the background, so reload until it has them).
	eventually(t, "the dashboard's chart", func() error {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+"/console/")); err != nil {
			return err
		}
		summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#signins-summary`)))
		if err != nil {
			return err
		}
		if strings.HasPrefix(summary, "0 successful") || strings.Contains(summary, " 0 failed") {
			return fmt.Errorf("the chart says %q", summary)
		}
		return nil
	})
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart-bars rect.ok").length`)); err != nil || n == 0 {
		t.Errorf("no success bars in the chart: %d %v", n, err)
	}
	shots(t, ctx, dir, "dashboard")
	t.Logf("screenshots in %s", dir)
}

// TestConsolePgHBASnippet: a super admin creates the read-only bind
// account on the LDAP Interface page, and the pg_hba.conf line the page
// then shows, copied verbatim into a real PostgreSQL, lets a directory
// user log in (and refuses a wrong password).
func TestConsolePgHBASnippet(t *testing.T) {
	chromium := requireChromium(t)
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Console-root-1\n", "user", "create", "--data", data, "--org", "example", "--login", "root",
		"--role", "super_admin", "--password-stdin")
	s := startDirgate(t, data, "--no-demo")
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	err := chromedp.Do(ctx,
		signInSteps(s.httpURL, "root", "Console-root-1"),
		chromedp.Navigate(s.httpURL+"/console/ldap"),
		chromedp.SetValue(chromedp.CSS(`form[action="/console/ldap/bind-account"] input[name="login"]`), "pg-bind"),
		chromedp.Submit(chromedp.CSS(`form[action="/console/ldap/bind-account"] input[name="login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#bind-password`)),
	)
	if err != nil {
		t.Fatalf("creating the bind account: %v", err)
	}
	line, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("snippet-pghba").value`))
	if err != nil || !strings.HasPrefix(line, "hostssl all +immuta_user ") || strings.Contains(line, "<password") {
		t.Fatalf("the pg_hba snippet: %q, %v", line, err)
	}
	pg := startPostgres(t, s.caFile, strings.TrimSpace(line))
	pg.SuperSQL(t, `CREATE ROLE immuta_user NOLOGIN; CREATE ROLE alice LOGIN IN ROLE immuta_user;`)
	if out, ok := pg.Login(t, "alice", "alice-password"); !ok || strings.TrimSpace(out) != "alice" {
		t.Fatalf("alice through the snippet's line: %v\n%s", ok, out)
	}
	if out, ok := pg.Login(t, "alice", "wrong"); ok || !strings.Contains(out, ldapFailed) {
		t.Fatalf("a wrong password through the snippet's line: %v\n%s", ok, out)
	}
}

// TestConsoleMFA: in chromium an admin enrols alice's TOTP from the QR
// code (read back with zbarimg), activates it with a code, and applies
// the reference documents' MFA policy with the bind account exempt; over
// LDAP alice then needs password,code while ldap-bind does not.
func TestConsoleMFA(t *testing.T) {
	chromium := requireChromium(t)
	requireLdapsearch(t)
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg not found (apt-get install zbar-tools)")
		}
		t.Skip("zbarimg not found (apt-get install zbar-tools)")
	}
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Console-root-1\n", "user", "create", "--data", data, "--org", "example", "--login", "root",
		"--role", "super_admin", "--password-stdin")
	s := startDirgate(t, data, "--no-demo")
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	dir := screenshotDir(t)
	err = chromedp.Do(ctx,
		signInSteps(s.httpURL, "root", "Console-root-1"),
		chromedp.Navigate(s.httpURL+"/console/people?q=alice"),
		chromedp.Click(chromedp.Search(`//a[text()="alice"]`)),
		chromedp.Click(chromedp.Search(`//button[text()="Enrol TOTP"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#enrollment img`)),
	)
	if err != nil {
		t.Fatalf("enrolling alice: %v", err)
	}
	shots(t, ctx, dir, "enrol")
	qr, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`#enrollment img`)))
	if err != nil {
		t.Fatal(err)
	}
	qrFile := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qrFile, qr, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbarimg, "--quiet", "--raw", qrFile).Output()
	if err != nil {
		t.Fatalf("zbarimg on the page's QR code: %v", err)
	}
	u, err := url.Parse(strings.TrimSpace(string(out)))
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") == "" {
		t.Fatalf("the QR code holds %q", out)
	}
	secret := u.Query().Get("secret")
	// Activation takes the previous step's code, so the current one stays
	// unused for the bind below.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#code`), oathtool(t, secret, time.Now().Add(-30*time.Second))),
		chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "The TOTP factor is active.")]`)),
		chromedp.Navigate(s.httpURL+"/console/policies"),
		chromedp.SetValue(chromedp.CSS(`#doc`), mfaPolicyFile),
		chromedp.Submit(chromedp.CSS(`#doc`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "created: sign-on/MFA for people over LDAP")]`)),
	)
	if err != nil {
		t.Fatalf("activating and applying the policy: %v", err)
	}
	shots(t, ctx, dir, "policies-mfa")
	alice := func(pw string) result {
		return s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", aliceExD, "-w", pw, "-b", exBase, "-s", "base", "1.1")
	}
	eventually(t, "alice refused without a code", func() error {
		if r := alice("alice-password"); r.code != 49 {
			return fmt.Errorf("exit %d", r.code)
		}
		return nil
	})
	if r := alice("alice-password," + oathtool(t, secret, time.Now())); r.code != 0 {
		t.Fatalf("alice with her code: exit %d %s", r.code, r.stderr)
	}
	if r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "-s", "base", "1.1")...); r.code != 0 {
		t.Fatalf("ldap-bind, exempt, without a code: exit %d %s", r.code, r.stderr)
	}
}
