package password

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"testing"
)

// The test vectors of "Unix crypt using SHA-256 and SHA-512"
// (https://www.akkadia.org/drepper/SHA-crypt.txt), in their stored form:
// the setting as crypt(3) echoes it (salt cut to 16 characters, rounds
// below 1000 raised to 1000). The last sha512 one (empty salt) is from
// libxcrypt's crypt(3).
var shaCryptSpecVectors = []struct {
	hash, pw string
}{
	{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
	{"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
	{"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "This is just a test"},
	{"$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1", "a very much longer text to encrypt.  This one even stretches over morethan one line."},
	{"$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/", "we have a short salt string but not a short password"},
	{"$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD", "a short string"},
	{"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", "the minimum number is still observed"},
	{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
	{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
	{"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0", "This is just a test"},
	{"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1", "a very much longer text to encrypt.  This one even stretches over morethan one line."},
	{"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0", "we have a short salt string but not a short password"},
	{"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1", "a short string"},
	{"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "the minimum number is still observed"},
	{"$6$$QMXjqd7rHQZPQ1yHsXkQqC1FBzDiVfTHXL.LaeDAeVV.IzMaV9VU4MQ8kPuZa2SOP1A0RPm772EaFYjpEJtdu.", "foo"},
}

func TestSHACryptSpecVectors(t *testing.T) {
	h := NewHasher(Params{})
	for _, v := range shaCryptSpecVectors {
		t.Run(v.hash[:20], func(t *testing.T) {
			p, err := parse("{CRYPT}" + v.hash)
			if err != nil {
				t.Fatal(err)
			}
			sc := p.(*shaCryptHash)
			var got string
			if sc.m.sha512 {
				got = encodeSHA512Crypt(shaCrypt(sha512.New(), []byte(v.pw), []byte(sc.salt), sc.rounds))
			} else {
				got = encodeSHA256Crypt(shaCrypt(sha256.New(), []byte(v.pw), []byte(sc.salt), sc.rounds))
			}
			if got != sc.enc {
				t.Errorf("computed %s, want %s", got, sc.enc)
			}
			for _, tc := range []struct {
				pw   string
				want bool
			}{{v.pw, true}, {v.pw + "x", false}, {v.pw[1:], false}} {
				ok, err := h.Verify(context.Background(), "{CRYPT}"+v.hash, []byte(tc.pw))
				if err != nil || ok != tc.want {
					t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
				}
			}
		})
	}
}
