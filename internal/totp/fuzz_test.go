package totp

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{
		"", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "jbsw y3dp ehpk 3pxp", "GAYTEMZUGU3DOOBZGA======",
		"JBSWY3DP=EHPK3PXP", "JBSWY3DPEHPK3PXPA", "--------", "========", "\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secret, err := DecodeSecret(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("error %v is not ErrInvalidSecret", err)
			}
			if secret != nil {
				t.Fatal("secret returned with an error")
			}
			return
		}
		if len(secret) < MinSecretSize || len(secret) > MaxSecretSize {
			t.Fatalf("secret of %d bytes accepted", len(secret))
		}
		again, err := DecodeSecret(EncodeSecret(secret))
		if err != nil || !bytes.Equal(again, secret) {
			t.Fatalf("round trip of %x: %x, %v", secret, again, err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59), 1, int64(0))
	f.Add(rfcSecret, "081804", int64(1111111109), 0, int64(37037035))
	f.Add([]byte{}, "000000", int64(0), 0, int64(0))
	f.Add([]byte("k"), "12345a", int64(-1), -1, int64(-1))
	f.Add([]byte("k"), "999999", int64(1<<62), MaxSkew, int64(1<<62))
	f.Fuzz(func(t *testing.T, secret []byte, code string, unix int64, skew int, lastStep int64) {
		now := time.Unix(unix, 0)
		step, ok := Verify(secret, code, now, skew, lastStep)
		if ok {
			if !wellFormed(code) || len(secret) == 0 || skew < 0 || skew > MaxSkew {
				t.Fatalf("accepted code %q, secret %d bytes, skew %d", code, len(secret), skew)
			}
			if step <= lastStep {
				t.Fatalf("step %d accepted after lastStep %d", step, lastStep)
			}
			if d := step - Step(now); d < -int64(skew) || d > int64(skew) {
				t.Fatalf("step %d outside the window around %d ± %d", step, Step(now), skew)
			}
			var c [Digits]byte
			hotp(&c, secret, step)
			if string(c[:]) != code {
				t.Fatalf("step %d has code %s, not %s", step, c[:], code)
			}
		}
		// The current code always verifies once, and only once.
		if len(secret) > 0 {
			cur := Code(secret, now)
			s, ok := Verify(secret, cur, now, 0, Step(now)-1)
			if !ok || s != Step(now) {
				t.Fatalf("current code %s: step %d ok %v", cur, s, ok)
			}
			if _, ok := Verify(secret, cur, now, 0, s); ok {
				t.Fatal("current code accepted twice")
			}
		}
	})
}
