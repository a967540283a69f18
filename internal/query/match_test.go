package query

import (
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
	"unicode"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

type record map[string]Value

func (r record) get(attr string) (Value, bool) {
	v, ok := r[attr]
	return v, ok
}

// dana has no profile.email, an empty profile.login and a zero activated.
var dana = record{
	"id":                 StringValue("00u1ero7vZFVEIYLWPBN"),
	"status":             StringValue("ACTIVE"),
	"type":               StringValue("human"),
	"created":            TimeValue(mustTime("2023-05-01T10:00:00Z")),
	"lastUpdated":        TimeValue(mustTime("2024-03-01T12:00:00.5Z")),
	"activated":          TimeValue(time.Time{}),
	"profile.firstName":  StringValue("Dana"),
	"profile.lastName":   StringValue("Smith"),
	"profile.login":      StringValue(""),
	"profile.department": StringValue("Engineering"),
	"profile.isAdmin":    BoolValue(true),
	"profile.age":        NumberValue(41),
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		// The examples.
		{`status eq "ACTIVE"`, true},
		{`lastUpdated gt "2013-06-01T00:00:00.000Z"`, true},
		{`status eq "ACTIVE" or status eq "STAGED"`, true},
		{`(status eq "LOCKED_OUT" or status eq "RECOVERY") and profile.department eq "Engineering"`, false},
		{`profile.lastName sw "sm"`, true},
		{`profile.email pr`, false},
		{`not (type eq "service_account")`, true},
		{`profile.firstName co "an" and created lt "2024-01-01T00:00:00Z"`, true},
		{`id eq "00u1ero7vZFVEIYLWPBN"`, true},
		{`id eq "00u1ero7vZFVEIYLWPBn"`, true}, // case-insensitive, as Okta

		// Strings, every operator.
		{`profile.lastName eq "smith"`, true},
		{`profile.lastName eq "smit"`, false},
		{`profile.lastName ne "SMITH"`, false},
		{`profile.lastName ne "Smyth"`, true},
		{`profile.lastName co "MIT"`, true},
		{`profile.lastName co "smith"`, true},
		{`profile.lastName co ""`, true},
		{`profile.lastName co "tho"`, false},
		{`profile.lastName co "smithy"`, false},
		{`profile.lastName sw "SMITH"`, true},
		{`profile.lastName sw "smithy"`, false},
		{`profile.lastName sw "mith"`, false},
		{`profile.lastName sw ""`, true},
		{`profile.lastName ew "ITH"`, true},
		{`profile.lastName ew "smith"`, true},
		{`profile.lastName ew "asmith"`, false},
		{`profile.lastName ew "smit"`, false},
		{`profile.lastName gt "SMITA"`, true},
		{`profile.lastName gt "smith"`, false},
		{`profile.lastName ge "smith"`, true},
		{`profile.lastName lt "smithy"`, true},
		{`profile.lastName lt "Smit"`, false},
		{`profile.lastName le "SMITH"`, true},
		{`profile.lastName lt "t"`, true},
		{`profile.lastName gt "R"`, true},
		{`profile.lastName pr`, true},

		// Present but empty.
		{`profile.login pr`, false},
		{`profile.login eq ""`, true},
		{`profile.login ne ""`, false},
		{`profile.login co ""`, true},
		{`profile.login sw "a"`, false},
		{`profile.login lt "a"`, true},
		{`profile.login eq null`, true},
		{`profile.login ne null`, false},

		// Absent: false except ne.
		{`profile.email eq "x"`, false},
		{`profile.email ne "x"`, true},
		{`profile.email co ""`, false},
		{`profile.email sw ""`, false},
		{`profile.email ew ""`, false},
		{`profile.email gt ""`, false},
		{`profile.email ge ""`, false},
		{`profile.email lt "z"`, false},
		{`profile.email le "z"`, false},
		{`profile.email pr`, false},
		{`profile.email eq null`, true},
		{`profile.email ne null`, false},
		{`not (profile.email eq "x")`, true},
		{`not (profile.email pr)`, true},
		{`debug.anything eq "x"`, false},
		{`debug.anything ne "x"`, true},

		// Times compare instants, whatever the offset and precision.
		{`created eq "2023-05-01T10:00:00Z"`, true},
		{`created eq "2023-05-01T10:00:00.000Z"`, true},
		{`created eq "2023-05-01T12:00:00+02:00"`, true},
		{`created eq "2023-05-01T10:00:00.001Z"`, false},
		{`created ne "2023-05-01T10:00:00Z"`, false},
		{`created gt "2023-05-01T09:59:59.999999999Z"`, true},
		{`created gt "2023-05-01T10:00:00Z"`, false},
		{`created ge "2023-05-01T10:00:00Z"`, true},
		{`created lt "2023-05-01T06:00:01-04:00"`, true},
		{`created lt "2023-05-01T06:00:00-04:00"`, false},
		{`created le "2023-05-01T06:00:00-04:00"`, true},
		{`created pr`, true},
		{`lastUpdated gt "2024-03-01T12:00:00Z"`, true},
		{`lastUpdated lt "2024-03-01T12:00:00.6Z"`, true},
		{`activated pr`, false}, // the zero time is empty
		{`activated eq null`, true},

		// Bools and numbers.
		{`profile.isAdmin eq true`, true},
		{`profile.isAdmin eq false`, false},
		{`profile.isAdmin ne false`, true},
		{`profile.isAdmin ne true`, false},
		{`profile.isAdmin pr`, true},
		{`profile.age eq 41`, true},
		{`profile.age eq 41.0`, true},
		{`profile.age eq 4.1e1`, true},
		{`profile.age ne 41`, false},
		{`profile.age gt 40.5`, true},
		{`profile.age gt 41`, false},
		{`profile.age ge 41`, true},
		{`profile.age lt 41`, false},
		{`profile.age lt 1e2`, true},
		{`profile.age le 41`, true},
		{`profile.age gt -1`, true},
		{`profile.age pr`, true},

		// Logic and precedence: and binds tighter than or.
		{`status eq "X" and id pr or type pr`, true},        // (F and T) or T
		{`status eq "X" and (id pr or type pr)`, false},     // F and (T or T)
		{`type pr or status eq "X" and id eq "X"`, true},    // T or (F and F)
		{`(type pr or status eq "X") and id eq "X"`, false}, // (T or F) and F
		{`status eq "X" or id eq "X" or type eq "HUMAN"`, true},
		{`status pr and id pr and type eq "x"`, false},
		{`not (status pr) or not (id pr)`, false},
		{`not (status pr and profile.email pr)`, true},
		{`not (not (status pr))`, true},
		{`NOT (status EQ "active") OR profile.age GT 40`, true},
	} {
		e, err := Parse(tc.in, searchOpts())
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.Match(dana.get); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
		// The canonical form means the same.
		e2, err := Parse(e.String(), searchOpts())
		if err != nil || e2.Match(dana.get) != tc.want {
			t.Errorf("%s: reparsed %q: %v", tc.in, e.String(), err)
		}
	}
}

