package ldap

import (
	"bytes"
	"testing"
)

func TestParsePasswordModify(t *testing.T) {
	for _, c := range []struct {
		name     string
		value    []byte
		hasValue bool
		want     PasswordModify
		bad      bool
	}{
		{name: "no value", want: PasswordModify{}},
		{name: "empty sequence", value: []byte{0x30, 0}, hasValue: true},
		{name: "all three", hasValue: true,
			value: []byte{0x30, 0x0c, 0x80, 0x02, 'd', 'n', 0x81, 0x02, 'o', 'l', 0x82, 0x02, 'n', 'w'},
			want:  PasswordModify{UserIdentity: []byte("dn"), OldPassword: []byte("ol"), NewPassword: []byte("nw")}},
		{name: "new only", hasValue: true, value: []byte{0x30, 0x04, 0x82, 0x02, 'n', 'w'},
			want: PasswordModify{NewPassword: []byte("nw")}},
		{name: "empty old is given", hasValue: true, value: []byte{0x30, 0x02, 0x81, 0x00},
			want: PasswordModify{OldPassword: []byte{}}},
		{name: "out of order", hasValue: true, value: []byte{0x30, 0x06, 0x81, 0x01, 'o', 0x80, 0x01, 'd'}, bad: true},
		{name: "twice", hasValue: true, value: []byte{0x30, 0x06, 0x82, 0x01, 'a', 0x82, 0x01, 'b'}, bad: true},
		{name: "unknown field", hasValue: true, value: []byte{0x30, 0x03, 0x83, 0x01, 'x'}, bad: true},
		{name: "constructed field", hasValue: true, value: []byte{0x30, 0x02, 0xa0, 0x00}, bad: true},
		{name: "not a sequence", hasValue: true, value: []byte{0x04, 0x00}, bad: true},
		{name: "trailing octets", hasValue: true, value: []byte{0x30, 0x00, 0x00}, bad: true},
		{name: "truncated", hasValue: true, value: []byte{0x30, 0x04, 0x82, 0x05, 'n'}, bad: true},
		{name: "value present but empty", hasValue: true, value: []byte{}, bad: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePasswordModify(c.value, c.hasValue)
			if c.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !samePM(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPasswordModifyResponse(t *testing.T) {
	got := AppendPasswordModifyResponse(nil, []byte("gen"))
	if want := []byte{0x30, 0x05, 0x80, 0x03, 'g', 'e', 'n'}; !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func samePM(a, b PasswordModify) bool {
	same := func(x, y []byte) bool { return (x == nil) == (y == nil) && bytes.Equal(x, y) }
	return same(a.UserIdentity, b.UserIdentity) && same(a.OldPassword, b.OldPassword) && same(a.NewPassword, b.NewPassword)
}

func FuzzParsePasswordModify(f *testing.F) {
	f.Add(AppendPasswordModify(nil, PasswordModify{UserIdentity: []byte("uid=a,dc=x"), OldPassword: []byte("o"), NewPassword: []byte("n")}))
	f.Add(AppendPasswordModify(nil, PasswordModify{NewPassword: []byte{}}))
	f.Add([]byte{0x30, 0x06, 0x81, 0x01, 'o', 0x80, 0x01, 'd'})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, v []byte) {
		pm, err := ParsePasswordModify(v, true)
		if err != nil {
			return
		}
		// What parses re-encodes to something that parses the same.
		again, err := ParsePasswordModify(AppendPasswordModify(nil, pm), true)
		if err != nil || !samePM(pm, again) {
			t.Fatalf("round trip: %+v -> %+v %v", pm, again, err)
		}
	})
}

func TestPasswordPolicyControl(t *testing.T) {
	for err, want := range map[PolicyError][]byte{
		PolicyNoError:           {0x30, 0x00},
		PolicyPasswordExpired:   {0x30, 0x03, 0x81, 0x01, 0x00},
		PolicyPasswordInHistory: {0x30, 0x03, 0x81, 0x01, 0x08},
	} {
		c := PasswordPolicyControl(err)
		if c.OID != OIDPasswordPolicy || c.Critical || !c.HasValue || !bytes.Equal(c.Value, want) {
			t.Errorf("%d: %+v, want value % x", err, c, want)
		}
	}
}
