package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxInput bounds the size of what Parse reads.
const MaxInput = 4 << 20

// Parse decodes policies written in YAML or JSON. Each YAML document (they
// are separated by "---") or JSON value holds one policy or a list of
// policies. Decoding is strict: unknown fields, wrong types, values out of
// range, policies of one kind sharing a name or priority, and anything
// Validate refuses are errors. The error is an Errors value listing every
// problem with its document number, line and field path.
//
// Parse fills in what a file may leave out: a missing status is ACTIVE
// (for policies and rules), and a password policy's missing settings take
// the built-in default's values (see DefaultPasswordSettings). Empty lists
// become nil. Input with no policies at all gives none and no error.
func Parse(data []byte) ([]Policy, error) {
	if len(data) > MaxInput {
		return nil, Errors{{Msg: fmt.Sprintf("input is %d bytes; at most %d allowed", len(data), MaxInput)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	docs, err := readDocs(data)
	if err != nil {
		return nil, err
	}
	var (
		es     Errors
		parsed []*pdec
	)
	for di, root := range docs {
		if root == nil {
			continue
		}
		doc := di + 1
		switch root.Kind {
		case yaml.MappingNode:
			parsed = append(parsed, decodePolicy(root, doc, "", &es))
		case yaml.SequenceNode:
			for i, item := range root.Content {
				parsed = append(parsed, decodePolicy(item, doc, "["+strconv.Itoa(i)+"]", &es))
			}
		default:
			es = append(es, &Error{Doc: doc, Line: root.Line,
				Msg: "want a policy (a mapping with kind, name, priority, …) or a list of policies; got " + describe(root)})
		}
	}
	if len(parsed) > MaxPolicies {
		return nil, append(es, &Error{Msg: fmt.Sprintf("%d policies; at most %d allowed in one input", len(parsed), MaxPolicies)})
	}
	ps := make([]Policy, len(parsed))
	for i, d := range parsed {
		ps[i] = d.p
		validate(&ps[i], d.report)
	}
	checkUnique(ps, func(i int, path, msg string) { parsed[i].report(path, msg) },
		func(j int) string {
			d := parsed[j]
			return fmt.Sprintf("document %d, line %d", d.doc, d.lineOf(""))
		})
	if len(es) > 0 {
		return nil, es
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return ps, nil
}

// readDocs returns the root node of each document; nil for an empty one.
func readDocs(data []byte) ([]*yaml.Node, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		docs, jerr := jsonDocs(data)
		if jerr == nil {
			return docs, nil
		}
		// Perhaps YAML in flow style; if that fails too, the JSON error
		// is the one that makes sense.
		if docs, yerr := yamlDocs(data); yerr == nil {
			return docs, nil
		}
		return nil, jerr
	}
	return yamlDocs(data)
}

func yamlDocs(data []byte) (docs []*yaml.Node, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := decodeYAML(dec, &n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, Errors{yamlError(err, len(docs)+1, data)}
		}
		var root *yaml.Node
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			root = n.Content[0]
			if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
				root = nil
			}
		}
		docs = append(docs, root)
	}
}

// decodeYAML guards against a panic in the YAML library on hostile input.
func decodeYAML(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: malformed input (%v)", r)
		}
	}()
	return dec.Decode(n)
}

// yamlError turns "yaml: line 3: did not find expected key" into an Error
// with the line apart.
func yamlError(err error, doc int, data []byte) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{Doc: doc}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line = n
				msg = strings.TrimSpace(rest[i+1:])
				if parserError(msg) {
					// The YAML library gives the parser's lines counting
					// from 0 (its scanner's count from 1).
					e.Line++
				}
			}
		}
	}
	if e.Line > 0 {
		lines := bytes.Split(data, []byte("\n"))
		if e.Line <= len(lines) && bytes.ContainsRune(lines[e.Line-1], '\t') {
			msg += " (YAML does not allow tabs for indentation; use spaces)"
		}
	}
	e.Msg = "not valid YAML: " + msg
	return e
}

// parserError reports whether msg is one of the YAML parser's own errors
// (as opposed to its scanner's).
func parserError(msg string) bool {
	for _, m := range []string{
		"did not find expected <document start>",
		"did not find expected node content",
		"did not find expected key",
		"did not find expected '-' indicator",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
	} {
		if strings.HasPrefix(msg, m) {
			return true
		}
	}
	return false
}

// pdec decodes one policy and remembers the line of each field, so that
// the problems Validate finds later can be placed.
type pdec struct {
	p      Policy
	doc    int
	prefix string         // "" or "[i]" when the document is a list
	lines  map[string]int // field path → line
	bad    map[string]bool
	errs   *Errors
}

