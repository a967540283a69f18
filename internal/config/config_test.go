package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func newFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("ldaps", "127.0.0.1:1636", "")
	fs.String("data", "./dirgate-data", "")
	fs.String("log-level", "info", "")
	fs.Bool("no-demo", false, "")
	fs.Int("workers", 4, "")
	fs.StringSlice("hostname", []string{"localhost", "127.0.0.1"}, "")
	fs.StringArray("attr", nil, "")
	fs.String("config", "", "")
	return fs
}

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustParse(t *testing.T, yml string) *File {
	t.Helper()
	f, err := Parse("test.yaml", []byte(yml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"ldaps":     "DIRGATE_LDAPS",
		"tls-cert":  "DIRGATE_TLS_CERT",
		"no-demo":   "DIRGATE_NO_DEMO",
		"log-level": "DIRGATE_LOG_LEVEL",
		"data":      "DIRGATE_DATA",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := `
ldaps: 10.0.0.1:636
data: /from/file
log-level: debug
no-demo: true
workers: 9
hostname: [ldap.example.com, "10.0.0.1"]
`
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		file  string
		flag  string
		want  any
		unset bool // flag keeps its default and is not marked changed
	}{
		{name: "default", flag: "ldaps", want: "127.0.0.1:1636", unset: true},
		{name: "file over default", file: file, flag: "ldaps", want: "10.0.0.1:636"},
		{name: "env over file", file: file, env: map[string]string{"DIRGATE_LDAPS": "10.0.0.2:636"}, flag: "ldaps", want: "10.0.0.2:636"},
		{name: "flag over env", file: file, args: []string{"--ldaps", "10.0.0.3:636"}, env: map[string]string{"DIRGATE_LDAPS": "10.0.0.2:636"}, flag: "ldaps", want: "10.0.0.3:636"},
		{name: "empty env still wins", file: file, env: map[string]string{"DIRGATE_LDAPS": ""}, flag: "ldaps", want: ""},
		{name: "dashed name from env", env: map[string]string{"DIRGATE_LOG_LEVEL": "warn"}, flag: "log-level", want: "warn"},
		{name: "dashed name from file", file: file, flag: "log-level", want: "debug"},
		{name: "bool from file", file: file, flag: "no-demo", want: true},
		{name: "bool from env", env: map[string]string{"DIRGATE_NO_DEMO": "1"}, flag: "no-demo", want: true},
		{name: "int from file", file: file, flag: "workers", want: 9},
		{name: "slice default", flag: "hostname", want: []string{"localhost", "127.0.0.1"}, unset: true},
		{name: "slice from file list", file: file, flag: "hostname", want: []string{"ldap.example.com", "10.0.0.1"}},
		{name: "slice from file scalar", file: "hostname: ldap.example.com", flag: "hostname", want: []string{"ldap.example.com"}},
		{name: "slice from env csv", env: map[string]string{"DIRGATE_HOSTNAME": "a.example,b.example"}, flag: "hostname", want: []string{"a.example", "b.example"}},
		{name: "slice flag over env", args: []string{"--hostname", "c"}, env: map[string]string{"DIRGATE_HOSTNAME": "a,b"}, flag: "hostname", want: []string{"c"}},
		{name: "array from file keeps commas", file: "attr: [\"costCenter=1,2\", \"badge=7\"]", flag: "attr", want: []string{"costCenter=1,2", "badge=7"}},
		{name: "config never from env", env: map[string]string{"DIRGATE_CONFIG": "x.yaml"}, flag: "config", want: "", unset: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlags()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var f *File
			if tc.file != "" {
				f = mustParse(t, tc.file)
			}
			if err := Apply(fs, f, envOf(tc.env)); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var got any
			var err error
			switch tc.want.(type) {
			case string:
				got, err = fs.GetString(tc.flag)
			case bool:
				got, err = fs.GetBool(tc.flag)
			case int:
				got, err = fs.GetInt(tc.flag)
			case []string:
				if fs.Lookup(tc.flag).Value.Type() == "stringArray" {
					got, err = fs.GetStringArray(tc.flag)
				} else {
					got, err = fs.GetStringSlice(tc.flag)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.flag, got, tc.want)
			}
			if changed := fs.Changed(tc.flag); changed == tc.unset {
				t.Errorf("Changed(%s) = %v, want %v", tc.flag, changed, !tc.unset)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{name: "bad bool in env", env: map[string]string{"DIRGATE_NO_DEMO": "maybe"}, want: "environment DIRGATE_NO_DEMO:"},
		{name: "bad int in file", file: "\n\nworkers: many", want: "config file test.yaml line 3: workers:"},
		{name: "list for a single-valued flag", file: "ldaps: [a, b]", want: "ldaps: takes one value, not a list of 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *File
			if tc.file != "" {
				f = mustParse(t, tc.file)
			}
			err := Apply(newFlags(), f, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"not yaml", "ldaps: [unclosed", "config file test.yaml: "},
		{"not a mapping", "- a\n- b\n", "line 1: expected a mapping"},
		{"nested mapping", "ldaps:\n  host: x\n", "line 2: key \"ldaps\": value must be a plain value"},
		{"null value", "ldaps:\n", "key \"ldaps\" has no value"},
		{"duplicate", "data: a\ndata: b\n", ""}, // yaml.v3 refuses duplicates itself
		{"nested list", "hostname: [[a]]", "list items must be plain values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n"} {
		f, err := Parse("e.yaml", []byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if len(f.Keys()) != 0 {
			t.Errorf("Parse(%q) keys = %v", in, f.Keys())
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dirgate.yaml")
	if err := os.WriteFile(p, []byte("ldaps: 127.0.0.1:1636 # comment\ndata: /srv/dg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Keys(); !reflect.DeepEqual(got, []string{"data", "ldaps"}) {
		t.Errorf("Keys = %v", got)
	}
	_, err = ReadFile(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file error = %v", err)
	}
}

func TestCheckKeys(t *testing.T) {
	f := mustParse(t, "data: x\nldpas: y\nbogus: z\n")
	known := map[string]bool{"data": true, "ldaps": true}
	err := f.CheckKeys(func(k string) bool { return known[k] })
	if err == nil || !strings.Contains(err.Error(), `line 2: unknown key "ldpas"`) {
		t.Fatalf("CheckKeys = %v", err)
	}
	if err := (*File)(nil).CheckKeys(func(string) bool { return false }); err != nil {
		t.Errorf("nil file: %v", err)
	}
}
