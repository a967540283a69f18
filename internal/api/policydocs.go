package api

import (
	"io"
	"net/http"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

// The policy documents themselves (package policy's format, what `dirgate
// policy` reads and writes), for clients that keep them in files:
// /api/dirgate/v1/policies lists them, .../apply applies a file whole or
// not at all, as the CLI does with --data. Okta's shapes are at
// /api/v1/policies (policies.go).

func (s *Server) listPolicyDocs(w http.ResponseWriter, r *http.Request, c *call) error {
	ps, err := s.dir.Policies(c.ctx, c.org)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []policy.Policy{}
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

var policyModes = map[string]directory.PolicyMode{
	"": directory.PolicyUpsert, "upsert": directory.PolicyUpsert,
	"create": directory.PolicyCreateOnly, "update": directory.PolicyUpdateOnly,
}

// policyResultJSON is what an apply did, by "kind/name".
type policyResultJSON struct {
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Unchanged []string `json:"unchanged"`
}

func (s *Server) applyPolicyDocs(w http.ResponseWriter, r *http.Request, c *call) error {
	mode, ok := policyModes[r.URL.Query().Get("mode")]
	if !ok {
		return validation("mode", "mode is upsert (the default), create or update, not "+quote(r.URL.Query().Get("mode")))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.maxBody))
	if err != nil {
		return s.tooLarge()
	}
	ps, err := policy.Parse(body)
	if err != nil {
		return validation("policies", err.Error())
	}
	res, err := s.dir.ApplyPolicies(c.ctx, c.org, ps, mode)
	if err != nil {
		return err
	}
	out := policyResultJSON{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged}
	for _, l := range []*[]string{&out.Created, &out.Updated, &out.Unchanged} {
		if *l == nil {
			*l = []string{}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deletePolicyDoc(w http.ResponseWriter, r *http.Request, c *call) error {
	kind := policy.Kind(r.PathValue("kind"))
	if kind != policy.KindSignOn && kind != policy.KindPassword {
		return validation("kind", "the kind is sign-on or password, not "+quote(string(kind)))
	}
	if err := s.dir.DeletePolicy(c.ctx, c.org, kind, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