func (d *pdec) full(path string) string {
	switch {
	case d.prefix == "":
		return path
	case path == "":
		return d.prefix
	case path[0] == '[':
		return d.prefix + path
	}
	return d.prefix + "." + path
}

// parent strips the last element of a field path: "a.b[2]" → "a.b" → "a" → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (d *pdec) lineOf(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parent(path)
	}
}

// fail records a decoding problem; Validate's messages at or below path
// are then left out, as they would only repeat it.
func (d *pdec) fail(path string, line int, msg string) {
	d.bad[path] = true
	*d.errs = append(*d.errs, &Error{Doc: d.doc, Line: line, Path: d.full(path), Msg: msg})
}

// report is Validate's reporter for a decoded policy.
func (d *pdec) report(path, msg string) {
	for p := path; ; p = parent(p) {
		if d.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	*d.errs = append(*d.errs, &Error{Doc: d.doc, Line: d.lineOf(path), Path: d.full(path), Msg: msg})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
	}
	return "nothing"
}

var (
	policyKeys     = []string{"id", "kind", "name", "description", "priority", "status", "people", "rules", "settings"}
	peopleKeys     = []string{"groups", "users"}
	selectionKeys  = []string{"include", "exclude"}
	ruleKeys       = []string{"name", "priority", "status", "conditions", "action"}
	conditionsKeys = []string{"network", "authType", "userType"}
	settingsKeys   = []string{"minLength", "minLowerCase", "minUpperCase", "minNumber", "minSymbol",
		"excludeUsername", "excludeAttributes", "history", "maxAgeDays", "lockout"}
	lockoutKeys = []string{"maxAttempts", "autoUnlockMinutes"}
)

// field is one key of a mapping with its value and path.
type field struct {
	key  string
	path string
	val  *yaml.Node
}

// mapping checks that n is a mapping with only allowed, distinct string
// keys and returns its fields in order. Null values are left out (a field
// set to null is a field not set).
func (d *pdec) mapping(n *yaml.Node, path string, allowed []string) ([]field, bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "want a mapping with the fields "+strings.Join(allowed, ", ")+"; got "+describe(n)+aliasNote(n))
		return nil, false
	}
	var out []field
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			d.fail(join(path, k.Value), k.Line, "field names must be plain strings; got "+describe(k)+aliasNote(k))
			continue
		}
		kp := join(path, k.Value)
		if !contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown field %q; allowed here: %s", k.Value, strings.Join(allowed, ", "))
			for _, a := range allowed {
				if strings.EqualFold(a, k.Value) {
					msg += fmt.Sprintf(" (did you mean %q?)", a)
				}
			}
			d.fail(kp, k.Line, msg)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(kp, k.Line, fmt.Sprintf("given twice (also on line %d)", line))
			continue
		}
		seen[k.Value] = k.Line
		d.lines[kp] = k.Line
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			continue
		}
		out = append(out, field{k.Value, kp, v})
	}
	return out, true
}

func aliasNote(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode {
		return " (YAML anchors and aliases are not supported)"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *pdec) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		msg := "want a string; got " + describe(n) + aliasNote(n)
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			msg += fmt.Sprintf(" (quote it if you mean the text: \"%s\")", n.Value)
		}
		d.fail(path, n.Line, msg)
		return ""
	}
	return n.Value
}

func (d *pdec) integer(n *yaml.Node, path string) int {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil && v >= -1<<31 && v <= 1<<31-1 {
			return int(v)
		}
		d.fail(path, n.Line, fmt.Sprintf("the number %s is out of range", n.Value))
		return 0
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && strings.Trim(n.Value, "+-0123456789") == "" {
		d.fail(path, n.Line, fmt.Sprintf("the number %s is out of range", n.Value))
		return 0
	}
	d.fail(path, n.Line, "want a whole number; got "+describe(n)+aliasNote(n))
	return 0
}

func (d *pdec) boolean(n *yaml.Node, path string) bool {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var v bool
		if err := n.Decode(&v); err == nil {
			return v
		}
	}
	d.fail(path, n.Line, "want true or false; got "+describe(n)+aliasNote(n))
	return false
}

// strList decodes a list of strings; an entry that is not a string is kept
// as "" so that the list's length stays right.
func (d *pdec) strList(n *yaml.Node, path string, what string) []string {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n.Line, fmt.Sprintf("want a list of %s, e.g. [a, b]; got %s%s", what, describe(n), aliasNote(n)))
		return []string{""} // a placeholder, so that "applies to nobody" does not follow
	}
	if len(n.Content) == 0 {
		return nil
	}
	out := make([]string, len(n.Content))
	for i, e := range n.Content {
		ep := index(path, i)
		d.lines[ep] = e.Line
		out[i] = d.str(e, ep)
	}
	return out
}

