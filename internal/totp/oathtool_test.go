package totp

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oathtool (OATH Toolkit, Debian package oathtool) is an independent TOTP
// implementation; Code must agree with it.
func oathtool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("oathtool %v: %v", args[:len(args)-1], err)
	}
	return strings.TrimSpace(string(out))
}

func TestOathtoolInterop(t *testing.T) {
	bin := requireTool(t, "oathtool", "oathtool")
	secrets := [][]byte{rfcSecret, []byte("0123456789"), []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqr")}
	for range 3 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, s)
	}
	times := []int64{0, 29, 30, 59, 1111111109, 1111111111, 1234567890, 2000000000, 4102444800}
	for _, secret := range secrets {
		b32 := EncodeSecret(secret)
		for _, u := range times {
			want := oathtool(t, bin, "--totp", "-b", "-N", "@"+strconv.FormatInt(u, 10), b32)
			if got := Code(secret, time.Unix(u, 0)); got != want {
				t.Errorf("secret of %d bytes, t=%d: Code %s, oathtool %s", len(secret), u, got, want)
			}
		}
		// The current time, as a user's phone would see it. The period may
		// turn between the two clock readings.
		before := time.Now()
		want := oathtool(t, bin, "--totp", "-b", b32)
		after := time.Now()
		if got1, got2 := Code(secret, before), Code(secret, after); want != got1 && want != got2 {
			t.Errorf("secret of %d bytes, now: Code %s/%s, oathtool %s", len(secret), got1, got2, want)
		}
		// And oathtool's codes verify.
		if _, ok := Verify(secret, want, after, 1, 0); !ok {
			t.Errorf("secret of %d bytes: oathtool's current code %s does not verify", len(secret), want)
		}
	}
}
