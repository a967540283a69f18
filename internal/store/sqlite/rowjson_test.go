package sqlite

import (
	"database/sql"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonDB is an in-memory database for asking SQLite to build rows.
func jsonDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteRow returns SQLite's json_array(s, n, NULL, s).
func sqliteRow(t testing.TB, db *sql.DB, s string, n int64) string {
	t.Helper()
	var row string
	if err := db.QueryRow(`SELECT json_array(?1, ?2, NULL, ?1)`, s, n).Scan(&row); err != nil {
		t.Fatalf("json_array(%q, %d): %v", s, n, err)
	}
	return row
}

// checkRow decodes a sqliteRow and compares it with what went in.
func checkRow(t *testing.T, row, s string, n int64) {
	t.Helper()
	d := newRowJSON(row)
	gotS := d.str()
	gotN := d.integer()
	_, null := d.nullStr()
	gotS2, _ := d.nullStr()
	if err := d.end(); err != nil {
		t.Fatalf("decode %q: %v", row, err)
	}
	if gotS != s || gotS2 != s || gotN != n || null {
		t.Fatalf("decode %q = %q, %d, %v, %q; want %q, %d, false, %q", row, gotS, gotN, null, gotS2, s, n, s)
	}
}

var rowJSONStrings = []string{
	"", "a", "ann@example.com", `"`, `\`, `\"`, `""\\`, "'", "/", `\u0041`,
	"\x00", "a\x00b", "\x01\x1f", "\x7f", "\b\f\n\r\t", "tab\there",
	"é", "日本語", "🎉", "\u2028\u2029", "\ufffd", "\xff", "\xc3", "a\xffb\xfe",
	"{SSHA}c2FsdHNhbHQ=", `{"employeeNumber":"42"}`, `["READ_ONLY_ADMIN"]`,
	strings.Repeat("x", 10_000), strings.Repeat(`"\`, 1000),
}

var rowJSONInts = []int64{0, 1, -1, 9, 10, 999_999_999_999_999_999, 1_000_000_000_000_000_000,
	-999_999_999_999_999_999, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 1764633600123456789}

// The decoder reads back exactly what SQLite's json_array wrote of any
// text, valid UTF-8 or not, and of any integer.
func TestRowJSONMatchesSQLite(t *testing.T) {
	db := jsonDB(t)
	for _, s := range rowJSONStrings {
		for _, n := range rowJSONInts {
			checkRow(t, sqliteRow(t, db, s, n), s, n)
		}
	}
}

func TestRowJSONMalformed(t *testing.T) {
	for _, row := range []string{
		"", "[", "]", "[]", "{}", `["a"`, `["a",]`, `["a" ,1,null,"a"]`, `["a",1,null,"a",]`,
		`["a",1,null,"a"]x`, `["a",1,null,"a","b"]`, `["a",1,null]`, `[null,1,null,"a"]`,
		`["a",1.5,null,"a"]`, `["a",-,null,"a"]`, `["a",+1,null,"a"]`, `["a",9223372036854775808,null,"a"]`,
		`["a",-9223372036854775809,null,"a"]`, `["a",null,null,"a"]`, `["a",1,nul,"a"]`, `["a",1,0,"a"]`,
		`["\x",1,null,"a"]`, `["\u12",1,null,"a"]`, `["\uZZZZ",1,null,"a"]`, `["\ud800",1,null,"a"]`,
		`["\udc00\ud800",1,null,"a"]`, `["\ud800\u0041",1,null,"a"]`, `["a\`, `["a\"`, `["a",1,null,"a\"]`,
		`[true,1,null,"a"]`, `[["a"],1,null,"a"]`,
	} {
		d := newRowJSON(row)
		d.str()
		d.integer()
		d.nullStr()
		d.nullStr()
		if err := d.end(); err == nil {
			t.Errorf("decode %q: no error", row)
		}
	}
}

func TestRowJSONEscapes(t *testing.T) {
	// Escapes SQLite does not write but JSON allows.
	d := newRowJSON(`["\/\u00e9\u00E9\ud83c\udf89\u2028",1,null,""]`)
	if s := d.str(); s != "/éé🎉\u2028" {
		t.Errorf("got %q", s)
	}
}

func TestRowJSONStrings(t *testing.T) {
	db := jsonDB(t)
	if _, err := db.Exec(`CREATE TABLE t (s TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 2, 50} {
		var want []string
		for i := range n {
			want = append(want, rowJSONStrings[i%len(rowJSONStrings)])
		}
		if _, err := db.Exec(`DELETE FROM t`); err != nil {
			t.Fatal(err)
		}
		for _, s := range want {
			if _, err := db.Exec(`INSERT INTO t (s) VALUES (?)`, s); err != nil {
				t.Fatal(err)
			}
		}
		var row string
		if err := db.QueryRow(`SELECT json_group_array(s) FROM (SELECT s FROM t ORDER BY rowid)`).Scan(&row); err != nil {
			t.Fatal(err)
		}
		d := newRowJSON(row)
		got, err := d.strs([]string{"kept"})
		if err != nil {
			t.Fatalf("strs(%q): %v", row, err)
		}
		if !slices.Equal(got, append([]string{"kept"}, want...)) {
			t.Errorf("strs(%q) = %q, want %q", row, got, want)
		}
	}
	for _, row := range []string{"", "[", `["a",]`, `["a"]]`, `["a",null]`, `[1]`, `["a" ]`} {
		d := newRowJSON(row)
		if _, err := d.strs(nil); err == nil {
			t.Errorf("strs(%q): no error", row)
		}
	}
}

// The decoder takes no allocation for a row without escapes.
func TestRowJSONAllocs(t *testing.T) {
	row := `["00u00000000000000001","ann@example.com",1764633600123456789,null,0]`
	allocs := testing.AllocsPerRun(100, func() {
		d := newRowJSON(row)
		d.str()
		d.str()
		d.integer()
		d.nullInt()
		d.integer()
		if err := d.end(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per row, want 0", allocs)
	}
}

// FuzzRowJSONSQLite: whatever text and integer SQLite's json_array
// writes, the decoder reads back exactly.
func FuzzRowJSONSQLite(f *testing.F) {
	for i, s := range rowJSONStrings {
		if len(s) < 100 { // long seeds make minimizing slow
			f.Add(s, rowJSONInts[i%len(rowJSONInts)])
		}
	}
	db := jsonDB(f)
	f.Fuzz(func(t *testing.T, s string, n int64) {
		checkRow(t, sqliteRow(t, db, s, n), s, n)
	})
}

// FuzzRowJSON: on any input the decoder fails or agrees with
// encoding/json, and never panics. (It passes raw control characters
// through, which SQLite never writes and encoding/json refuses.)
func FuzzRowJSON(f *testing.F) {
	for _, s := range []string{`[]`, `["a"]`, `["a","b\"c"]`, `["\u00e9",""]`, `["\ud83c\udf89"]`, `[1,-2,null,"x"]`, `["a",]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, row string) {
		d := newRowJSON(row)
		got, err := d.strs(nil)
		raw := strings.ContainsFunc(row, func(r rune) bool { return r < 0x20 })
		if err == nil && utf8.ValidString(row) && !raw {
			var want []string
			if err := json.Unmarshal([]byte(row), &want); err != nil {
				t.Fatalf("strs(%q) = %q, but encoding/json: %v", row, got, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("strs(%q) = %q, encoding/json %q", row, got, want)
			}
		}
		// Mixed elements: strings, integers and nulls.
		d = newRowJSON(row)
		for range len(row) {
			if d.err != nil {
				break
			}
			at := d.i
			if d.n > 0 {
				at++
			}
			if at < len(row) && row[at] == '"' {
				d.nullStr()
			} else {
				d.nullInt()
			}
		}
		_ = d.end()
	})
}
