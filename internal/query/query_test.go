package query

import (
	"errors"
	"strings"
	"testing"
)

// searchOpts is a users ?search= schema: every operator everywhere.
func searchOpts() *Options {
	return &Options{
		Attrs: map[string]Attr{
			"id":          {},
			"status":      {},
			"type":        {},
			"created":     {Type: Time},
			"lastUpdated": {Type: Time},
			"activated":   {Type: Time},
		},
		Prefixes: []Prefix{
			{Path: "profile.", Names: map[string]Attr{
				"firstName":  {},
				"lastName":   {},
				"email":      {},
				"login":      {},
				"department": {},
				"isAdmin":    {Type: Bool},
				"age":        {Type: Number},
			}},
			{Path: "debug.", Resolve: func(name string) (Attr, bool) {
				return Attr{}, !strings.Contains(name, "..")
			}},
		},
	}
}

// filterOpts is a users ?filter= schema: eq, plus ordering on dates.
func filterOpts() *Options {
	dates := Ops(Eq, Gt, Ge, Lt, Le)
	return &Options{Attrs: map[string]Attr{
		"id":            {Ops: Ops(Eq)},
		"status":        {Ops: Ops(Eq)},
		"lastUpdated":   {Type: Time, Ops: dates},
		"profile.login": {Ops: Ops(Eq)},
	}}
}

// examples are the expressions the REST API must accept.
var examples = []string{
	`status eq "ACTIVE"`,
	`lastUpdated gt "2013-06-01T00:00:00.000Z"`,
	`status eq "ACTIVE" or status eq "STAGED"`,
	`(status eq "LOCKED_OUT" or status eq "RECOVERY") and profile.department eq "Engineering"`,
	`profile.lastName sw "sm"`,
	`profile.email pr`,
	`not (type eq "service_account")`,
	`profile.firstName co "an" and created lt "2024-01-01T00:00:00Z"`,
	`id eq "00u1ero7vZFVEIYLWPBN"`,
}

