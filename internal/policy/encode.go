package policy

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// Encode writes policies as YAML, one document per policy separated by
// "---", in the format Parse reads; Parse(Encode(ps)) gives ps back for
// valid policies. Empty fields are left out; IDs are written when set
// (clear them to export policies for another org). encoding/json with the
// struct tags gives the same format in JSON, which Parse also reads.
func Encode(ps []Policy) ([]byte, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for i := range ps {
		if err := enc.Encode(&ps[i]); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