func TestMatchWrongValueType(t *testing.T) {
	// A getter that returns the wrong type is treated as absent.
	r := record{"created": StringValue("2023-05-01T10:00:00Z"), "status": NumberValue(1), "profile.age": Value{}}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`created eq "2023-05-01T10:00:00Z"`, false},
		{`created ne "2023-05-01T10:00:00Z"`, true},
		{`created pr`, false},
		{`status eq "1"`, false},
		{`status ne "1"`, true},
		{`profile.age eq 0`, false},
		{`profile.age eq null`, true},
	} {
		e, err := Parse(tc.in, searchOpts())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Match(r.get); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMatchNaN(t *testing.T) {
	r := record{"profile.age": NumberValue(math.NaN())}
	for in, want := range map[string]bool{
		`profile.age eq 1`: false, `profile.age ne 1`: true, `profile.age gt 1`: false,
		`profile.age lt 1`: false, `profile.age ge 1`: false, `profile.age le 1`: false, `profile.age pr`: true,
	} {
		e, err := Parse(in, searchOpts())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Match(r.get); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func TestCaseInsensitive(t *testing.T) {
	r := record{
		"profile.lastName":  StringValue("Øster-Straße ΣΊΣΥΦΟΣ"),
		"profile.firstName": StringValue("Kelvin"),
		"profile.email":     StringValue("dana@EXAMPLE.com"),
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`profile.lastName eq "øster-straße σίσυφος"`, true},
		{`profile.lastName eq "ØSTER-STRASSE ΣΊΣΥΦΟΣ"`, false}, // simple folding: ß is not ss
		{`profile.lastName sw "øSTER"`, true},
		{`profile.lastName ew "σίσυφος"`, true},
		{`profile.lastName ew "σίσυφοσ"`, true}, // final sigma folds with sigma
		{`profile.lastName co "STRAßE σί"`, true},
		{`profile.lastName co "straẞe"`, true},       // U+1E9E folds with ß
		{`profile.firstName eq "\u212aelvin"`, true}, // Kelvin sign folds with K
		{`profile.firstName sw "\u212a"`, true},
		{`profile.firstName co "\u212aEL"`, true},
		{`profile.firstName ew "VIN"`, true},
		{`profile.firstName eq "ſ"`, false},
		{`profile.email co "@example."`, true},
		{`profile.email ew "COM"`, true},
		{`profile.email gt "DANA@"`, true},
		{`profile.email lt "DANA@EXAMPLE.COMa"`, true},
		{`profile.email ge "DANA@EXAMPLE.COM"`, true},
		{`profile.email le "dana@example.com"`, true},
	} {
		e, err := Parse(tc.in, searchOpts())
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.Match(r.get); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
	}
	// Keywords in any case.
	in := `status Eq "a" AnD NoT (id Pr) oR type NE NuLl`
	e, err := Parse(in, searchOpts())
	if err != nil || e.String() != `status eq "a" and not (id pr) or type ne null` {
		t.Errorf("Parse(%q) = %v, %v", in, e, err)
	}
	// Attribute names are not.
	if _, err := Parse(`PROFILE.EMAIL pr`, searchOpts()); err == nil {
		t.Error("PROFILE.EMAIL parsed")
	}
}

// TestFoldRune checks that foldRune agrees with strings.EqualFold: every
// rune of a simple-folding orbit maps to the same rune.
func TestFoldRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		f := foldRune(r)
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if foldRune(o) != f {
				t.Fatalf("foldRune(%U) = %U but foldRune(%U) = %U", r, f, o, foldRune(o))
			}
		}
		if f != r && !strings.EqualFold(string(r), string(f)) {
			t.Fatalf("foldRune(%U) = %U, not EqualFold", r, f)
		}
	}
}

