package sealed

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// newTestKey returns a random key and its raw bytes.
func newTestKey(t testing.TB) (*Key, []byte) {
	t.Helper()
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	k, err := KeyFromString(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func TestKeyID(t *testing.T) {
	k, raw := newTestKey(t)
	sum := sha256.Sum256(raw)
	if want := hex.EncodeToString(sum[:])[:8]; k.ID() != want {
		t.Fatalf("ID %s, want %s", k.ID(), want)
	}
	s, err := k.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := KeyID(s); err != nil || id != k.ID() {
		t.Fatalf("KeyID = %q, %v; want %s", id, err, k.ID())
	}
	if _, err := KeyID("nonsense"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("KeyID(nonsense) error %v", err)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	k, _ := newTestKey(t)
	plaintexts := [][]byte{
		{},
		[]byte("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
		bytes.Repeat([]byte{0}, 20),
		bytes.Repeat([]byte{0xff}, MaxPlaintextSize),
	}
	ads := [][]byte{nil, []byte("00u1a2b3c4d5e6f7g8h9"), []byte("user:ünïcode\x00")}
	for _, pt := range plaintexts {
		for _, ad := range ads {
			s, err := k.Seal(pt, ad)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s, "v1:"+k.ID()+":") {
				t.Fatalf("sealed value %.20q… lacks the v1:<id>: prefix", s)
			}
			if len(pt) > 0 && strings.Contains(s, string(pt)) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := k.Open(s, ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatalf("Open = %d bytes, want %d", len(got), len(pt))
			}
		}
	}
	// Random nonces: the same plaintext seals differently each time.
	a, _ := k.Seal([]byte("same"), nil)
	b, _ := k.Seal([]byte("same"), nil)
	if a == b {
		t.Fatal("two seals of the same plaintext are equal")
	}
	if _, err := k.Seal(make([]byte, MaxPlaintextSize+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized plaintext: error %v", err)
	}
}

func TestOpenWrongAssociatedData(t *testing.T) {
	k, _ := newTestKey(t)
	s, err := k.Seal([]byte("secret"), []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range [][]byte{nil, []byte(""), []byte("user-2"), []byte("user-1 "), []byte("user-"), []byte("v1:" + k.ID() + ":user-1")} {
		if _, err := k.Open(s, ad); !errors.Is(err, ErrOpen) {
			t.Errorf("AD %q: error %v, want ErrOpen", ad, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	k, _ := newTestKey(t)
	other, _ := newTestKey(t)
	ring, err := NewKeys(k, other)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("user-1")
	s, err := k.Seal([]byte("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), ad)
	if err != nil {
		t.Fatal(err)
	}
	header, payload := s[:headerLen], s[headerLen:]
	raw, err := b64.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}

	// Every bit of nonce, ciphertext and tag is authenticated.
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(raw)
			bad[i] ^= bit
			v := header + b64.EncodeToString(bad)
			if _, err := k.Open(v, ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("byte %d (%s) flipped: error %v, want ErrOpen", i, region(i, len(raw)), err)
			}
			if _, err := ring.Open(v, ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("keyring, byte %d flipped: error %v, want ErrOpen", i, err)
			}
		}
	}

	cases := []struct {
		name  string
		value string
		want  error
	}{
		{"truncated tag", header + b64.EncodeToString(raw[:len(raw)-1]), ErrOpen},
		{"extra byte", header + b64.EncodeToString(append(bytes.Clone(raw), 0)), ErrOpen},
		{"nonce only", header + b64.EncodeToString(raw[:nonceLen]), ErrMalformed},
		{"too short for nonce and tag", header + b64.EncodeToString(raw[:nonceLen+tagLen-1]), ErrMalformed},
		{"nonce and tag of nothing", header + b64.EncodeToString(raw[:nonceLen+tagLen]), ErrOpen},
		{"key id of another loaded key", "v1:" + other.ID() + ":" + payload, ErrOpen},
		{"key id of no loaded key", "v1:" + flipHex(k.ID()) + ":" + payload, ErrUnknownKey},
		{"upper-case key id", "v1:" + strings.ToUpper(k.ID()) + "X:" + payload, ErrMalformed},
		{"short key id", "v1:" + k.ID()[:7] + ":" + payload, ErrMalformed},
		{"long key id", "v1:" + k.ID() + "0:" + payload, ErrMalformed},
		{"version 2", "v2" + s[2:], ErrMalformed},
		{"no version", s[3:], ErrMalformed},
		{"empty", "", ErrMalformed},
		{"just colons", "::", ErrMalformed},
		{"header only", header, ErrMalformed},
		{"padding added", s + "=", ErrMalformed},
		{"line break inside", header + payload[:10] + "\n" + payload[10:], ErrMalformed},
		{"space inside", header + payload[:10] + " " + payload[10:], ErrMalformed},
		{"URL alphabet", header + strings.NewReplacer("+", "-", "/", "_").Replace(payload) + "-_", ErrMalformed},
		{"non-canonical last character", header + noncanonical(payload), ErrMalformed},
		{"huge", header + strings.Repeat("A", maxSealedLen), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := ring.Open(c.value, ad)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
	if _, err := ring.Open(s, ad); err != nil {
		t.Fatalf("untouched value: %v", err)
	}
}

func region(i, n int) string {
	switch {
	case i < nonceLen:
		return "nonce"
	case i >= n-tagLen:
		return "tag"
	}
	return "ciphertext"
}

// flipHex changes the first hex digit of an id.
func flipHex(id string) string {
	c := byte('0')
	if id[0] == '0' {
		c = '1'
	}
	return string(c) + id[1:]
}

// noncanonical changes unused low bits of the last base64 character, which
// a lenient decoder ignores. The payload length leaves such bits when it is
// not a multiple of 3 bytes; otherwise the value gets one appended.
func noncanonical(payload string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if len(payload)%4 == 0 {
		return payload + "AB" // 1 byte, 4 unused bits set
	}
	last := strings.IndexByte(alphabet, payload[len(payload)-1])
	return payload[:len(payload)-1] + string(alphabet[last^1])
}

func TestOpenWrongKey(t *testing.T) {
	k1, _ := newTestKey(t)
	k2, _ := newTestKey(t)
	s, err := k1.Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = k2.Open(s, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("error %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), k1.ID()) {
		t.Errorf("error %q does not name the key id", err)
	}
	// Relabelled for k2, k1's ciphertext still does not open.
	relabelled := "v1:" + k2.ID() + s[headerLen-1:]
	if _, err := k2.Open(relabelled, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("relabelled: error %v, want ErrOpen", err)
	}
}

func TestKeysRotation(t *testing.T) {
	old, _ := newTestKey(t)
	cur, _ := newTestKey(t)
	ad := []byte("user-7")

	before, err := NewKeys(old)
	if err != nil {
		t.Fatal(err)
	}
	sOld, err := before.Seal([]byte("totp secret"), ad)
	if err != nil {
		t.Fatal(err)
	}

	during, err := NewKeys(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if during.Current() != cur {
		t.Fatal("Current is not the first key")
	}
	if ids := during.IDs(); len(ids) != 2 || ids[0] != cur.ID() || ids[1] != old.ID() {
		t.Fatalf("IDs = %v", ids)
	}
	pt, err := during.Open(sOld, ad)
	if err != nil || string(pt) != "totp secret" {
		t.Fatalf("old value in the new ring: %q, %v", pt, err)
	}
	if !during.NeedsReseal(sOld) {
		t.Fatal("value of the old key does not need re-sealing")
	}
	sNew, err := during.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyID(sNew); id != cur.ID() {
		t.Fatalf("sealed with %s, want the current key %s", id, cur.ID())
	}
	if during.NeedsReseal(sNew) || during.NeedsReseal("garbage") {
		t.Fatal("NeedsReseal true for a current or malformed value")
	}

	after, err := NewKeys(cur)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Open(sOld, ad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old value after the old key left: error %v", err)
	}
	if pt, err := after.Open(sNew, ad); err != nil || string(pt) != "totp secret" {
		t.Fatalf("re-sealed value: %q, %v", pt, err)
	}
}

func TestNewKeys(t *testing.T) {
	k, _ := newTestKey(t)
	if _, err := NewKeys(nil); err == nil {
		t.Error("nil current key accepted")
	}
	if _, err := NewKeys(k, nil); err == nil {
		t.Error("nil older key accepted")
	}
	if ks, err := NewKeys(k, k, k); err != nil || len(ks.IDs()) != 1 {
		t.Errorf("same key three times: %v, %v", ks, err)
	}
	// Two different keys whose ids collide.
	other, _ := newTestKey(t)
	clash := *other
	clash.id = k.id
	if _, err := NewKeys(k, &clash); err == nil {
		t.Error("two different keys with one id accepted")
	}
}

func TestKeyFromString(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(i*7 + 0xf0) // has bytes that differ between the base64 alphabets
	}
	sum := sha256.Sum256(raw)
	wantID := hex.EncodeToString(sum[:4])
	good := []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		"  " + base64.StdEncoding.EncodeToString(raw) + "\n",
		"\t" + hex.EncodeToString(raw) + "\r\n",
	}
	for _, s := range good {
		k, err := KeyFromString(s)
		if err != nil {
			t.Errorf("KeyFromString(%.12q…): %v", s, err)
			continue
		}
		if k.ID() != wantID {
			t.Errorf("KeyFromString(%.12q…) id %s, want %s", s, k.ID(), wantID)
		}
	}

	bad := []struct {
		s    string
		want error
	}{
		{"", ErrKeyLength}, // empty base64 is zero bytes
		{base64.StdEncoding.EncodeToString(raw[:16]), ErrKeyLength},
		{base64.StdEncoding.EncodeToString(append(bytes.Clone(raw), 1)), ErrKeyLength},
		{hex.EncodeToString(raw[:31]), ErrKeyLength},       // 62 hex digits are base64 of 46 bytes
		{hex.EncodeToString(raw)[:63] + "g", ErrKeyLength}, // not hex, but base64 of 48 bytes
		{hex.EncodeToString(raw)[:63] + "!", ErrKeyFormat},
		{"not a key at all!", ErrKeyFormat},
		{base64.StdEncoding.EncodeToString(raw)[:43] + "*", ErrKeyFormat},
	}
	for _, b := range bad {
		_, err := KeyFromString(b.s)
		if !errors.Is(err, b.want) {
			t.Errorf("KeyFromString(%.12q…): error %v, want %v", b.s, err, b.want)
			continue
		}
		if len(b.s) >= 8 && strings.Contains(err.Error(), b.s[:8]) {
			t.Errorf("error %q quotes the key text", err)
		}
	}
}

// Neither errors nor any formatting of a Key or Keys shows key material or
// plaintext.
func TestNothingLeaks(t *testing.T) {
	k, raw := newTestKey(t)
	ring, err := NewKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		string(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw)[:40],
		base64.RawURLEncoding.EncodeToString(raw)[:40],
		fmt.Sprint(raw[:8])[1:20], // decimal bytes, as %v of a []byte prints them
	}
	plaintext := "JBSWY3DPEHPK3PXP-plaintext"
	s, err := k.Seal([]byte(plaintext), []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out = append(out, fmt.Sprintf(verb, k), fmt.Sprintf(verb, ring), fmt.Sprintf(verb, *k))
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "key", k, "keys", ring)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("m", "key", k, "keys", ring)
	out = append(out, logged.String())
	for _, v := range []string{s, s[:len(s)-2] + "AA", s + "x", "v1:00000000:" + s[headerLen:]} {
		for _, ad := range []string{"user-1", "user-2"} {
			if _, err := ring.Open(v, []byte(ad)); err != nil {
				out = append(out, err.Error())
			}
		}
	}
	for _, o := range out {
		if strings.Contains(o, plaintext) {
			t.Errorf("%q shows the plaintext", o)
		}
		for _, sec := range secrets {
			if strings.Contains(o, sec) {
				t.Errorf("%q shows key material", o)
			}
		}
	}
	if got := fmt.Sprint(k); got != "sealed.Key("+k.ID()+")" {
		t.Errorf("fmt.Sprint(key) = %q", got)
	}
}
