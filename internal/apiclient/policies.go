package apiclient

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/dirgate/dirgate/internal/policy"
)

// Policies in package policy's document format (dirgate's
// /api/dirgate/v1/policies), as `dirgate policy` reads and writes them.

// Policies returns the org's policies, ordered as the directory orders
// them.
func (c *Client) Policies(ctx context.Context) ([]policy.Policy, error) {
	var ps []policy.Policy
	if _, err := c.get(ctx, "/api/dirgate/v1/policies", nil, &ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// PolicyResult is what ApplyPolicies did, by "kind/name".
type PolicyResult struct {
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Unchanged []string `json:"unchanged"`
}

// ApplyPolicies applies the policies in one transaction; mode is upsert,
// create or update.
func (c *Client) ApplyPolicies(ctx context.Context, ps []policy.Policy, mode string) (*PolicyResult, error) {
	doc, err := json.Marshal(ps)
	if err != nil {
		return nil, err
	}
	var res PolicyResult
	if err := c.post(ctx, "/api/dirgate/v1/policies/apply", url.Values{"mode": {mode}}, json.RawMessage(doc), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// DeletePolicy deletes the org's policy of the kind with the name.
func (c *Client) DeletePolicy(ctx context.Context, kind policy.Kind, name string) error {
	return c.del(ctx, "/api/dirgate/v1/policies/"+url.PathEscape(string(kind))+"/"+url.PathEscape(name))
}
