package password

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// These tests check this package against other implementations when their
// command-line tools are installed (Debian: openssl, argon2, slapd,
// apache2-utils), and skip otherwise. The vectors in password_test.go were
// made with the same tools, so the package is checked against them either
// way; these add random passwords, salts and parameters.

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

func run(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return strings.TrimRight(out.String(), "\n")
}

// randomPassword is printable ASCII and some UTF-8, no NUL (which C tools
// cannot take), of length n octets or a little more.
func randomPassword(r *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#%&()*+,-./:;<=>?@[]^_{|}~$'\"\\`"
	var b strings.Builder
	for b.Len() < n {
		if r.IntN(10) == 0 {
			b.WriteString("é")
		} else {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
	}
	return b.String()
}

func randomSalt(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = cryptAlphabet[r.IntN(len(cryptAlphabet))]
	}
	return string(b)
}

func TestInteropOpenSSLSHACrypt(t *testing.T) {
	openssl := tool(t, "openssl")
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHasher(cheap)
	// Lengths around SHA-256's and SHA-512's block boundaries.
	for _, n := range []int{1, 7, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200} {
		for _, method := range []string{"-5", "-6"} {
			pw := randomPassword(r, n)
			salt := randomSalt(r, 1+r.IntN(16))
			if r.IntN(2) == 0 {
				salt = fmt.Sprintf("rounds=%d$%s", 1000+r.IntN(3000), salt)
			}
			hash := "{CRYPT}" + run(t, pw+"\n", openssl, "passwd", method, "-salt", salt, "-stdin")
			ok, err := h.Verify(context.Background(), hash, []byte(pw))
			if !ok || err != nil {
				t.Errorf("openssl passwd %s -salt %q %q = %s: Verify = %v, %v", method, salt, pw, hash, ok, err)
			}
			if ok, _ := h.Verify(context.Background(), hash, []byte(pw+"x")); ok {
				t.Errorf("%s: wrong password verified", hash)
			}
		}
	}
}

func TestInteropArgon2CLI(t *testing.T) {
	argon2CLI := tool(t, "argon2")
	r := rand.New(rand.NewPCG(3, 4))
	h := NewHasher(cheap)
	for i := range 8 {
		pw := randomPassword(r, 1+r.IntN(40))
		salt := randomSalt(r, 8+r.IntN(24))
		variant, flag := argon2id, "-id"
		if i%3 == 2 {
			variant, flag = argon2i, "-i"
		}
		threads := 1 + r.IntN(4)
		memory := 8*threads + r.IntN(120)
		passes := 1 + r.IntN(3)
		length := 4 + r.IntN(60)
		out := run(t, pw, argon2CLI, salt, flag, "-t", fmt.Sprint(passes), "-k", fmt.Sprint(memory),
			"-p", fmt.Sprint(threads), "-l", fmt.Sprint(length), "-e")
		hash := "{ARGON2}" + out

		// What the reference implementation writes, this package verifies.
		if ok, err := h.Verify(context.Background(), hash, []byte(pw)); !ok || err != nil {
			t.Errorf("%s (password %q): Verify = %v, %v", hash, pw, ok, err)
		}
		// And writes the same string for the same inputs.
		a := &argonHash{variant: variant, memory: uint32(memory), time: uint32(passes), threads: uint8(threads), salt: []byte(salt)}
		a.key = a.derive([]byte(pw), length)
		if got := a.String(); got != hash {
			t.Errorf("argon2 %s %s -t %d -k %d -p %d -l %d:\n got %s\nwant %s", salt, flag, passes, memory, threads, length, got, hash)
		}
	}
}

func TestInteropSlappasswd(t *testing.T) {
	slappasswd := tool(t, "slappasswd")
	r := rand.New(rand.NewPCG(5, 6))
	h := NewHasher(cheap)
	for _, tc := range []struct{ scheme, module string }{
		{"{SSHA}", ""}, {"{SHA}", ""},
		{"{SSHA256}", "pw-sha2.so"}, {"{SSHA384}", "pw-sha2.so"}, {"{SSHA512}", "pw-sha2.so"},
		{"{SHA256}", "pw-sha2.so"}, {"{SHA384}", "pw-sha2.so"}, {"{SHA512}", "pw-sha2.so"},
		{"{ARGON2}", "argon2.so m=64 t=1 p=1"},
	} {
		pw := randomPassword(r, 1+r.IntN(30))
		args := []string{"-h", tc.scheme, "-s", pw}
		if tc.module != "" {
			args = append([]string{"-o", "module-path=/usr/lib/ldap", "-o", "module-load=" + tc.module}, args...)
		}
		cmd := exec.Command(slappasswd, args...)
		out, err := cmd.Output()
		if err != nil {
			t.Logf("slappasswd %s: %v (module not installed?)", tc.scheme, err)
			continue
		}
		hash := strings.TrimSpace(string(out))
		if ok, err := h.Verify(context.Background(), hash, []byte(pw)); !ok || err != nil {
			t.Errorf("slappasswd -h %s -s %q = %s: Verify = %v, %v", tc.scheme, pw, hash, ok, err)
		}
		if ok, _ := h.Verify(context.Background(), hash, []byte(pw+"x")); ok {
			t.Errorf("%s: wrong password verified", hash)
		}
	}
}

func TestInteropHtpasswdBcrypt(t *testing.T) {
	htpasswd := tool(t, "htpasswd")
	r := rand.New(rand.NewPCG(7, 8))
	h := NewHasher(cheap)
	for _, n := range []int{1, 8, 50, 71, 72, 80} {
		pw := randomPassword(r, n)
		line := run(t, "", htpasswd, "-nbB", "-C", "4", "u", pw)
		hash := "{CRYPT}" + strings.TrimPrefix(line, "u:")
		if ok, err := h.Verify(context.Background(), hash, []byte(pw)); !ok || err != nil {
			t.Errorf("htpasswd %q = %s: Verify = %v, %v", pw, hash, ok, err)
		}
		if ok, _ := h.Verify(context.Background(), hash, []byte("x"+pw)); ok {
			t.Errorf("%s: wrong password verified", hash)
		}
	}
}