// TestStringOpsRandom checks sw, ew, co and ordering against plain
// implementations over random strings from a small, case-rich alphabet.
func TestStringOpsRandom(t *testing.T) {
	alpha := []rune("aAbBkK\u212asSſ")
	rng := rand.New(rand.NewSource(1))
	word := func(max int) string {
		n := rng.Intn(max + 1)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.Intn(len(alpha))])
		}
		return b.String()
	}
	// canon folds s rune by rune, the reference for every operator.
	canon := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(foldRune(r))
		}
		return b.String()
	}
	for range 20000 {
		s, p := word(8), word(4)
		fp := foldString(p)
		cs, cp := canon(s), canon(p)
		if got, want := hasPrefixFold(s, fp), strings.HasPrefix(cs, cp); got != want {
			t.Fatalf("sw(%q, %q) = %v", s, p, got)
		}
		if got, want := hasSuffixFold(s, fp), strings.HasSuffix(cs, cp); got != want {
			t.Fatalf("ew(%q, %q) = %v", s, p, got)
		}
		if got, want := containsFold(s, fp, kmpTable(fp)), strings.Contains(cs, cp); got != want {
			t.Fatalf("co(%q, %q) = %v", s, p, got)
		}
		if got, want := compareFold(s, fp), compareRunes([]rune(cs), []rune(cp)); got != want {
			t.Fatalf("compare(%q, %q) = %d, want %d", s, p, got, want)
		}
		if (compareFold(s, fp) == 0) != strings.EqualFold(s, p) {
			t.Fatalf("compare and EqualFold disagree on %q, %q", s, p)
		}
	}
}

