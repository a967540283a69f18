package api

import (
	"net/http"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Factors: /api/v1/users/{id}/factors. The API enrols TOTP
// (token:software:totp) only; it lists, shows and deletes push factors
// too, which users turn on on the console's self-service page.

// factorJSON is Okta's UserFactor.
type factorJSON struct {
	ID          string         `json:"id"`
	FactorType  string         `json:"factorType"`
	Provider    string         `json:"provider"`
	VendorName  string         `json:"vendorName"`
	Status      string         `json:"status"`
	Created     jsonTime       `json:"created"`
	LastUpdated jsonTime       `json:"lastUpdated"`
	Profile     map[string]any `json:"profile"`
	Links       map[string]any `json:"_links"`
	Embedded    *factorEmbed   `json:"_embedded,omitempty"`
}

// factorEmbed carries the secret of a new enrolment, once.
type factorEmbed struct {
	Activation totpActivation `json:"activation"`
}

type totpActivation struct {
	TimeStep     int            `json:"timeStep"`
	SharedSecret string         `json:"sharedSecret"`
	Encoding     string         `json:"encoding"`
	KeyLength    int            `json:"keyLength"`
	Links        map[string]any `json:"_links"`
}

func (s *Server) factorOut(r *http.Request, userID, login string, f *store.Factor) *factorJSON {
	self := s.base(r) + "/api/v1/users/" + userID + "/factors/" + f.ID
	links := map[string]any{"self": link(self), "user": link(s.base(r) + "/api/v1/users/" + userID)}
	if f.Status == store.FactorPendingActivation {
		links["activate"] = postLink(self + "/lifecycle/activate")
	}
	provider := "GOOGLE" // any authenticator app
	if f.Type == store.FactorPush {
		provider = "OKTA" // Okta Verify's push, which the console's Sign-in requests page plays
	}
	return &factorJSON{ID: f.ID, FactorType: f.Type, Provider: provider, VendorName: provider, Status: f.Status,
		Created: jsonTime(f.Created), LastUpdated: jsonTime(f.LastUpdated),
		Profile: map[string]any{"credentialId": login}, Links: links}
}

type enrollIn struct {
	FactorType string         `json:"factorType"`
	Provider   string         `json:"provider"`
	Profile    map[string]any `json:"profile"`
}

func (s *Server) enrollFactor(w http.ResponseWriter, r *http.Request, c *call) error {
	var in enrollIn
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.FactorType != store.FactorTOTP {
		return validation("factorType", "dirgate enrols "+store.FactorTOTP+" factors only, not "+quote(in.FactorType))
	}
	if in.Provider != "" && in.Provider != "GOOGLE" && in.Provider != "OKTA" {
		return validation("provider", "a TOTP factor's provider is GOOGLE (any authenticator app), not "+quote(in.Provider))
	}
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	e, err := s.dir.EnrollTOTP(c.ctx, c.org, u.ID)
	if err != nil {
		return err
	}
	out := s.factorOut(r, u.ID, u.Profile.Login, e.Factor)
	out.Embedded = &factorEmbed{Activation: totpActivation{TimeStep: 30, SharedSecret: e.Secret, Encoding: "base32", KeyLength: 6,
		Links: map[string]any{"qrcode": map[string]string{"href": e.URI, "type": "text/uri-list"}}}}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listFactors(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	fs, err := s.dir.Factors(c.ctx, c.org, u.ID)
	if err != nil {
		return err
	}
	out := make([]*factorJSON, len(fs))
	for i, f := range fs {
		out[i] = s.factorOut(r, u.ID, u.Profile.Login, f)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getFactor(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	f, err := s.dir.Factor(c.ctx, c.org, u.ID, r.PathValue("fid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.factorOut(r, u.ID, u.Profile.Login, f))
	return nil
}

func (s *Server) activateFactor(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		PassCode string `json:"passCode"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.PassCode == "" {
		return validation("passCode", "the current code of the authenticator is required")
	}
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	f, err := s.dir.Factor(c.ctx, c.org, u.ID, r.PathValue("fid"))
	if err != nil {
		return err
	}
	if f.Status != store.FactorPendingActivation {
		return validation("factorId", "factor "+f.ID+" is "+f.Status+", not waiting for activation")
	}
	f, err = s.dir.ActivateTOTP(c.ctx, c.org, u.ID, in.PassCode)
	if err != nil {
		if directory.CodeOf(err) == directory.CodeInvalidCredentials {
			return &apiError{status: http.StatusForbidden, code: codeFactorCode,
				summary: "Invalid Passcode/Answer", causes: []string{"Your passcode doesn't match our records. Please try again."}}
		}
		return err
	}
	writeJSON(w, http.StatusOK, s.factorOut(r, u.ID, u.Profile.Login, f))
	return nil
}

func (s *Server) deleteFactor(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.dir.DeleteFactor(c.ctx, c.org, userRef(r, c), r.PathValue("fid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
