package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem with a policy, saying where it is and what is
// allowed there.
type Error struct {
	// Doc is the 1-based number of the YAML or JSON document in the input
	// given to Parse; 0 when the policy did not come from Parse.
	Doc int
	// Line is the 1-based line in the input, when known; 0 otherwise.
	Line int
	// Policy is the policy's name, when known (used when Doc is 0).
	Policy string
	// Path is the field, e.g. "rules[0].conditions.network.include[1]";
	// when a document holds a list, it begins with the list index ("[2].name").
	// Indexes count from 0.
	Path string
	// Msg says what is wrong and what is allowed.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
	}
	if e.Doc > 0 {
		b.WriteString("document ")
		b.WriteString(strconv.Itoa(e.Doc))
	}
	if e.Line > 0 {
		sep()
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Doc == 0 && e.Policy != "" {
		sep()
		b.WriteString("policy ")
		b.WriteString(strconv.Quote(e.Policy))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found, in input order. Parse, Validate,
// ValidateAll and Compile return it; errors.As finds each *Error in it.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Ref is a group or user named by a policy.
type Ref struct {
	Policy string // the policy's name
	Kind   Kind   // the policy's kind
	Path   string // e.g. "people.groups.exclude[0]"
	Group  bool   // a group (otherwise a user)
	Name   string // as written: a name, login or id
}

func (r Ref) String() string {
	what := "user"
	if r.Group {
		what = "group"
	}
	return fmt.Sprintf("%s policy %q: %s: unknown %s %q", r.Kind, r.Policy, r.Path, what, r.Name)
}

// UnresolvedError lists the groups and users the Resolver did not know.
// Compile returns it together with a usable Set in which an unknown name
// matches nobody: an unknown include includes no one and an unknown exclude
// excludes no one. The caller decides whether to refuse the policies (when
// an admin applies them) or to run with the names unresolved (when a group
// or user they name has since been deleted).
type UnresolvedError struct {
	Refs []Ref
}

func (e *UnresolvedError) Error() string {
	var b strings.Builder
	for i, r := range e.Refs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.String())
	}
	return b.String()
}