func compareRunes(a, b []rune) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func TestMatchInvalidUTF8Value(t *testing.T) {
	r := record{"status": StringValue("A\xffB")}
	for in, want := range map[string]bool{
		`status co "B"`: true, `status sw "a"`: true, `status ew "b"`: true, `status eq "a\ufffdb"`: true,
		`status co "\ufffd"`: true, `status gt "A"`: true,
	} {
		e, err := Parse(in, searchOpts())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Match(r.get); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

func TestValueString(t *testing.T) {
	for v, want := range map[Value]string{
		StringValue("a\"b"):                         `"a\"b"`,
		TimeValue(mustTime("2024-01-01T00:00:00Z")): `"2024-01-01T00:00:00Z"`,
		BoolValue(true):                             `true`,
		NumberValue(1.5):                            `1.5`,
		{}:                                          `""`,
	} {
		if got := v.String(); got != want {
			t.Errorf("String() = %s, want %s", got, want)
		}
	}
	if NumberValue(1).Type() != Number || (Value{}).Type() != String {
		t.Error("Type is wrong")
	}
}

// user is the shape a store's record adapter is expected to take:
// a switch over the attribute path, no map.
type user struct {
	id, status, first, last, email, dept string
	created                              time.Time
}

func (u *user) get(attr string) (Value, bool) {
	switch attr {
	case "id":
		return StringValue(u.id), true
	case "status":
		return StringValue(u.status), true
	case "profile.firstName":
		return StringValue(u.first), true
	case "profile.lastName":
		return StringValue(u.last), true
	case "profile.email":
		return StringValue(u.email), u.email != ""
	case "profile.department":
		return StringValue(u.dept), true
	case "created":
		return TimeValue(u.created), !u.created.IsZero()
	}
	return Value{}, false
}

var benchUser = &user{
	id: "00u1ero7vZFVEIYLWPBN", status: "ACTIVE", first: "Dana", last: "Smith",
	email: "dana.smith@example.com", dept: "Engineering", created: mustTime("2023-05-01T10:00:00Z"),
}

var matchCases = []struct{ name, expr string }{
	{"eq", `status eq "active"`},
	{"sw", `profile.lastName sw "SM"`},
	{"eq_sw_and_or", `(status eq "LOCKED_OUT" or status eq "ACTIVE") and profile.lastName sw "sm" and profile.department eq "engineering"`},
	{"co", `profile.email co "SMITH@"`},
	{"ew", `profile.email ew ".COM"`},
	{"gt_string", `profile.lastName gt "r"`},
	{"time", `created lt "2024-01-01T00:00:00Z"`},
	{"not_pr", `not (profile.email pr) or id ne "x"`},
}

// TestMatchAllocs: Match must not allocate.
func TestMatchAllocs(t *testing.T) {
	for _, c := range matchCases {
		e, err := Parse(c.expr, searchOpts())
		if err != nil {
			t.Fatal(err)
		}
		get := benchUser.get
		if !e.Match(get) {
			t.Errorf("%s: does not match", c.name)
		}
		if n := testing.AllocsPerRun(1000, func() { e.Match(get) }); n != 0 {
			t.Errorf("%s: %v allocations per Match, want 0", c.name, n)
		}
	}
	// A map-backed getter does not allocate either.
	e, _ := Parse(matchCases[2].expr, searchOpts())
	r := record{"status": StringValue("ACTIVE"), "profile.lastName": StringValue("Smith"), "profile.department": StringValue("Engineering")}
	if n := testing.AllocsPerRun(1000, func() { e.Match(r.get) }); n != 0 {
		t.Errorf("map getter: %v allocations per Match, want 0", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, c := range matchCases {
		e, err := Parse(c.expr, searchOpts())
		if err != nil {
			b.Fatal(err)
		}
		get := benchUser.get
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Match(get)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	in := examples[3]
	opts := searchOpts()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrecedence evaluates every assignment of three bools: and binds
// tighter than or, not applies to its parenthesised operand only.
func TestPrecedence(t *testing.T) {
	opts := &Options{Attrs: map[string]Attr{"x": {Type: Bool}, "y": {Type: Bool}, "z": {Type: Bool}}}
	for _, tc := range []struct {
		in string
		f  func(x, y, z bool) bool
	}{
		{`x eq true or y eq true and z eq true`, func(x, y, z bool) bool { return x || y && z }},
		{`x eq true and y eq true or z eq true`, func(x, y, z bool) bool { return x && y || z }},
		{`(x eq true or y eq true) and z eq true`, func(x, y, z bool) bool { return (x || y) && z }},
		{`x eq true and (y eq true or z eq true)`, func(x, y, z bool) bool { return x && (y || z) }},
		{`not (x eq true) and y eq true or z eq true`, func(x, y, z bool) bool { return !x && y || z }},
		{`not (x eq true and y eq true or z eq true)`, func(x, y, z bool) bool { return !(x && y || z) }},
		{`x eq true or not (y eq true or z eq true) and x eq false`, func(x, y, z bool) bool { return x || !(y || z) && !x }},
		{`x ne true and y ne true and z ne true`, func(x, y, z bool) bool { return !x && !y && !z }},
	} {
		e, err := Parse(tc.in, opts)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		for i := range 8 {
			x, y, z := i&1 != 0, i&2 != 0, i&4 != 0
			r := record{"x": BoolValue(x), "y": BoolValue(y), "z": BoolValue(z)}
			if got, want := e.Match(r.get), tc.f(x, y, z); got != want {
				t.Errorf("%s with x=%v y=%v z=%v: got %v, want %v", tc.in, x, y, z, got, want)
			}
		}
	}
}

// TestTimeParsing: RFC 3339 with or without fractional seconds, Z or an
// offset; the value compares as the instant it names.
func TestTimeParsing(t *testing.T) {
	for _, tc := range []struct {
		lit  string
		want time.Time // zero: must not parse
	}{
		{"2013-06-01T00:00:00.000Z", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2013-06-01T00:00:00Z", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2013-06-01T00:00:00.5Z", time.Date(2013, 6, 1, 0, 0, 0, 5e8, time.UTC)},
		{"2013-06-01T00:00:00.123456789Z", time.Date(2013, 6, 1, 0, 0, 0, 123456789, time.UTC)},
		{"2013-06-01T02:00:00+02:00", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2013-05-31T19:30:00.000-04:30", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2013-06-01T00:00:00-00:00", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-02-29T23:59:59Z", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"2023-02-29T00:00:00Z", time.Time{}},
		{"2013-06-01", time.Time{}},
		{"2013-06-01T00:00Z", time.Time{}},
		{"2013-06-01T00:00:00", time.Time{}},
		{"2013-06-01T00:00:00+0200", time.Time{}},
		{"2013-06-01 00:00:00Z", time.Time{}},
		{"2013-06-01T00:00:00,5Z", time.Time{}},
		{"2013-06-01T00:00:00.Z", time.Time{}},
		{"1370044800", time.Time{}},
		{"", time.Time{}},
	} {
		in := `created eq "` + tc.lit + `"`
		e, err := Parse(in, searchOpts())
		if tc.want.IsZero() {
			if err == nil || !strings.Contains(err.Error(), "not an RFC 3339 time") {
				t.Errorf("Parse(%q) = %v, %v; want an RFC 3339 error", in, e, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		r := record{"created": TimeValue(tc.want.In(time.FixedZone("X", 3600)))}
		if !e.Match(r.get) {
			t.Errorf("%s does not match %v", in, tc.want)
		}
		r = record{"created": TimeValue(tc.want.Add(time.Nanosecond))}
		if e.Match(r.get) {
			t.Errorf("%s matches %v", in, tc.want.Add(time.Nanosecond))
		}
	}
}