func TestParseExamples(t *testing.T) {
	for _, in := range examples {
		e, err := Parse(in, searchOpts())
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := e.String(); got != in { // the examples are canonical
			t.Errorf("Parse(%q).String() = %q", in, got)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`status EQ "ACTIVE"`, `status eq "ACTIVE"`},
		{`  status   Eq   "ACTIVE"  `, `status eq "ACTIVE"`},
		{"status\teq\n\"ACTIVE\"", `status eq "ACTIVE"`},
		{`status eq"ACTIVE"`, `status eq "ACTIVE"`},
		{`((status eq "A"))`, `status eq "A"`},
		{`(status eq "A")and(id eq "B")`, `status eq "A" and id eq "B"`},
		{`status eq "A" OR status eq "B" AND id eq "C"`, `status eq "A" or status eq "B" and id eq "C"`},
		{`(status eq "A" or status eq "B") and id eq "C"`, `(status eq "A" or status eq "B") and id eq "C"`},
		{`status eq "A" or (status eq "B" or id eq "C")`, `status eq "A" or status eq "B" or id eq "C"`},
		{`status eq "A" and (status eq "B" and id eq "C")`, `status eq "A" and status eq "B" and id eq "C"`},
		{`(status eq "A" and status eq "B") or id eq "C"`, `status eq "A" and status eq "B" or id eq "C"`},
		{`NOT(status pr)`, `not (status pr)`},
		{`not (not (status pr))`, `not (not (status pr))`},
		{`not (status pr or id pr) and type pr`, `not (status pr or id pr) and type pr`},
		{`status eq "\"q\" \\ \/ \u00e9 \ud83d\ude00 \n\t\r\b\f \u0001"`, "status eq \"\\\"q\\\" \\\\ / é 😀 \\n\\t\\r\\u0008\\u000c \\u0001\""},
		{`status eq "é"`, `status eq "é"`},
		{`status eq ""`, `status eq ""`},
		{`status eq null`, `status eq null`},
		{`status ne NULL`, `status ne null`},
		{`profile.isAdmin eq TRUE`, `profile.isAdmin eq true`},
		{`profile.isAdmin ne false`, `profile.isAdmin ne false`},
		{`profile.age gt 30`, `profile.age gt 30`},
		{`profile.age le -1.5e+3`, `profile.age le -1.5e+3`},
		{`profile.age eq 0`, `profile.age eq 0`},
		{`profile.age eq -0.0E0`, `profile.age eq -0.0E0`},
		{`created ge "2024-01-01T00:00:00+02:00"`, `created ge "2024-01-01T00:00:00+02:00"`},
		{`debug.requestId eq "x"`, `debug.requestId eq "x"`},
		{`debug.a.b.c sw "x"`, `debug.a.b.c sw "x"`},
	} {
		e, err := Parse(tc.in, searchOpts())
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		e2, err := Parse(e.String(), searchOpts())
		if err != nil || e2.String() != tc.want {
			t.Errorf("reparse of %q: %v, %v", tc.want, e2, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in     string
		filter bool // use filterOpts
		off    int
		frag   string
	}{
		{``, false, 0, "empty expression"},
		{`   `, false, 0, "empty expression"},
		{`status equals "ACTIVE"`, false, 7, `expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), got "equals"`},
		{`status`, false, 6, `expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), got end of expression`},
		{`status eq`, false, 9, `expected a value (a string in double quotes, a number, true, false or null), got end of expression`},
		{`status eq ACTIVE`, false, 10, `got "ACTIVE"; quote strings: "ACTIVE"`},
		{`status eq 'ACTIVE'`, false, 10, `strings must be in double quotes`},
		{`status eq "ACTIVE`, false, 10, "unterminated string"},
		{`status eq "A\"`, false, 10, "unterminated string"},
		{`status eq "A\`, false, 12, "unterminated string"},
		{`status eq "A\x"`, false, 12, `invalid escape \x in string`},
		{`status eq "\u12"`, false, 11, `invalid \u escape`},
		{`status eq "\u12G4"`, false, 11, `invalid \u escape`},
		{`status eq "\ud800"`, false, 11, `unpaired surrogate \ud800`},
		{`status eq "\udc00"`, false, 11, `unpaired surrogate \udc00`},
		{`status eq "\ud800\u0041"`, false, 11, `unpaired surrogate`},
		{"status eq \"a\nb\"", false, 12, `control character U+000A in string`},
		{"status eq \"a\xffb\"", false, 12, `invalid UTF-8 in string`},
		{"status eq \"a\xed\xa0\x80\"", false, 12, `invalid UTF-8 in string`},
		{"st\xffatus eq \"a\"", false, 2, `invalid UTF-8`},
		{`status eq "A" status eq "B"`, false, 14, `expected "and", "or" or end of expression, got "status"`},
		{`status eq "A" and`, false, 17, `expected an attribute name, "not" or "(", got end of expression`},
		{`status eq "A" or or`, false, 17, `expected an attribute name, "not" or "(", got "or"`},
		{`status eq "A" or AND id pr`, false, 17, `expected an attribute name, "not" or "(", got "AND"`},
		{`(status eq "A"`, false, 14, `expected ")" to close the "(" at offset 0`},
		{`(status eq "A" status pr)`, false, 15, `expected "and", "or" or ")", got "status"`},
		{`status eq "A")`, false, 13, `unbalanced ")"`},
		{`()`, false, 1, `expected an attribute name, "not" or "(", got ")"`},
		{`not status eq "A"`, false, 4, `expected "(" after "not", got "status"`},
		{`not`, false, 3, `expected "(" after "not", got end of expression`},
		{`status eq "A" and not (id pr`, false, 28, `expected ")" to close the "(" at offset 22`},
		{`"status" eq "A"`, false, 0, `expected an attribute name, "not" or "(", got string "status"`},
		{`1status eq "A"`, false, 0, `expected an attribute name, "not" or "(", got "1status"`},
		{`status[type eq "work"]`, false, 6, `value filters`},
		{`profile.prénom pr`, false, 10, `unexpected character 'é'`},
		{`status eq "A" & id pr`, false, 14, `unexpected character '&'`},
		{`status pr "x"`, false, 10, `expected "and", "or" or end of expression, got string "x"`},
		{`Status eq "A"`, false, 0, `unknown attribute "Status" (attribute names are case-sensitive: did you mean "status"?); known attributes: activated, created, debug.*, id, lastUpdated, profile.age, profile.department, profile.email, profile.firstName, profile.isAdmin, profile.lastName, profile.login, status, type`},
		{`nope pr`, false, 0, `unknown attribute "nope"; known attributes: activated, created,`},
		{`profile. pr`, false, 0, `unknown attribute "profile."`},
		{`profile.middleName pr`, false, 0, `unknown attribute "profile.middleName"`},
		{`debug.a..b pr`, false, 0, `unknown attribute "debug.a..b"`},
		{`nope pr`, true, 0, `unknown attribute "nope"; known attributes: id, lastUpdated, profile.login, status`},
		// Types.
		{`status eq 5`, false, 10, `"status" is a string attribute: want a string in double quotes, got "5"`},
		{`status eq true`, false, 10, `"status" is a string attribute`},
		{`created gt 5`, false, 11, `"created" is a time attribute: want an RFC 3339 time in double quotes`},
		{`created gt "yesterday"`, false, 11, `"created" is a time attribute: "yesterday" is not an RFC 3339 time`},
		{`created gt "2024-01-01"`, false, 11, `"2024-01-01" is not an RFC 3339 time`},
		{`created gt "2024-01-01 00:00:00Z"`, false, 11, `not an RFC 3339 time`},
		{`created gt "2024-01-01T00:00:00"`, false, 11, `not an RFC 3339 time`},
		{`created gt "2024-01-01T00:00:00,5Z"`, false, 11, `not an RFC 3339 time`},
		{`created gt "2024-13-01T00:00:00Z"`, false, 11, `not an RFC 3339 time`},
		{`created gt "2024-01-01T25:00:00Z"`, false, 11, `not an RFC 3339 time`},
		{`created sw "2024"`, false, 8, `operator sw is not allowed on "created" (allowed: eq, ne, gt, ge, lt, le, pr)`},
		{`profile.isAdmin eq "true"`, false, 19, `"profile.isAdmin" is a bool attribute: want true or false, got string "true"`},
		{`profile.isAdmin gt true`, false, 16, `operator gt is not allowed on "profile.isAdmin" (allowed: eq, ne, pr)`},
		{`profile.age eq "5"`, false, 15, `"profile.age" is a number attribute: want a number, got string "5"`},
		{`profile.isAdmin eq yes`, false, 19, `"profile.isAdmin" is a bool attribute: want true or false, got "yes"`},
		{`created gt yesterday`, false, 11, `got "yesterday"; quote strings: "yesterday"`},
		{`profile.age eq 05`, false, 15, `invalid number "05"`},
		{`profile.age eq 1.`, false, 15, `invalid number "1."`},
		{`profile.age eq .5`, false, 15, `"profile.age" is a number attribute: want a number, got ".5"`},
		{`profile.age eq 1e`, false, 15, `invalid number "1e"`},
		{`profile.age eq +1`, false, 15, `want a number, got "+1"`},
		{`profile.age eq -`, false, 15, `invalid number "-"`},
		{`profile.age eq 1and`, false, 15, `invalid number "1and"`},
		{`profile.age eq 1e999`, false, 15, `number "1e999" is out of range`},
		{`status gt null`, false, 10, `null can only be compared with eq or ne`},
		// Operator restrictions (?filter=).
		{`status co "ACT"`, true, 7, `operator co is not allowed on "status" (allowed: eq)`},
		{`status pr`, true, 7, `operator pr is not allowed on "status" (allowed: eq)`},
		{`lastUpdated ne "2024-01-01T00:00:00Z"`, true, 12, `operator ne is not allowed on "lastUpdated" (allowed: eq, gt, ge, lt, le)`},
		// Long tokens are clipped in messages.
		{`status ` + strings.Repeat("x", 100), false, 7, `got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"…`},
	} {
		opts := searchOpts()
		if tc.filter {
			opts = filterOpts()
		}
		e, err := Parse(tc.in, opts)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, %v; want an *Error", tc.in, e, err)
			continue
		}
		if pe.Offset != tc.off || !strings.Contains(pe.Msg, tc.frag) {
			t.Errorf("Parse(%q) error:\n got %v\nwant at offset %d: …%s…", tc.in, err, tc.off, tc.frag)
		}
		if pe.Offset < 0 || pe.Offset > len(tc.in) {
			t.Errorf("Parse(%q): offset %d outside the input", tc.in, pe.Offset)
		}
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse(`status equals "ACTIVE"`, searchOpts())
	want := `at offset 7: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), got "equals"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestParseNilOptions(t *testing.T) {
	_, err := Parse(`status eq "A"`, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown attribute "status"; no attributes can be used here`) {
		t.Errorf("got %v", err)
	}
}

func TestNotAsAttribute(t *testing.T) {
	opts := &Options{Attrs: map[string]Attr{"not": {}, "and": {}, "or": {}, "pr": {}}}
	for _, tc := range []struct{ in, want string }{
		{`not eq "x"`, `not eq "x"`},
		{`not (not eq "x")`, `not (not eq "x")`},
		{`and pr and or pr or pr pr`, `and pr and or pr or pr pr`},
	} {
		e, err := Parse(tc.in, opts)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if e.String() != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, e.String(), tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("(", n) + `status pr` + strings.Repeat(")", n)
	}
	nots := func(n int) string {
		return strings.Repeat("not (", n) + `status pr` + strings.Repeat(")", n)
	}
	cmps := func(n int) string {
		return strings.TrimSuffix(strings.Repeat(`id pr or `, n), " or ")
	}
	long := func(n int) string { // exactly n bytes
		return `status eq "` + strings.Repeat("a", n-12) + `"`
	}
	for _, tc := range []struct {
		name string
		in   string
		opts Options
		off  int    // -1: must parse
		frag string // error fragment
	}{
		{"len default ok", long(4096), Options{}, -1, ""},
		{"len default over", long(4097), Options{}, 4096, "expression is 4097 bytes long; the limit is 4096"},
		{"len custom", long(101), Options{MaxLen: 100}, 100, "the limit is 100"},
		{"depth default ok", nest(32), Options{}, -1, ""},
		{"depth default over", nest(33), Options{}, 32, "expression nests deeper than 32 levels of parentheses"},
		{"depth not over", nots(33), Options{}, 32*5 + 4, "nests deeper than 32"},
		{"depth custom", nest(3), Options{MaxDepth: 2}, 2, "nests deeper than 2"},
		{"depth huge", nest(2000), Options{MaxLen: 1 << 20}, 32, "nests deeper than 32"},
		{"comparisons default ok", cmps(100), Options{}, -1, ""},
		{"comparisons default over", cmps(101), Options{}, 100 * 9, "expression has more than 100 comparisons"},
		{"comparisons custom", cmps(3), Options{MaxComparisons: 2}, 18, "more than 2 comparisons"},
	} {
		o := searchOpts()
		o.MaxLen, o.MaxDepth, o.MaxComparisons = tc.opts.MaxLen, tc.opts.MaxDepth, tc.opts.MaxComparisons
		_, err := Parse(tc.in, o)
		if tc.off < 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Offset != tc.off || !strings.Contains(pe.Msg, tc.frag) {
			t.Errorf("%s: got %v, want at offset %d: …%s…", tc.name, err, tc.off, tc.frag)
		}
	}
}

func TestAttrsAndEqualities(t *testing.T) {
	for _, tc := range []struct {
		in    string
		attrs string
		eqs   map[string]string
	}{
		{`id eq "00u1"`, "id", map[string]string{"id": "00u1"}},
		{`status eq "ACTIVE" and id eq "00u1" and created gt "2024-01-01T00:00:00Z"`, "created id status",
			map[string]string{"status": "ACTIVE", "id": "00u1"}},
		{`status eq "A" and status eq "B"`, "status", map[string]string{"status": "A"}},
		{`status eq "A" or id eq "B"`, "id status", nil},
		{`(status eq "A" or id eq "B") and type eq "C"`, "id status type", map[string]string{"type": "C"}},
		{`not (id eq "A")`, "id", nil},
		{`id ne "A" and id sw "B" and status eq null and profile.age eq 5 and profile.isAdmin eq true`, "id profile.age profile.isAdmin status", nil},
		{`profile.email pr and profile.email co "x"`, "profile.email", nil},
	} {
		e, err := Parse(tc.in, searchOpts())
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := strings.Join(e.Attrs(), " "); got != tc.attrs {
			t.Errorf("%q: Attrs() = %q, want %q", tc.in, got, tc.attrs)
		}
		got := e.Equalities()
		if len(got) != len(tc.eqs) {
			t.Errorf("%q: Equalities() = %v, want %v", tc.in, got, tc.eqs)
			continue
		}
		for k, v := range tc.eqs {
			if got[k] != v {
				t.Errorf("%q: Equalities() = %v, want %v", tc.in, got, tc.eqs)
			}
		}
	}
}

func TestNilExpr(t *testing.T) {
	var e *Expr
	if !e.Match(func(string) (Value, bool) { return Value{}, false }) {
		t.Error("nil Expr does not match")
	}
	if e.String() != "" || e.Attrs() != nil || e.Equalities() != nil {
		t.Error("nil Expr is not empty")
	}
}

func TestOpSet(t *testing.T) {
	s := Ops(Pr, Eq, Op(0), Op(200), Le)
	if got := s.String(); got != "eq, le, pr" {
		t.Errorf("String() = %q", got)
	}
	if s.Has(Ne) || !s.Has(Le) || s.Has(Op(0)) || s.Has(Op(99)) {
		t.Error("Has is wrong")
	}
	if Op(42).String() != "Op(42)" || Type(9).String() != "Type(9)" || Time.String() != "time" {
		t.Error("bad names")
	}
}

func TestUnsupportedType(t *testing.T) {
	_, err := Parse(`x eq "a"`, &Options{Attrs: map[string]Attr{"x": {Type: Type(9)}}})
	if err == nil || !strings.Contains(err.Error(), `attribute "x" has an unsupported type (Type(9))`) {
		t.Errorf("got %v", err)
	}
}
