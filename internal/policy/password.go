package policy

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Requirement is one thing a password policy asks of a password.
type Requirement struct {
	// Setting is the setting that asks for it: "minLength", "minLowerCase",
	// "minUpperCase", "minNumber", "minSymbol", "excludeUsername",
	// "excludeAttributes.<name>" or "history".
	Setting string
	// Text says it in words a user understands, e.g. "at least 12 characters".
	Text string
}

// PasswordError is a password's unmet requirements. It never contains the
// password nor any part of it.
type PasswordError struct {
	Unmet []Requirement
}

func (e *PasswordError) Error() string {
	var b strings.Builder
	b.WriteString("password requirements were not met: ")
	for i, r := range e.Unmet {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Text)
	}
	return b.String()
}

func (s *PasswordSettings) get() *PasswordSettings {
	if s == nil {
		return &defaultSettings
	}
	return s
}

// MinimumLength is the fewest characters a password may have.
func (s *PasswordSettings) MinimumLength() int { return s.get().MinLength }

// Requirements lists every requirement of the settings, as hints to show
// before a user picks a password. Password history is included when on.
func (s *PasswordSettings) Requirements() []Requirement {
	s = s.get()
	rs := []Requirement{{"minLength", plural(s.MinLength, "character", "characters")}}
	rs = appendClasses(rs, s, -1, -1, -1, -1)
	if s.ExcludeUsername {
		rs = append(rs, usernameReq)
	}
	for _, a := range s.ExcludeAttributes {
		rs = append(rs, attrReq(a))
	}
	if s.HistoryCount > 0 {
		rs = append(rs, historyReq(s.HistoryCount))
	}
	return rs
}

var usernameReq = Requirement{"excludeUsername", "no part of your username"}

func attrReq(a string) Requirement {
	return Requirement{"excludeAttributes." + a, "no part of your " + attrWords(a)}
}

func historyReq(n int) Requirement {
	if n == 1 {
		return Requirement{"history", "not your previous password"}
	}
	return Requirement{"history", fmt.Sprintf("not one of your last %d passwords", n)}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "at least 1 " + one
	}
	return fmt.Sprintf("at least %d %s", n, many)
}

// appendClasses appends the class requirements whose count (-1: not
// counted, list every requirement) falls short.
func appendClasses(rs []Requirement, s *PasswordSettings, lower, upper, number, symbol int) []Requirement {
	for _, c := range []struct {
		setting   string
		min, have int
		one, many string
	}{
		{"minLowerCase", s.MinLowerCase, lower, "lowercase letter", "lowercase letters"},
		{"minUpperCase", s.MinUpperCase, upper, "uppercase letter", "uppercase letters"},
		{"minNumber", s.MinNumber, number, "number", "numbers"},
		{"minSymbol", s.MinSymbol, symbol, "symbol (such as ! # $ %)", "symbols (such as ! # $ %)"},
	} {
		if c.min > 0 && c.have < c.min {
			rs = append(rs, Requirement{c.setting, plural(c.min, c.one, c.many)})
		}
	}
	return rs
}

