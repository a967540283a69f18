package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// jsonDocs reads a stream of JSON values into YAML nodes carrying their
// lines, so that JSON input is checked by the same strict decoder as YAML
// (YAML's own JSON support misses some of JSON's escapes).
func jsonDocs(data []byte) ([]*yaml.Node, error) {
	j := &jdec{dec: json.NewDecoder(bytes.NewReader(data))}
	j.dec.UseNumber()
	for i, c := range data {
		if c == '\n' {
			j.nl = append(j.nl, i)
		}
	}
	var docs []*yaml.Node
	for {
		tok, err := j.dec.Token()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		var n *yaml.Node
		if err == nil {
			n, err = j.value(tok)
		}
		if err != nil {
			return nil, Errors{j.error(err, len(docs)+1)}
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			n = nil
		}
		docs = append(docs, n)
	}
}

type jdec struct {
	dec *json.Decoder
	nl  []int // offsets of the newlines
}

// line is the line of the byte at off.
func (j *jdec) line(off int64) int { return sort.SearchInts(j.nl, int(off)) + 1 }

// here is the line of the token just read.
func (j *jdec) here() int { return j.line(j.dec.InputOffset() - 1) }

func (j *jdec) error(err error, doc int) *Error {
	e := &Error{Doc: doc, Msg: "not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		e.Line = j.line(se.Offset - 1)
	} else {
		e.Line = j.line(j.dec.InputOffset())
	}
	return e
}

func (j *jdec) value(tok json.Token) (*yaml.Node, error) {
	n := &yaml.Node{Line: j.here()}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for j.dec.More() {
				kt, err := j.dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: j.here(), Style: yaml.DoubleQuotedStyle}
				vt, err := j.dec.Token()
				if err != nil {
					return nil, err
				}
				vn, err := j.value(vt)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, kn, vn)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for j.dec.More() {
				vt, err := j.dec.Token()
				if err != nil {
					return nil, err
				}
				vn, err := j.value(vt)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, vn)
			}
		default:
			return nil, errors.New("unexpected " + t.String())
		}
		if _, err := j.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", t, yaml.DoubleQuotedStyle
	case json.Number:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", string(t)
		if strings.ContainsAny(string(t), ".eE") {
			n.Tag = "!!float"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", "false"
		if t {
			n.Value = "true"
		}
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}
