package query

import (
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
	"time"
)

func fuzzOpts() *Options {
	o := searchOpts()
	o.Attrs["not"] = Attr{}                         // a keyword as an attribute name
	o.Attrs["or"] = Attr{Type: Number}              // another
	o.Attrs["n"] = Attr{Type: Number, Ops: Ops(Eq)} // a restricted one
	return o
}

// fuzzRecords are what Match is run against; some values are of the wrong
// type on purpose.
var fuzzRecords = []record{
	dana,
	{},
	{
		"status":           StringValue("ſtaged\xff"),
		"not":              StringValue(""),
		"or":               NumberValue(math.Copysign(0, -1)),
		"n":                StringValue("1"),
		"created":          TimeValue(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)),
		"profile.isAdmin":  BoolValue(false),
		"debug.x":          StringValue("\u212a"),
		"profile.lastName": StringValue("ΣΊΣΥΦΟΣ"),
	},
}

func FuzzParse(f *testing.F) {
	for _, s := range examples {
		f.Add(s)
	}
	for _, s := range []string{
		`status eq "\"q\" \\ \/ \u00e9 \ud83d\ude00 \n\t\r\b\f \u0001"`,
		`not eq "x" and not (not eq "y") or or gt -1.5e+3`,
		`profile.age ge 0.0E-0 and profile.isAdmin eq TRUE or status ne NULL`,
		`((status pr)) and (id pr or (type pr and debug.a.b co "x"))`,
		`created ge "2024-01-01T00:00:00.123456789+14:00"`,
		`status eq "ACTIVE`,
		`status equals "x"`,
		`profile.prénom pr`,
		`status[type eq "x"]`,
		"status eq \"\xff\"",
		`n eq 1e999`,
	} {
		f.Add(s)
	}
	opts := fuzzOpts()
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s, opts)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		out := e.String()
		// The canonical form can be longer than s where s left out spaces.
		o2 := *opts
		o2.MaxLen = max(len(out), DefaultMaxLen)
		e2, err := Parse(out, &o2)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q, which does not parse: %v", s, out, err)
		}
		if out2 := e2.String(); out2 != out {
			t.Fatalf("Parse(%q).String() = %q, but reparsed it is %q", s, out, out2)
		}
		if !slices.Equal(e.Attrs(), e2.Attrs()) || !maps.Equal(e.Equalities(), e2.Equalities()) {
			t.Fatalf("%q: Attrs or Equalities change on reparse", s)
		}
		for _, r := range fuzzRecords {
			if e.Match(r.get) != e2.Match(r.get) {
				t.Fatalf("%q and %q disagree on %v", s, out, r)
			}
		}
	})
}