// Check checks a new password against the settings, given the user's
// login and profile attributes (by attribute name, e.g. "firstName"), and
// returns a *PasswordError listing every unmet requirement, or nil.
//
// Length counts Unicode code points (an invalid UTF-8 byte counts as
// one). Lowercase and uppercase letters are Unicode's (letters without
// case, as in Chinese, count only towards length); numbers are decimal
// digits of any script; symbols are Unicode punctuation and symbols, such
// as the ASCII !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ (a space is not a symbol).
//
// With excludeUsername, the login is split at . _ - @ and +, and the
// password may contain none of its parts, compared without regard to
// case. As in Okta, parts shorter than 4 characters are not checked, nor is
// the top-level domain after the @ (so "ed.jones@business.com" rules out
// "jones" and "business"). Each attribute in excludeAttributes is split
// the same way, at spaces and commas too, with the same rules; a missing
// or empty attribute rules out nothing. Attribute names are looked up
// exactly, then without regard to case.
//
// Password history is the caller's to check (it holds the hashes): see
// History and HistoryError.
func (s *PasswordSettings) Check(pw []byte, login string, attrs map[string]string) error {
	s = s.get()
	var n, lower, upper, number, symbol int
	for i := 0; i < len(pw); {
		r, size := utf8.DecodeRune(pw[i:])
		i += size
		n++
		switch {
		case r == utf8.RuneError && size == 1:
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			upper++
		case unicode.IsDigit(r):
			number++
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			symbol++
		}
	}
	var unmet []Requirement
	if n < s.MinLength {
		unmet = append(unmet, Requirement{"minLength", plural(s.MinLength, "character", "characters")})
	}
	unmet = appendClasses(unmet, s, lower, upper, number, symbol)
	if s.ExcludeUsername || len(s.ExcludeAttributes) > 0 {
		folded := bytes.ToLower(pw)
		if s.ExcludeUsername && containsPart(folded, login, ".-_@+") {
			unmet = append(unmet, usernameReq)
		}
		for _, a := range s.ExcludeAttributes {
			if containsPart(folded, lookup(attrs, a), ".-_@+, \t") {
				unmet = append(unmet, attrReq(a))
			}
		}
		clear(folded)
	}
	if len(unmet) > 0 {
		return &PasswordError{Unmet: unmet}
	}
	return nil
}

func lookup(attrs map[string]string, name string) string {
	if v, ok := attrs[name]; ok {
		return v
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// containsPart reports whether the lower-cased password contains a part of
// value (split at seps) of at least 4 characters, leaving out the
// top-level domain of an address.
func containsPart(folded []byte, value, seps string) bool {
	if value == "" {
		return false
	}
	tld := -1
	if at := strings.LastIndexByte(value, '@'); at >= 0 {
		if dot := strings.LastIndexByte(value, '.'); dot > at {
			tld = dot + 1
		}
	}
	for start := 0; start <= len(value); {
		end := strings.IndexAny(value[start:], seps)
		if end < 0 {
			end = len(value)
		} else {
			end += start
		}
		part := value[start:end]
		if start != tld && utf8.RuneCountInString(part) >= 4 &&
			bytes.Contains(folded, []byte(strings.ToLower(part))) {
			return true
		}
		start = end + 1
	}
	return false
}

// attrWords names a profile attribute in words: "firstName" → "first name".
func attrWords(a string) string {
	switch a {
	case "email":
		return "email address"
	case "secondEmail":
		return "secondary email address"
	case "login":
		return "username"
	case "nickName":
		return "nickname"
	case "mobilePhone":
		return "mobile phone number"
	case "primaryPhone":
		return "phone number"
	}
	var b strings.Builder
	for i, r := range a {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// History is how many previous passwords may not be reused (0: any may).
// The caller checks them against the hashes it keeps; see HistoryError.
func (s *PasswordSettings) History() int { return s.get().HistoryCount }

// HistoryError is the *PasswordError to return when a new password is one
// of the last History() passwords.
func (s *PasswordSettings) HistoryError() error {
	return &PasswordError{Unmet: []Requirement{historyReq(max(s.get().HistoryCount, 1))}}
}

// MaxAge is how long a password lasts; 0 means forever.
func (s *PasswordSettings) MaxAge() time.Duration {
	return time.Duration(s.get().MaxAgeDays) * 24 * time.Hour
}

// Expired reports whether a password changed at changed has expired at now:
// when maxAgeDays is set and now is maxAgeDays×24h or more after changed.
// A zero changed (unknown) never expires.
func (s *PasswordSettings) Expired(changed, now time.Time) bool {
	age := s.MaxAge()
	return age > 0 && !changed.IsZero() && !now.Before(changed.Add(age))
}

// LockoutAfter is how many failed sign-ins in a row lock the account; 0
// means never.
func (s *PasswordSettings) LockoutAfter() int { return s.get().Lockout.MaxAttempts }

// AutoUnlock is how long a lock lasts; 0 means until an admin unlocks.
func (s *PasswordSettings) AutoUnlock() time.Duration {
	return time.Duration(s.get().Lockout.AutoUnlockMinutes) * time.Minute
}