func (d *pdec) selection(n *yaml.Node, path, what string) Selection {
	var s Selection
	fields, _ := d.mapping(n, path, selectionKeys)
	for _, f := range fields {
		switch f.key {
		case "include":
			s.Include = d.strList(f.val, f.path, what)
		case "exclude":
			s.Exclude = d.strList(f.val, f.path, what)
		}
	}
	return s
}

func decodePolicy(n *yaml.Node, doc int, prefix string, errs *Errors) *pdec {
	d := &pdec{doc: doc, prefix: prefix, lines: map[string]int{"": n.Line}, bad: map[string]bool{}, errs: errs}
	p := &d.p
	fields, ok := d.mapping(n, "", policyKeys)
	if !ok {
		return d
	}
	for _, f := range fields {
		switch f.key {
		case "id":
			p.ID = d.str(f.val, f.path)
		case "kind":
			p.Kind = Kind(d.str(f.val, f.path))
		case "name":
			p.Name = d.str(f.val, f.path)
		case "description":
			p.Description = d.str(f.val, f.path)
		case "priority":
			p.Priority = d.integer(f.val, f.path)
		case "status":
			p.Status = Status(d.str(f.val, f.path))
		case "people":
			d.people(f.val, f.path)
		case "rules":
			d.rules(f.val, f.path)
		case "settings":
			s := DefaultPasswordSettings()
			d.settings(f.val, f.path, &s)
			p.Settings = &s
		}
	}
	if p.Status == "" {
		p.Status = StatusActive
	}
	if p.Kind == KindPassword && p.Settings == nil {
		s := DefaultPasswordSettings()
		p.Settings = &s
	}
	return d
}

func (d *pdec) people(n *yaml.Node, path string) {
	fields, _ := d.mapping(n, path, peopleKeys)
	for _, f := range fields {
		switch f.key {
		case "groups":
			d.p.People.Groups = d.selection(f.val, f.path, "group names or ids")
		case "users":
			d.p.People.Users = d.selection(f.val, f.path, "logins or user ids")
		}
	}
}

func (d *pdec) rules(n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n.Line, "want a list of rules; got "+describe(n)+aliasNote(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	rules := make([]Rule, len(n.Content))
	for i, rn := range n.Content {
		rp := index(path, i)
		d.lines[rp] = rn.Line
		r := &rules[i]
		fields, _ := d.mapping(rn, rp, ruleKeys)
		for _, f := range fields {
			switch f.key {
			case "name":
				r.Name = d.str(f.val, f.path)
			case "priority":
				r.Priority = d.integer(f.val, f.path)
			case "status":
				r.Status = Status(d.str(f.val, f.path))
			case "action":
				r.Action = Action(d.str(f.val, f.path))
			case "conditions":
				d.conditions(f.val, f.path, &r.Conditions)
			}
		}
		if r.Status == "" {
			r.Status = StatusActive
		}
	}
	d.p.Rules = rules
}

func (d *pdec) conditions(n *yaml.Node, path string, c *Conditions) {
	fields, _ := d.mapping(n, path, conditionsKeys)
	for _, f := range fields {
		switch f.key {
		case "network":
			c.Network = d.selection(f.val, f.path, "CIDR prefixes")
		case "authType":
			c.AuthType = AuthType(d.str(f.val, f.path))
		case "userType":
			c.UserType = UserType(d.str(f.val, f.path))
		}
	}
}

func (d *pdec) settings(n *yaml.Node, path string, s *PasswordSettings) {
	fields, _ := d.mapping(n, path, settingsKeys)
	for _, f := range fields {
		switch f.key {
		case "minLength":
			s.MinLength = d.integer(f.val, f.path)
		case "minLowerCase":
			s.MinLowerCase = d.integer(f.val, f.path)
		case "minUpperCase":
			s.MinUpperCase = d.integer(f.val, f.path)
		case "minNumber":
			s.MinNumber = d.integer(f.val, f.path)
		case "minSymbol":
			s.MinSymbol = d.integer(f.val, f.path)
		case "excludeUsername":
			s.ExcludeUsername = d.boolean(f.val, f.path)
		case "excludeAttributes":
			s.ExcludeAttributes = d.strList(f.val, f.path, "attribute names")
		case "history":
			s.HistoryCount = d.integer(f.val, f.path)
		case "maxAgeDays":
			s.MaxAgeDays = d.integer(f.val, f.path)
		case "lockout":
			lf, _ := d.mapping(f.val, f.path, lockoutKeys)
			for _, g := range lf {
				switch g.key {
				case "maxAttempts":
					s.Lockout.MaxAttempts = d.integer(g.val, g.path)
				case "autoUnlockMinutes":
					s.Lockout.AutoUnlockMinutes = d.integer(g.val, g.path)
				}
			}
		}
	}
}
