package password

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap keeps argon2 fast under -race.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// Known hashes, each written by an implementation other than this package.
var vectors = []struct {
	name, hash, pw string
}{
	// slappasswd (OpenLDAP 2.5, Debian 12).
	{"slappasswd SSHA", "{SSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "secret"},
	{"slappasswd SSHA utf8", "{SSHA}LU95AEMCbu0vsDvDxDh7KOsgsZmlopNv", "pässwörd with spaces"},
	{"slappasswd SSHA utf8 other salt", "{SSHA}mUzhnpjWGGt8mnn2G7ZfRh65cTzYyjhk", "pässwörd with spaces"},
	{"slappasswd SHA", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"},
	{"slappasswd pw-sha2 SSHA256", "{SSHA256}4Ujjmp3bZWjlE0f/rrp/zHM/O86GVBBew9T3R9EAgJgpZokmsmLwkg==", "secret"},
	{"slappasswd pw-sha2 SSHA256 phrase", "{SSHA256}aa44nj67fPROPe9wHH4FBzJNQnMuKsAlP7mzLXlT+DgcbhjktBmOEg==", "correct horse battery staple"},
	{"slappasswd pw-sha2 SHA256", "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret"},
	{"slappasswd pw-sha2 SSHA512", "{SSHA512}6OIGpC34dfyrnqtbYNxDH+XwNPWRKUtHiupGIBVOmjQJt1xYSSlyfq4i5m/P1nmJHWLWN9piyDFTMq6kDvLbwdb07yQcfRs6", "secret"},
	{"slappasswd pw-sha2 SSHA512 phrase", "{SSHA512}6dnHKiTk4r7BsmxzzXkt2j6Xu2jRpNiN6cZwpBF728cGbuP8RZkFAr+hGAfddFKS4n+JQrIZoFOrJkjabm7EWnN4xytfOqrf", "correct horse battery staple"},
	{"slappasswd pw-sha2 SHA512", "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==", "secret"},
	{"slappasswd argon2 module", "{ARGON2}$argon2i$v=19$m=64,t=1,p=1$NiXBLogNEEv5NtWStDlWkA$BkxVgWIzjvuYtrT/gk4RNqv6GLjCD65ioHNKWwDYlcE", "secret"},
	{"slappasswd argon2 module defaults", "{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$K1K+qHaLecsJK9aMe7w5kA$ZxKj+Ol1IycG7dPzsOek0oK/uThREpe5Hh/n4UQFgpM", "secret"},
	{"slappasswd CRYPT sha512", "{CRYPT}$6$0GgNcnXQHVX6PL/P$oJB6CbWSWQRpRYdD388mGqF53QiBARzNyhT4nLg4JXGRHX5pVFrnd.Jf3eCJJOEYuBzmjaPJ2BTjAoNCo7G7l/", "secret"},
	{"slappasswd CRYPT sha512 rounds", "{CRYPT}$6$rounds=2000$yh3oq6x0A5i75dnw$tO/4rNXLVFqVQhWH87/cIa23nVrrI2K/Yv3LH9PTHqJS9/pzZ3YbXwgf.Rm0dZUiVFNDQUd9mPN.GnkAkERtm.", "secret"},
	{"slappasswd CRYPT sha512 short salt", "{CRYPT}$6$rounds=1000$d8WVewOm$wLp12MLeWCI0ZX0XFJh9FbbpPL9EZ69O0wxWS9wl2SofCa9aWhHF/Kpi5g.IUPamhLhuFdP7uw1aGqVI5KQh..", "x"},
	{"slappasswd CRYPT sha256", "{CRYPT}$5$iIUwhw0230B9iXmR$pv53XVfAyplcveNWBid5jZsFEGG3dYPqxWWAoLgBQ3A", "secret"},
	{"slappasswd CRYPT bcrypt 2b", "{CRYPT}$2b$05$IQmQEa3dbIgyAsle6Nouhe8TQ6GXGj5CPwY2s/UM.3QDpAPywzjxy", "secret"},
	// htpasswd -B (Apache 2.4) writes $2y$.
	{"htpasswd bcrypt 2y", "{CRYPT}$2y$04$gwt7tLws9OrTv29goNpAnurJD.xNihWQ3diAGTlTbCq7fu633..HS", "secret"},
	{"htpasswd bcrypt 2y utf8", "{CRYPT}$2y$05$p.3FF3dYg3EJfC3ewEW4ZORFexn1yqqkPrjwYJG2m4zFxofL2A2V2", "pässwörd"},
	// x/crypto/bcrypt writes $2a$.
	{"x/crypto bcrypt 2a", "{CRYPT}$2a$04$qQI5QqrhW/vFLQ7gLU3Jo.ChvfW.gnX84gakombut0ED9JIEikxaO", "secret"},
	// The argon2 reference CLI (Debian's argon2 package).
	{"argon2 CLI argon2id", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$4mqQiyq0VpIzuZmp+8eSF3YJ7Av58TkEJ4LIdOVsAc4", "secret"},
	{"argon2 CLI argon2i p=2", "{ARGON2}$argon2i$v=19$m=32,t=2,p=2$c2FsdHNhbHRzYWx0$jE5RaOcRu8aaPAZSAPel8qwpEoX7Tn8pbvMpOyD8NOE", "pässwörd"},
	{"argon2 CLI argon2id p=4 16-octet key", "{ARGON2}$argon2id$v=19$m=128,t=2,p=4$c2FsdHNhbHRzYWx0$qvAnt/9NbLdZT0CLPc3xSg", "pässwörd"},
	// Scheme names are case-insensitive.
	{"lower-case ssha", "{ssha}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "secret"},
	{"mixed-case SSha512", "{SSha512}6OIGpC34dfyrnqtbYNxDH+XwNPWRKUtHiupGIBVOmjQJt1xYSSlyfq4i5m/P1nmJHWLWN9piyDFTMq6kDvLbwdb07yQcfRs6", "secret"},
	{"lower-case crypt", "{crypt}$5$iIUwhw0230B9iXmR$pv53XVfAyplcveNWBid5jZsFEGG3dYPqxWWAoLgBQ3A", "secret"},
	{"lower-case argon2", "{argon2}$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$4mqQiyq0VpIzuZmp+8eSF3YJ7Av58TkEJ4LIdOVsAc4", "secret"},
	// SSHA without its base64 padding.
	{"SSHA256 unpadded", "{SSHA256}4Ujjmp3bZWjlE0f/rrp/zHM/O86GVBBew9T3R9EAgJgpZokmsmLwkg", "secret"},
}

func TestVerifyVectors(t *testing.T) {
	h := NewHasher(cheap)
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if err := Check(v.hash); err != nil {
				t.Fatalf("Check: %v", err)
			}
			for _, tc := range []struct {
				pw   string
				want bool
			}{
				{v.pw, true},
				{v.pw + "x", false},
				{strings.ToUpper(v.pw), false},
				{v.pw[:len(v.pw)-1], false},
				{"x" + v.pw, false},
			} {
				ok, err := h.Verify(ctx, v.hash, []byte(tc.pw))
				if err != nil || ok != tc.want {
					t.Errorf("Verify(%q) = %v, %v; want %v, nil", tc.pw, ok, err, tc.want)
				}
			}
		})
	}
}

// saltedVector builds a salted SHA hash independently of the package.
func saltedVector(scheme string, pw, salt []byte) string {
	var d []byte
	switch scheme {
	case "SSHA", "SHA":
		s := sha1.Sum(append(append([]byte{}, pw...), salt...))
		d = s[:]
	case "SSHA256", "SHA256":
		s := sha256.Sum256(append(append([]byte{}, pw...), salt...))
		d = s[:]
	case "SSHA384", "SHA384":
		s := sha512.Sum384(append(append([]byte{}, pw...), salt...))
		d = s[:]
	case "SSHA512", "SHA512":
		s := sha512.Sum512(append(append([]byte{}, pw...), salt...))
		d = s[:]
	}
	return "{" + scheme + "}" + base64.StdEncoding.EncodeToString(append(d, salt...))
}

func TestSaltedSHASaltLengths(t *testing.T) {
	h := NewHasher(cheap)
	pw := []byte("hunter2")
	for _, scheme := range []string{"SSHA", "SSHA256", "SSHA384", "SSHA512"} {
		for _, n := range []int{1, 4, 8, 16, 64, 1000} {
			salt := []byte(strings.Repeat("\x00\xffs", n)[:n])
			hash := saltedVector(scheme, pw, salt)
			if ok, err := h.Verify(context.Background(), hash, pw); !ok || err != nil {
				t.Errorf("%s salt %d: Verify = %v, %v", scheme, n, ok, err)
			}
			if ok, _ := h.Verify(context.Background(), hash, []byte("hunter3")); ok {
				t.Errorf("%s salt %d: wrong password verified", scheme, n)
			}
		}
	}
	for _, scheme := range []string{"SHA", "SHA256", "SHA384", "SHA512"} {
		hash := saltedVector(scheme, pw, nil)
		if ok, err := h.Verify(context.Background(), hash, pw); !ok || err != nil {
			t.Errorf("%s: Verify = %v, %v", scheme, ok, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	const (
		salt16 = "c29tZXNhbHRzb21lc2FsdA"                      // 16 octets
		key32  = "4mqQiyq0VpIzuZmp+8eSF3YJ7Av58TkEJ4LIdOVsAc4" // 32 octets
		bc     = "qQI5QqrhW/vFLQ7gLU3Jo.ChvfW.gnX84gakombut0ED9JIEikxaO"
		sc512  = "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
		sc256  = "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
	)
	argon := func(s string) string { return "{ARGON2}" + s }
	for _, tc := range []struct {
		name, hash, msg string
	}{
		{"empty", "", "no {SCHEME}"},
		{"plaintext", "secret", "no {SCHEME}"},
		{"no closing brace", "{SSHA", "no {SCHEME}"},
		{"scheme too long", "{" + strings.Repeat("A", 40) + "}x", "no {SCHEME}"},
		{"too long", "{SSHA}" + strings.Repeat("A", maxHashLen), "longer than"},
		{"space", "{SSHA} ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "control, space"},
		{"newline", "{SSHA}ikRW2xMd+sBOf\nBs4s9JfP6HqRirObTUB", "control, space"},
		{"non-ASCII", "{SSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUé", "non-ASCII"},
		{"unknown scheme", "{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "scheme not supported"},
		{"cleartext", "{CLEARTEXT}secret", "scheme not supported"},
		{"long s folds to s", "{\u017fSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "non-ASCII"},

		{"SSHA bad base64", "{SSHA}ikRW2xMd*sBOfBs4s9JfP6HqRirObTUB", "{SSHA}: bad base64"},
		{"SSHA bad padding", "{SSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirOb=UB", "{SSHA}: bad base64"},
		{"SSHA no salt", "{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "want a 20-octet digest and a salt"},
		{"SSHA empty", "{SSHA}", "want a 20-octet digest"},
		{"SHA salted", "{SHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "{SHA}: 24 octets, want 20"},
		{"SSHA256 short", "{SSHA256}5en6G6MezRroT3XKqkdPOmY/BfQ=", "want a 32-octet digest"},
		{"SHA512 short", "{SHA512}5en6G6MezRroT3XKqkdPOmY/BfQ=", "want 64"},

		{"argon2 empty", argon(""), "not a PHC string"},
		{"argon2 no leading $", argon("argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32), "not a PHC string"},
		{"argon2 extra field", argon("$argon2id$v=19$m=64,t=1,p=1$x$" + salt16 + "$" + key32), "not a PHC string"},
		{"argon2 version 16 form", argon("$argon2id$m=64,t=1,p=1$" + salt16 + "$" + key32), "version 16"},
		{"argon2d", argon("$argon2d$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32), "algorithm not supported"},
		{"argon2 v=16", argon("$argon2id$v=16$m=64,t=1,p=1$" + salt16 + "$" + key32), "version not supported"},
		{"argon2 two params", argon("$argon2id$v=19$m=64,t=1$" + salt16 + "$" + key32), "want parameters"},
		{"argon2 params out of order", argon("$argon2id$v=19$t=1,m=64,p=1$" + salt16 + "$" + key32), "want parameters"},
		{"argon2 keyid param", argon("$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + salt16 + "$" + key32), "want parameters"},
		{"argon2 m not a number", argon("$argon2id$v=19$m=6x,t=1,p=1$" + salt16 + "$" + key32), "bad number in m"},
		{"argon2 m empty", argon("$argon2id$v=19$m=,t=1,p=1$" + salt16 + "$" + key32), "bad number in m"},
		{"argon2 m negative", argon("$argon2id$v=19$m=-64,t=1,p=1$" + salt16 + "$" + key32), "bad number in m"},
		{"argon2 m overflow", argon("$argon2id$v=19$m=99999999999,t=1,p=1$" + salt16 + "$" + key32), "bad number in m"},
		{"argon2 t not a number", argon("$argon2id$v=19$m=64,t=+1,p=1$" + salt16 + "$" + key32), "bad number in t"},
		{"argon2 p=0", argon("$argon2id$v=19$m=64,t=1,p=0$" + salt16 + "$" + key32), "p=0 out of range"},
		{"argon2 p=65", argon("$argon2id$v=19$m=1024,t=1,p=65$" + salt16 + "$" + key32), "p=65 out of range"},
		{"argon2 t=0", argon("$argon2id$v=19$m=64,t=0,p=1$" + salt16 + "$" + key32), "t=0 out of range"},
		{"argon2 t=101", argon("$argon2id$v=19$m=64,t=101,p=1$" + salt16 + "$" + key32), "t=101 out of range"},
		{"argon2 m below 8p", argon("$argon2id$v=19$m=15,t=1,p=2$" + salt16 + "$" + key32), "m=15 out of range"},
		{"argon2 m over 1GiB", argon("$argon2id$v=19$m=1048577,t=1,p=1$" + salt16 + "$" + key32), "m=1048577 out of range"},
		{"argon2 salt bad base64", argon("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ*$" + key32), "bad base64 in salt"},
		{"argon2 salt padded", argon("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$" + key32), "bad base64 in salt"},
		{"argon2 salt short", argon("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key32), "salt of 4 octets"},
		{"argon2 salt long", argon("$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("AAAA", 342) + "$" + key32), "salt of 1026 octets"},
		{"argon2 key bad base64", argon("$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32[:40] + "!!!"), "bad base64 in hash"},
		{"argon2 key empty", argon("$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$"), "hash of 0 octets"},
		{"argon2 key short", argon("$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$AAA"), "hash of 2 octets"},

		{"crypt empty", "{CRYPT}", "method not supported"},
		{"crypt DES", "{CRYPT}abJnggxhB/yWI", "method not supported"},
		{"crypt md5", "{CRYPT}$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "method not supported"},
		{"crypt yescrypt", "{CRYPT}$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", "method not supported"},
		{"bcrypt 2x", "{CRYPT}$2x$04$" + bc, "bcrypt variant not supported"},
		{"bcrypt 2", "{CRYPT}$2$04$" + bc, "bcrypt variant not supported"},
		{"bcrypt short", "{CRYPT}$2a$04$" + bc[:52], "bcrypt hash not of the form"},
		{"bcrypt long", "{CRYPT}$2a$04$" + bc + "x", "bcrypt hash not of the form"},
		{"bcrypt one-digit cost", "{CRYPT}$2a$4$" + bc + "x", "bcrypt hash not of the form"},
		{"bcrypt cost not a number", "{CRYPT}$2a$x4$" + bc, "bcrypt cost not a number"},
		{"bcrypt cost 3", "{CRYPT}$2a$03$" + bc, "bcrypt cost 3 out of range"},
		{"bcrypt cost 17", "{CRYPT}$2a$17$" + bc, "bcrypt cost 17 out of range"},
		{"bcrypt cost 31", "{CRYPT}$2b$31$" + bc, "bcrypt cost 31 out of range"},
		{"bcrypt bad alphabet", "{CRYPT}$2a$04$" + bc[:50] + "+Ey", "not in its base64 alphabet"},
		{"bcrypt $ in body", "{CRYPT}$2a$04$" + bc[:50] + "$Ey", "not in its base64 alphabet"},

		{"sha512-crypt no hash", "{CRYPT}$6$saltstring", "has no hash after the salt"},
		{"sha512-crypt rounds without $", "{CRYPT}$6$rounds=5000", "rounds= without $"},
		{"sha512-crypt rounds 999", "{CRYPT}$6$rounds=999$salt$" + sc512, "rounds out of range"},
		{"sha512-crypt rounds too many", "{CRYPT}$6$rounds=1000001$salt$" + sc512, "rounds out of range"},
		{"sha512-crypt rounds not a number", "{CRYPT}$6$rounds=5k$salt$" + sc512, "rounds out of range"},
		{"sha512-crypt rounds empty", "{CRYPT}$6$rounds=$salt$" + sc512, "rounds out of range"},
		{"sha512-crypt salt too long", "{CRYPT}$6$saltstringsaltstr$" + sc512, "salt longer than 16"},
		{"sha512-crypt hash short", "{CRYPT}$6$saltstring$" + sc512[:85], "hash not 86 characters"},
		{"sha512-crypt hash long", "{CRYPT}$6$saltstring$" + sc512 + "A", "hash not 86 characters"},
		{"sha512-crypt trailing $", "{CRYPT}$6$saltstring$" + sc512 + "$", "hash not 86 characters"},
		{"sha512-crypt bad alphabet", "{CRYPT}$6$saltstring$" + sc512[:85] + "+", "hash not 86 characters"},
		{"sha256-crypt hash of sha512 length", "{CRYPT}$5$saltstring$" + sc512, "sha256-crypt hash not 43 characters"},
		{"sha256-crypt hash short", "{CRYPT}$5$saltstring$" + sc256[:42], "sha256-crypt hash not 43"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.hash)
			if err == nil {
				t.Fatalf("Check accepted %q", tc.hash)
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v does not wrap ErrUnsupported", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			// The error names what is wrong, never the hash's content.
			if _, value, ok := strings.Cut(tc.hash, "}"); ok && len(value) >= 8 && strings.Contains(err.Error(), value[len(value)-8:]) {
				t.Errorf("error %q quotes the hash", err)
			}
			h := NewHasher(cheap)
			ok, verr := h.Verify(context.Background(), tc.hash, []byte("secret"))
			if ok || verr == nil || verr.Error() != err.Error() {
				t.Errorf("Verify = %v, %v; want false, %v", ok, verr, err)
			}
			if !h.NeedsUpgrade(tc.hash) {
				t.Error("NeedsUpgrade false for a malformed hash")
			}
		})
	}
}

var hashRE = regexp.MustCompile(`^\{ARGON2\}\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	h := NewHasher(cheap)
	ctx := context.Background()
	seen := map[string]bool{}
	for _, pw := range []string{"secret", "pässwörd", "a", strings.Repeat("x", MaxLength), "with\x00nul", "comma,123456"} {
		hash, err := h.Hash([]byte(pw))
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !hashRE.MatchString(hash) {
			t.Errorf("Hash = %q, not the {ARGON2} PHC form", hash)
		}
		if seen[hash] {
			t.Errorf("Hash repeated %q (salt not random)", hash)
		}
		seen[hash] = true
		if err := Check(hash); err != nil {
			t.Errorf("Check(Hash) = %v", err)
		}
		if h.NeedsUpgrade(hash) {
			t.Errorf("NeedsUpgrade(Hash) = true")
		}
		if ok, err := h.Verify(ctx, hash, []byte(pw)); !ok || err != nil {
			t.Errorf("Verify(right) = %v, %v", ok, err)
		}
		if ok, err := h.Verify(ctx, hash, []byte(pw+"!")); ok || err != nil {
			t.Errorf("Verify(wrong) = %v, %v", ok, err)
		}
	}
}

func TestHashRefuses(t *testing.T) {
	h := NewHasher(cheap)
	if _, err := h.Hash(make([]byte, MaxLength+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(MaxLength+1) error %v, want ErrTooLong", err)
	}
	if _, err := h.Hash(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Hash(empty) error %v, want ErrEmpty", err)
	}
	for _, p := range []Params{
		{Memory: maxArgonMemory + 1, Time: 1, Threads: 1},
		{Memory: 64, Time: maxArgonTime + 1, Threads: 1},
		{Memory: 1024, Time: 1, Threads: maxArgonThreads + 1},
		{Memory: 8, Time: 1, Threads: 2},
	} {
		if hash, err := NewHasher(p).Hash([]byte("secret")); err == nil {
			t.Errorf("Hash with %+v = %q, want an error (Verify would refuse it)", p, hash)
		}
	}
}

func TestNewHasherDefaults(t *testing.T) {
	if got := NewHasher(Params{}).params(); got != DefaultParams {
		t.Errorf("NewHasher(Params{}) params %+v, want %+v", got, DefaultParams)
	}
	if got := NewHasher(Params{Time: 5}).params(); got != (Params{Memory: DefaultParams.Memory, Time: 5, Threads: DefaultParams.Threads}) {
		t.Errorf("NewHasher(Time: 5) params %+v", got)
	}
	// A zero Hasher works, with DefaultParams.
	var z Hasher
	if got := z.params(); got != DefaultParams {
		t.Errorf("zero Hasher params %+v", got)
	}
	if ok, err := z.Verify(context.Background(), vectors[0].hash, []byte(vectors[0].pw)); !ok || err != nil {
		t.Errorf("zero Hasher Verify = %v, %v", ok, err)
	}
}

func TestVerifyLengthBounds(t *testing.T) {
	h := NewHasher(cheap)
	ctx := context.Background()
	long := []byte(strings.Repeat("a", MaxLength))
	if ok, err := h.Verify(ctx, saltedVector("SSHA", long, []byte("salt")), long); !ok || err != nil {
		t.Errorf("Verify(MaxLength) = %v, %v; want true", ok, err)
	}
	longer := append(long, 'a')
	if ok, err := h.Verify(ctx, saltedVector("SSHA", longer, []byte("salt")), longer); ok || err != nil {
		t.Errorf("Verify(MaxLength+1) = %v, %v; want false, nil", ok, err)
	}
	// The empty password never matches, even a hash of it.
	if ok, err := h.Verify(ctx, saltedVector("SSHA", nil, []byte("salt")), nil); ok || err != nil {
		t.Errorf("Verify(empty) = %v, %v; want false, nil", ok, err)
	}
	// A malformed hash is reported whatever the password.
	if _, err := h.Verify(ctx, "{SSHA}!", longer); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Verify(malformed, long) error %v", err)
	}
}

func TestBcryptLongPassword(t *testing.T) {
	// bcrypt uses the first 72 octets, like every C implementation: this
	// hash is htpasswd's of 100 's'.
	const hash = "{CRYPT}$2y$04$CKWYwBhqxu2p7nIbdguDue0q6dtb0tCKClXkHtN6tKqIaY9I6Kcpy"
	h := NewHasher(cheap)
	for _, tc := range []struct {
		n    int
		want bool
	}{{100, true}, {72, true}, {73, true}, {71, false}, {1, false}} {
		pw := []byte(strings.Repeat("s", tc.n))
		if ok, err := h.Verify(context.Background(), hash, pw); ok != tc.want || err != nil {
			t.Errorf("Verify(%d octets) = %v, %v; want %v", tc.n, ok, err, tc.want)
		}
	}
}

func TestNeedsUpgrade(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 2, Threads: 2})
	const (
		salt16 = "c29tZXNhbHRzb21lc2FsdA"
		salt8  = "c29tZXNhbHQ"
		key32  = "4mqQiyq0VpIzuZmp+8eSF3YJ7Av58TkEJ4LIdOVsAc4"
		key16  = "qvAnt/9NbLdZT0CLPc3xSg"
	)
	for _, tc := range []struct {
		name, hash string
		want       bool
	}{
		{"same params", "{ARGON2}$argon2id$v=19$m=64,t=2,p=2$" + salt16 + "$" + key32, false},
		{"stronger params", "{ARGON2}$argon2id$v=19$m=1024,t=3,p=4$" + salt16 + "$" + key32, false},
		{"lower-case scheme", "{argon2}$argon2id$v=19$m=64,t=2,p=2$" + salt16 + "$" + key32, false},
		{"less memory", "{ARGON2}$argon2id$v=19$m=32,t=2,p=2$" + salt16 + "$" + key32, true},
		{"fewer passes", "{ARGON2}$argon2id$v=19$m=1024,t=1,p=2$" + salt16 + "$" + key32, true},
		{"fewer lanes", "{ARGON2}$argon2id$v=19$m=1024,t=2,p=1$" + salt16 + "$" + key32, true},
		{"short salt", "{ARGON2}$argon2id$v=19$m=64,t=2,p=2$" + salt8 + "$" + key32, true},
		{"short key", "{ARGON2}$argon2id$v=19$m=64,t=2,p=2$" + salt16 + "$" + key16, true},
		{"argon2i", "{ARGON2}$argon2i$v=19$m=1024,t=3,p=4$" + salt16 + "$" + key32, true},
		{"SSHA", vectors[0].hash, true},
		{"SSHA512", "{SSHA512}6OIGpC34dfyrnqtbYNxDH+XwNPWRKUtHiupGIBVOmjQJt1xYSSlyfq4i5m/P1nmJHWLWN9piyDFTMq6kDvLbwdb07yQcfRs6", true},
		{"bcrypt", "{CRYPT}$2b$05$IQmQEa3dbIgyAsle6Nouhe8TQ6GXGj5CPwY2s/UM.3QDpAPywzjxy", true},
		{"sha512-crypt", "{CRYPT}$6$0GgNcnXQHVX6PL/P$oJB6CbWSWQRpRYdD388mGqF53QiBARzNyhT4nLg4JXGRHX5pVFrnd.Jf3eCJJOEYuBzmjaPJ2BTjAoNCo7G7l/", true},
		{"malformed", "{ARGON2}$argon2id$v=19$m=64", true},
		{"empty", "", true},
	} {
		if got := h.NeedsUpgrade(tc.hash); got != tc.want {
			t.Errorf("%s: NeedsUpgrade = %v, want %v", tc.name, got, tc.want)
		}
	}

	// What a weaker Hasher wrote needs upgrading by a stronger one.
	weak, err := NewHasher(cheap).Hash([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if !h.NeedsUpgrade(weak) {
		t.Error("NeedsUpgrade(weaker Hasher's hash) = false")
	}
	if NewHasher(cheap).NeedsUpgrade(weak) {
		t.Error("NeedsUpgrade(own hash) = true")
	}
	// DefaultParams apply to a Hasher made with zero Params.
	if !NewHasher(Params{}).NeedsUpgrade(weak) {
		t.Error("default Hasher: NeedsUpgrade(m=64,t=1 hash) = false")
	}
}

func TestVerifyWaitsForSlot(t *testing.T) {
	h := &Hasher{p: cheap, n: 1}
	hash, err := h.Hash([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	// Take the only slot.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ok, err := h.Verify(ctx, hash, []byte("secret")); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify with no free slot = %v, %v; want false, DeadlineExceeded", ok, err)
	}
	for _, slow := range []string{"{CRYPT}$2a$04$qQI5QqrhW/vFLQ7gLU3Jo.ChvfW.gnX84gakombut0ED9JIEikxaO", "{CRYPT}$5$iIUwhw0230B9iXmR$pv53XVfAyplcveNWBid5jZsFEGG3dYPqxWWAoLgBQ3A"} {
		if _, err := h.Verify(ctx, slow, []byte("secret")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Verify(%.12s) with no free slot error %v; want DeadlineExceeded", slow, err)
		}
	}
	// The cheap salted SHA schemes need no slot.
	if ok, err := h.Verify(ctx, vectors[0].hash, []byte(vectors[0].pw)); !ok || err != nil {
		t.Errorf("Verify(SSHA) with no free slot = %v, %v; want true, nil", ok, err)
	}

	// A waiting Verify goes on when the slot is freed.
	done := make(chan error, 1)
	go func() {
		ok, err := h.Verify(context.Background(), hash, []byte("secret"))
		if err == nil && !ok {
			err = errors.New("did not verify")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Verify finished while the slot was held: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	h.release()
	if err := <-done; err != nil {
		t.Error(err)
	}

	// A context already ended is refused even with a slot free.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.Verify(cctx, hash, []byte("secret")); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled) error %v, want Canceled", err)
	}
	if len(h.slots) != 0 {
		t.Errorf("%d slots still held", len(h.slots))
	}
}

func TestConcurrentVerify(t *testing.T) {
	h := &Hasher{p: cheap, n: 2}
	hash, err := h.Hash([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			pw := "secret"
			if i%2 == 1 {
				pw = "wrong"
			}
			ok, err := h.Verify(context.Background(), hash, []byte(pw))
			if err != nil || ok != (i%2 == 0) {
				t.Errorf("Verify(%s) = %v, %v", pw, ok, err)
			}
			if n := len(h.slots); n > 2 {
				t.Errorf("%d slots in use, capacity 2", n)
			}
		})
	}
	wg.Wait()
	if len(h.slots) != 0 {
		t.Errorf("%d slots still held", len(h.slots))
	}
}

// TestSlow: the schemes hashed slowly by design are told from the salted
// SHA ones by the scheme alone, and Slow agrees with the parsed hash.
func TestSlow(t *testing.T) {
	h := NewHasher(cheap)
	argon, err := h.Hash([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		hash string
		slow bool
	}{
		{argon, true},
		{"{crypt}$6$salt$abc", true},
		{"{CRYPT}$2b$04$abcdefghijklmnopqrstuv", true},
		{"{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", false},
		{"{ssha512}abc", false},
		{"{SHA}abc", false},
		{"SSHA}abc", false},
		{"plain", false},
		{"", false},
	} {
		if got := Slow(tt.hash); got != tt.slow {
			t.Errorf("Slow(%q) = %v, want %v", tt.hash, got, tt.slow)
		}
		if v, err := parse(tt.hash); err == nil && v.slow() != tt.slow {
			t.Errorf("%q: parsed slow() = %v", tt.hash, v.slow())
		}
	}
}
