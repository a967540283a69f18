package totp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B.
var rfcSecret = []byte("12345678901234567890")

func TestCodeRFC6238(t *testing.T) {
	// RFC 6238 Appendix B, SHA-1 column. The RFC lists 8-digit values; a
	// 6-digit code is their last 6 digits.
	tests := []struct {
		unix  int64
		eight string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		want := tt.eight[2:]
		if got := Code(rfcSecret, time.Unix(tt.unix, 0)); got != want {
			t.Errorf("Code(t=%d) = %s, want %s", tt.unix, got, want)
		}
		if _, ok := Verify(rfcSecret, want, time.Unix(tt.unix, 0), 0, 0); !ok {
			t.Errorf("Verify(t=%d, %s) failed", tt.unix, want)
		}
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2},
		{-1, -1}, {-30, -1}, {-31, -2},
		{1111111109, 37037036}, {1111111111, 37037037},
	}
	for _, tt := range tests {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
	// Sub-second parts do not move the step.
	if got := Step(time.Unix(29, 999999999)); got != 0 {
		t.Errorf("Step(29.999999999) = %d, want 0", got)
	}
}

func TestVerifyWindow(t *testing.T) {
	const s = 40000000 // a time step well after the epoch
	start := time.Unix(s*30, 0)
	end := time.Unix(s*30+29, 0)
	codeAt := func(step int64) string { return Code(rfcSecret, time.Unix(step*30, 0)) }
	tests := []struct {
		name     string
		now      time.Time
		codeStep int64
		skew     int
		ok       bool
	}{
		{"current step, no skew", start, s, 0, true},
		{"current step, end of period", end, s, 0, true},
		{"previous step, no skew", start, s - 1, 0, false},
		{"next step, no skew", end, s + 1, 0, false},
		{"previous step, skew 1, start of period", start, s - 1, 1, true},
		{"previous step, skew 1, end of period", end, s - 1, 1, true},
		{"next step, skew 1, start of period", start, s + 1, 1, true},
		{"next step, skew 1, end of period", end, s + 1, 1, true},
		{"two back, skew 1", start, s - 2, 1, false},
		{"two ahead, skew 1", end, s + 2, 1, false},
		{"two back, skew 2", start, s - 2, 2, true},
		{"two ahead, skew 2", end, s + 2, 2, true},
		{"three back, skew 2", start, s - 3, 2, false},
		{"max skew back", start, s - MaxSkew, MaxSkew, true},
		{"past max skew", start, s - MaxSkew - 1, MaxSkew, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Verify(rfcSecret, codeAt(tt.codeStep), tt.now, tt.skew, 0)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && step != tt.codeStep {
				t.Fatalf("step = %d, want %d", step, tt.codeStep)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	const s = 40000000
	now := time.Unix(s*30+10, 0)
	codeAt := func(step int64) string { return Code(rfcSecret, time.Unix(step*30, 0)) }

	// First use of the current code succeeds and returns its step.
	last, ok := Verify(rfcSecret, codeAt(s), now, 1, 0)
	if !ok || last != s {
		t.Fatalf("first use: step %d ok %v, want %d true", last, ok, s)
	}
	// The same code again fails, within the same period and the next.
	if _, ok := Verify(rfcSecret, codeAt(s), now, 1, last); ok {
		t.Fatal("same code accepted twice")
	}
	if _, ok := Verify(rfcSecret, codeAt(s), now.Add(Period), 1, last); ok {
		t.Fatal("same code accepted again in the next period")
	}
	// A code of an earlier step, still inside the window, fails.
	if _, ok := Verify(rfcSecret, codeAt(s-1), now, 1, last); ok {
		t.Fatal("code of an earlier step accepted after a later one")
	}
	// A later code is accepted and moves the step on.
	last, ok = Verify(rfcSecret, codeAt(s+1), now, 1, last)
	if !ok || last != s+1 {
		t.Fatalf("next code: step %d ok %v, want %d true", last, ok, s+1)
	}
	// Now the code of step s, unused before s+1 was, is refused too.
	if _, ok := Verify(rfcSecret, codeAt(s), now, 1, last); ok {
		t.Fatal("older code accepted after a newer one")
	}
	// lastStep equal to the code's step refuses it; one less accepts it.
	if _, ok := Verify(rfcSecret, codeAt(s), now, 0, s); ok {
		t.Fatal("code accepted with lastStep equal to its step")
	}
	if _, ok := Verify(rfcSecret, codeAt(s), now, 0, s-1); !ok {
		t.Fatal("code refused with lastStep one before its step")
	}
}

func TestVerifyMalformed(t *testing.T) {
	now := time.Unix(1234567890, 0)
	good := Code(rfcSecret, now)
	codes := []string{
		"", "1", "12345", "1234567", "12345678",
		" " + good[1:], good[:5] + " ", good + " ", " " + good, good + "\n",
		"12345a", "abcdef", "+12345", "-12345", "12 345", "1e5000", "0x1234",
		"١٢٣٤٥٦", // Arabic-Indic digits
		"１２３４５６", // full-width digits
		"12345\x00", good[:5] + "\x00",
	}
	for _, c := range codes {
		if _, ok := Verify(rfcSecret, c, now, 1, 0); ok {
			t.Errorf("Verify(%q) accepted", c)
		}
	}
	if _, ok := Verify(nil, good, now, 1, 0); ok {
		t.Error("empty secret accepted")
	}
	for _, skew := range []int{-1, MaxSkew + 1, 1 << 30} {
		if _, ok := Verify(rfcSecret, good, now, skew, 0); ok {
			t.Errorf("skew %d accepted", skew)
		}
	}
	if _, ok := Verify(rfcSecret, good, now, 1, 0); !ok {
		t.Error("good code refused")
	}
}

// A malformed code must fail before any HMAC is computed. Computing one
// allocates; refusing the input does not.
func TestVerifyMalformedComputesNothing(t *testing.T) {
	now := time.Unix(1234567890, 0)
	for _, c := range []string{"", "12345", "1234567", "12345a"} {
		if n := testing.AllocsPerRun(100, func() { Verify(rfcSecret, c, now, 1, 0) }); n != 0 {
			t.Errorf("Verify(%q) allocated %v times; it should not compute anything", c, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Verify(rfcSecret, "000000", now, 1, 0) }); n == 0 {
		t.Error("a well-formed code did not allocate: the test no longer shows that HMAC was skipped")
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize || len(b) != SecretSize {
		t.Fatalf("lengths %d, %d, want %d", len(a), len(b), SecretSize)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two secrets are equal")
	}
}

func TestSecretEncodeDecode(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	enc := EncodeSecret(secret)
	if len(enc) != 32 || strings.ContainsAny(enc, "=abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("EncodeSecret = %q, want 32 upper-case characters without padding", enc)
	}
	if got := EncodeSecret(rfcSecret); got != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("EncodeSecret(RFC secret) = %q", got)
	}

	// How people copy a secret: grouped, lower case, padded.
	var grouped strings.Builder
	for i := 0; i < len(enc); i += 4 {
		if i > 0 {
			grouped.WriteByte(' ')
		}
		grouped.WriteString(enc[i : i+4])
	}
	eleven := []byte("01234567890") // 11 bytes: 18 characters and 6 '='
	forms := []struct {
		in   string
		want []byte
	}{
		{enc, secret},
		{strings.ToLower(enc), secret},
		{grouped.String(), secret},
		{strings.ToLower(grouped.String()), secret},
		{"  " + enc + "\n", secret},
		{strings.ReplaceAll(grouped.String(), " ", "-"), secret},
		{EncodeSecret(eleven), eleven},
		{EncodeSecret(eleven) + "======", eleven},
		{strings.ToLower(EncodeSecret(eleven)) + "======", eleven},
		{"JBSWY3DPEHPK3PXP", []byte("Hello!\xde\xad\xbe\xef")},
	}
	for _, f := range forms {
		got, err := DecodeSecret(f.in)
		if err != nil {
			t.Errorf("DecodeSecret(%q): %v", f.in, err)
			continue
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("DecodeSecret(%q) = %x, want %x", f.in, got, f.want)
		}
	}

	bad := []string{
		"",
		"    ",
		"JBSWY3DPEHPK3PX1",                     // '1' is not base32
		"JBSWY3DP",                             // 5 bytes: too short
		EncodeSecret(make([]byte, 65)),         // too long
		EncodeSecret(eleven) + "=====",         // wrong padding
		EncodeSecret(eleven) + "=======",       // wrong padding
		EncodeSecret(rfcSecret) + "========",   // padding where none is due
		"JBSWY3DP=EHPK3PXP",                    // '=' inside
		"JBSWY3DPEHPK3PXPA",                    // 17 characters: not a length base32 makes
		"JBSWY3DPEHPK3PXP\x00",                 // NUL
		"JBSWY3DPÉHPK3PXP",                     // non-ASCII
		strings.Repeat("A", 10000),             // huge
		strings.Repeat(" ", 10000) + "JBSWY3D", // huge, mostly spaces
	}
	for _, in := range bad {
		got, err := DecodeSecret(in)
		if err == nil {
			t.Errorf("DecodeSecret(%q) = %x, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("DecodeSecret(%q) error %v, want ErrInvalidSecret", in, err)
		}
	}
	// The error never quotes the input.
	if _, err := DecodeSecret("JBSWY3DPEHPK3PX1"); err != nil && strings.Contains(err.Error(), "JBSWY3DP") {
		t.Errorf("error %q contains the secret", err)
	}
}
