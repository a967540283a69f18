package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	classes := settings(func(s *PasswordSettings) {
		s.MinLength, s.MinLowerCase, s.MinUpperCase, s.MinNumber, s.MinSymbol = 8, 1, 1, 1, 1
	})
	two := settings(func(s *PasswordSettings) {
		s.MinLength, s.MinLowerCase, s.MinUpperCase, s.MinNumber, s.MinSymbol = 4, 2, 2, 2, 2
	})
	user := settings(func(s *PasswordSettings) { s.ExcludeUsername = true })
	attrs := settings(func(s *PasswordSettings) { s.ExcludeAttributes = []string{"firstName", "lastName", "email"} })
	profile := map[string]string{"firstName": "Mary Ann", "LastName": "O'Brien-Smith", "email": "m.obrien@example.org", "title": "Engineer"}
	def := settings(nil)

	tests := []struct {
		name  string
		s     *PasswordSettings
		pw    string
		login string
		attrs map[string]string
		unmet []string // settings of the unmet requirements
	}{
		{"default accepts alice-pw", def, "alice-pw", "alice", nil, nil},
		{"default accepts bind-Secret-1", def, "bind-Secret-1", "ldap-bind", nil, nil},
		{"default: too short", def, "short", "alice", nil, []string{"minLength"}},
		{"empty", def, "", "alice", nil, []string{"minLength"}},
		{"nil settings are the default", nil, "1234567", "alice", nil, []string{"minLength"}},
		{"length counts characters, not bytes", def, "pässwörd", "", nil, nil},
		{"length of Chinese", def, "密码密码密码密码", "", nil, nil},
		{"length: 7 characters in 21 bytes", def, "密码密码密码密", "", nil, []string{"minLength"}},
		{"invalid UTF-8 bytes count one each", def, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "", nil, nil},
		{"all classes", classes, "Passw0rd!", "", nil, nil},
		{"no lowercase", classes, "PASSW0RD!", "", nil, []string{"minLowerCase"}},
		{"no uppercase", classes, "passw0rd!", "", nil, []string{"minUpperCase"}},
		{"no number", classes, "Password!", "", nil, []string{"minNumber"}},
		{"no symbol", classes, "Passw0rdd", "", nil, []string{"minSymbol"}},
		{"space is not a symbol", classes, "Passw0rd ", "", nil, []string{"minSymbol"}},
		{"nothing but length", classes, "        ", "", nil, []string{"minLowerCase", "minUpperCase", "minNumber", "minSymbol"}},
		{"everything", classes, "", "", nil, []string{"minLength", "minLowerCase", "minUpperCase", "minNumber", "minSymbol"}},
		{"unicode classes", classes, "ÄßЖж٣€¿x", "", nil, nil},
		{"unicode: Chinese letters are no class", classes, "密码密码密码密码", "", nil, []string{"minLowerCase", "minUpperCase", "minNumber", "minSymbol"}},
		{"two of each", two, "aaBB12#$", "", nil, nil},
		{"two of each, one short each", two, "aB1#xxxx", "", nil, []string{"minUpperCase", "minNumber", "minSymbol"}},
		{"login part", user, "smith321", "andy.smith@business.com", nil, []string{"excludeUsername"}},
		{"login part, any case", user, "xxBUSINESSxx", "andy.smith@business.com", nil, []string{"excludeUsername"}},
		{"whole login", user, "pre-asmith-post", "asmith", nil, []string{"excludeUsername"}},
		{"part of a part is fine", user, "smith321", "asmith@business.com", nil, nil},
		{"parts under 4 characters are fine", user, "ed123456", "ed.jones@business.com", nil, nil},
		{"the top-level domain is fine", user, "information", "bob.jones@example.info", nil, nil},
		{"a label before it is not", user, "xexamplex", "bob.jones@example.info", nil, []string{"excludeUsername"}},
		{"split at + and _", user, "tag-news-2024", "john_doe+news@x.io", nil, []string{"excludeUsername"}},
		{"unicode login", user, "MÜLLER-2024", "jürgen.müller", nil, []string{"excludeUsername"}},
		{"no login", user, "anything-at-all", "", nil, nil},
		{"login allowed when not excluded", def, "alice-pw", "alice", nil, nil},
		{"first name part", attrs, "annmary-2024", "", profile, []string{"excludeAttributes.firstName"}},
		{"first name part under 4 characters", attrs, "ann-2024-xyz", "", profile, nil},
		{"last name part, key in another case", attrs, "smith-2024-x", "", profile, []string{"excludeAttributes.lastName"}},
		{"last name with apostrophe", attrs, "o'brien-2024", "", profile, []string{"excludeAttributes.lastName"}},
		{"email part", attrs, "obrien-2024", "", profile, []string{"excludeAttributes.email"}},
		{"email parts", attrs, "mary-example", "", profile, []string{"excludeAttributes.firstName", "excludeAttributes.email"}},
		{"unlisted attribute", attrs, "engineer-2024", "", profile, nil},
		{"missing attributes", attrs, "mary-smith-2024", "", nil, nil},
		{"every unmet at once", settings(func(s *PasswordSettings) {
			s.MinLength, s.MinUpperCase, s.ExcludeUsername, s.ExcludeAttributes = 20, 1, true, []string{"firstName"}
		}), "alice-mary", "alice", map[string]string{"firstName": "Mary"}, []string{"minLength", "minUpperCase", "excludeUsername", "excludeAttributes.firstName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Check([]byte(tt.pw), tt.login, tt.attrs)
			var got []string
			if err != nil {
				var pe *PasswordError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T: %v", err, err)
				}
				for _, r := range pe.Unmet {
					got = append(got, r.Setting)
				}
				if tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
					t.Errorf("error %q contains the password", err)
				}
			}
			if !reflect.DeepEqual(got, tt.unmet) {
				t.Errorf("unmet %q, want %q (%v)", got, tt.unmet, err)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	s := settings(func(s *PasswordSettings) {
		s.MinLength, s.MinLowerCase, s.MinUpperCase, s.MinNumber, s.MinSymbol = 12, 2, 1, 1, 3
		s.ExcludeUsername, s.ExcludeAttributes, s.HistoryCount = true, []string{"firstName", "mobilePhone", "employeeNumber"}, 4
	})
	err := s.Check([]byte("Ab1"), "bob", nil)
	want := "password requirements were not met: at least 12 characters, at least 2 lowercase letters, at least 3 symbols (such as ! # $ %)"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
	err = settings(func(s *PasswordSettings) { s.MinSymbol, s.ExcludeUsername = 1, true }).Check([]byte("jane-doe-x"), "jane.doe", nil)
	want = "password requirements were not met: no part of your username"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
	var texts []string
	for _, r := range s.Requirements() {
		texts = append(texts, r.Text)
	}
	wantTexts := []string{"at least 12 characters", "at least 2 lowercase letters", "at least 1 uppercase letter",
		"at least 1 number", "at least 3 symbols (such as ! # $ %)", "no part of your username", "no part of your first name",
		"no part of your mobile phone number", "no part of your employee number", "not one of your last 4 passwords"}
	if !reflect.DeepEqual(texts, wantTexts) {
		t.Errorf("Requirements:\n got %q\nwant %q", texts, wantTexts)
	}
	if got := s.HistoryError().Error(); got != "password requirements were not met: not one of your last 4 passwords" {
		t.Errorf("HistoryError = %s", got)
	}
	one := settings(func(s *PasswordSettings) { s.HistoryCount = 1 })
	if got := one.HistoryError().Error(); got != "password requirements were not met: not your previous password" {
		t.Errorf("HistoryError = %s", got)
	}
	if got := (*PasswordSettings)(nil).Requirements(); len(got) != 1 || got[0].Text != "at least 8 characters" {
		t.Errorf("default Requirements = %q", got)
	}
}

func TestExpired(t *testing.T) {
	changed := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	ninety := settings(func(s *PasswordSettings) { s.MaxAgeDays = 90 })
	tests := []struct {
		name    string
		s       *PasswordSettings
		changed time.Time
		now     time.Time
		want    bool
	}{
		{"never expires", settings(nil), changed, changed.AddDate(10, 0, 0), false},
		{"nil settings never expire", nil, changed, changed.AddDate(10, 0, 0), false},
		{"fresh", ninety, changed, changed.Add(time.Hour), false},
		{"a second before", ninety, changed, changed.Add(90*24*time.Hour - time.Second), false},
		{"at maxAgeDays", ninety, changed, changed.Add(90 * 24 * time.Hour), true},
		{"after", ninety, changed, changed.AddDate(1, 0, 0), true},
		{"time zones do not matter", ninety, changed.In(time.FixedZone("x", 5*3600)), changed.Add(90 * 24 * time.Hour), true},
		{"unknown change time", ninety, time.Time{}, changed, false},
		{"changed in the future", ninety, changed, changed.Add(-time.Hour), false},
	}
	for _, tt := range tests {
		if got := tt.s.Expired(tt.changed, tt.now); got != tt.want {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := ninety.MaxAge(); got != 90*24*time.Hour {
		t.Errorf("MaxAge = %v", got)
	}
}

func TestLockout(t *testing.T) {
	s := settings(func(s *PasswordSettings) {
		s.Lockout = Lockout{MaxAttempts: 5, AutoUnlockMinutes: 30}
		s.HistoryCount = 4
	})
	if s.LockoutAfter() != 5 || s.AutoUnlock() != 30*time.Minute || s.History() != 4 {
		t.Errorf("LockoutAfter %d, AutoUnlock %v, History %d", s.LockoutAfter(), s.AutoUnlock(), s.History())
	}
	var def *PasswordSettings
	if def.LockoutAfter() != 10 || def.AutoUnlock() != 0 || def.History() != 0 || def.MaxAge() != 0 {
		t.Errorf("defaults: LockoutAfter %d, AutoUnlock %v, History %d", def.LockoutAfter(), def.AutoUnlock(), def.History())
	}
}
