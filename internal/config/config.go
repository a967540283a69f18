// Package config fills a command's flags from the places an operator can
// set them besides the command line: DIRGATE_<FLAG> environment variables
// and a YAML config file whose keys are the flag names. A flag given on the
// command line wins over the environment, which wins over the file, which
// wins over the flag's default.
//
//	# dirgate.yaml
//	data: /var/lib/dirgate
//	ldaps: 0.0.0.0:636
//	hostname: [ldap.example.com, 10.0.0.5]
//
// The package knows nothing of the commands: it works on a pflag.FlagSet.
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable that sets a flag.
const EnvPrefix = "DIRGATE_"

// EnvName returns the environment variable for a flag: "tls-cert" is
// DIRGATE_TLS_CERT.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// File is a parsed config file: flag name -> value(s).
type File struct {
	Path   string
	values map[string]fileValue
}

type fileValue struct {
	vals []string
	list bool // written as a YAML sequence
	line int
}

// ReadFile reads and parses a YAML config file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a config file's content; path names it in errors. The file
// is one YAML mapping of flag names to scalars (strings, numbers, booleans)
// or, for flags that take several values, sequences of scalars. An empty
// file sets nothing.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, values: map[string]fileValue{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return nil, f.errAt(root.Line, "expected a mapping of flag names to values (e.g. \"ldaps: 127.0.0.1:1636\")")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, f.errAt(k.Line, "a key must be a flag name")
		}
		name := k.Value
		if _, dup := f.values[name]; dup {
			return nil, f.errAt(k.Line, "key %q appears twice", name)
		}
		fv := fileValue{line: k.Line}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				return nil, f.errAt(v.Line, "key %q has no value", name)
			}
			fv.vals = []string{v.Value}
		case yaml.SequenceNode:
			fv.list = true
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
					return nil, f.errAt(it.Line, "key %q: list items must be plain values", name)
				}
				fv.vals = append(fv.vals, it.Value)
			}
		default:
			return nil, f.errAt(v.Line, "key %q: value must be a plain value or a list of them", name)
		}
		f.values[name] = fv
	}
	return f, nil
}

func (f *File) errAt(line int, format string, args ...any) error {
	return fmt.Errorf("config file %s line %d: %s", f.Path, line, fmt.Sprintf(format, args...))
}

// Keys returns the keys the file sets, sorted.
func (f *File) Keys() []string {
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.values))
	for k := range f.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckKeys reports the first key (in file order) for which known is
// false, so a misspelt setting is an error instead of being ignored.
func (f *File) CheckKeys(known func(name string) bool) error {
	if f == nil {
		return nil
	}
	type kl struct {
		k string
		l int
	}
	var bad []kl
	for k, v := range f.values {
		if !known(k) {
			bad = append(bad, kl{k, v.line})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.SortFunc(bad, func(a, b kl) int { return a.l - b.l })
	return f.errAt(bad[0].l, "unknown key %q (keys are flag names, e.g. data, ldaps, log-level)", bad[0].k)
}

// LookupEnv is the signature of os.LookupEnv.
type LookupEnv func(key string) (string, bool)

// Skip lists flags Apply never sets: help is not a setting, and the config
// file's own name cannot come from the file.
var Skip = []string{"help", "config"}

// Apply sets every flag of fs that was not given on the command line from
// its DIRGATE_<FLAG> environment variable if that is set (even to the empty
// string), else from file (which may be nil). A flag that takes several
// values takes a comma-separated list from the environment (as on the
// command line) and a YAML list, or a single value, from the file. Flags
// Apply sets count as changed afterwards, so required-flag checks see them.
func Apply(fs *pflag.FlagSet, file *File, env LookupEnv) error {
	if env == nil {
		env = os.LookupEnv
	}
	var errs []error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || slices.Contains(Skip, fl.Name) {
			return
		}
		if v, ok := env(EnvName(fl.Name)); ok {
			if err := fs.Set(fl.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s: %v", EnvName(fl.Name), err))
			}
			return
		}
		if file == nil {
			return
		}
		fv, ok := file.values[fl.Name]
		if !ok {
			return
		}
		if err := setFromFile(fs, fl, fv); err != nil {
			errs = append(errs, file.errAt(fv.line, "%s: %v", fl.Name, err))
		}
	})
	return errors.Join(errs...)
}

func setFromFile(fs *pflag.FlagSet, fl *pflag.Flag, fv fileValue) error {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		// Each list item is one value, commas and all.
		if err := sv.Replace(fv.vals); err != nil {
			return err
		}
		fl.Changed = true
		return nil
	}
	if fv.list {
		if len(fv.vals) != 1 {
			return fmt.Errorf("takes one value, not a list of %d", len(fv.vals))
		}
	}
	return fs.Set(fl.Name, fv.vals[0])
}
