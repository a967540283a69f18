package query

// String prints e in canonical form: single spaces, lower-case keywords,
// strings and times JSON-quoted as their decoded text, numbers as written,
// and only the parentheses that precedence needs (plus those of not).
// Parse(e.String()) yields an expression with the same String. The result
// can be a few bytes longer than the text e was parsed from, where that
// left out optional spaces. A nil e prints as "".
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	return string(e.root.append(nil))
}

func (n *node) append(b []byte) []byte {
	switch n.kind {
	case kAnd, kOr:
		sep := " and "
		if n.kind == kOr {
			sep = " or "
		}
		for i, k := range n.kids {
			if i > 0 {
				b = append(b, sep...)
			}
			if k.kind == kOr { // only under and: flattening keeps or from or
				b = append(b, '(')
				b = k.append(b)
				b = append(b, ')')
			} else {
				b = k.append(b)
			}
		}
		return b
	case kNot:
		b = append(b, "not ("...)
		b = n.kids[0].append(b)
		return append(b, ')')
	}
	b = append(b, n.attr...)
	b = append(b, ' ')
	b = append(b, n.op.String()...)
	if n.op == Pr {
		return b
	}
	b = append(b, ' ')
	switch {
	case n.null:
		return append(b, "null"...)
	case n.typ == Bool:
		if n.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case n.typ == Number:
		return append(b, n.lit...)
	}
	return appendQuoted(b, n.str)
}

// appendQuoted appends s, valid UTF-8, as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
