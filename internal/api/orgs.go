package api

import (
	"net/http"
	"strconv"

	"github.com/dirgate/dirgate/internal/directory"
)

// Orgs: /api/dirgate/v1/orgs, dirgate's own (Okta has one org per
// domain). Only installation tokens call these; an org admin's token acts
// inside its org only.

// LDAPInfo is where the LDAP interface listens, for the connection
// details an org shows its users (serve fills it in).
type LDAPInfo struct {
	Host      string // the name clients use, e.g. ldap.example.com
	LDAPPort  int    // StartTLS; 0: off
	LDAPSPort int    // 0: off
}

type orgJSON struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Suffix           string         `json:"suffix"`
	Created          jsonTime       `json:"created"`
	CustomAttributes []string       `json:"customAttributes"`
	LDAP             orgLDAPJSON    `json:"ldap"`
	Links            map[string]any `json:"_links"`
}

// orgLDAPJSON is an org's LDAP interface: its settings and how to reach it.
type orgLDAPJSON struct {
	MFASeparator string `json:"mfaSeparator"`
	Writes       bool   `json:"writes"` // admins may write over LDAP
	// TransitiveMemberOf: memberOf lists the groups a user or group is
	// in through nested groups too.
	TransitiveMemberOf bool `json:"transitiveMemberOf"`
	// POSIX: the org's users and groups served as POSIX accounts.
	POSIX      posixJSON `json:"posix"`
	BaseDN     string    `json:"baseDN"`
	UsersDN    string    `json:"usersDN"`
	GroupsDN   string    `json:"groupsDN"`
	BindDNForm string    `json:"bindDNForm"`
	Host       string    `json:"host,omitempty"`
	LDAPURL    string    `json:"ldapUrl,omitempty"`  // StartTLS required
	LDAPSURL   string    `json:"ldapsUrl,omitempty"` // TLS from the start
}

// posixJSON is an org's POSIX accounts (directory.POSIXSettings).
type posixJSON struct {
	Enabled    bool   `json:"enabled"`
	UIDMin     int64  `json:"uidMin,omitempty"`
	UIDMax     int64  `json:"uidMax,omitempty"`
	GIDMin     int64  `json:"gidMin,omitempty"`
	GIDMax     int64  `json:"gidMax,omitempty"`
	PrimaryGID int64  `json:"primaryGid,omitempty"`
	Home       string `json:"home,omitempty"`
	Shell      string `json:"shell,omitempty"`
}

func (s *Server) orgOut(r *http.Request, o *directory.Org) *orgJSON {
	base := directory.BaseDN(o)
	sep := o.MFASeparator
	if sep == "" {
		sep = ","
	}
	attrs := o.CustomAttributes
	if attrs == nil {
		attrs = []string{}
	}
	out := &orgJSON{ID: o.ID, Name: o.Name, Suffix: o.Suffix, Created: jsonTime(o.Created), CustomAttributes: attrs,
		LDAP: orgLDAPJSON{MFASeparator: sep, Writes: o.LDAP.Writes, TransitiveMemberOf: o.LDAP.TransitiveMemberOf,
			POSIX: posixJSON(o.LDAP.POSIX), BaseDN: base, UsersDN: "ou=users," + base, GroupsDN: "ou=groups," + base,
			BindDNForm: "uid=<login>," + base},
		Links: map[string]any{"self": link(s.base(r) + "/api/dirgate/v1/orgs/" + o.Name)}}
	if h := s.ldap.Host; h != "" {
		out.LDAP.Host = h
		if s.ldap.LDAPPort != 0 {
			out.LDAP.LDAPURL = "ldap://" + h + ":" + strconv.Itoa(s.ldap.LDAPPort)
		}
		if s.ldap.LDAPSPort != 0 {
			out.LDAP.LDAPSURL = "ldaps://" + h + ":" + strconv.Itoa(s.ldap.LDAPSPort)
		}
	}
	return out
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, c *call) error {
	orgs, err := s.dir.Orgs(c.ctx)
	if err != nil {
		return err
	}
	out := make([]*orgJSON, len(orgs))
	for i, o := range orgs {
		out[i] = s.orgOut(r, o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.dir.Org(c.ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.orgOut(r, o))
	return nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Name             string   `json:"name"`
		Suffix           string   `json:"suffix"`
		CustomAttributes []string `json:"customAttributes"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	o, err := s.dir.CreateOrg(c.ctx, directory.OrgInput{Name: in.Name, Suffix: in.Suffix, CustomAttributes: in.CustomAttributes})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.orgOut(r, o))
	return nil
}

// updateOrgLDAP changes an org's LDAP interface settings: the MFA
// separator, the custom attributes it declares, LDAP writes, whether
// memberOf is transitive and its POSIX accounts.
func (s *Server) updateOrgLDAP(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		MFASeparator       *string    `json:"mfaSeparator"`
		CustomAttributes   *[]string  `json:"customAttributes"`
		Writes             *bool      `json:"writes"`
		TransitiveMemberOf *bool      `json:"transitiveMemberOf"`
		POSIX              *posixJSON `json:"posix"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	o, err := s.dir.Org(c.ctx, name)
	if err != nil {
		return err
	}
	if in.CustomAttributes != nil {
		if o, err = s.dir.SetCustomAttributes(c.ctx, name, *in.CustomAttributes); err != nil {
			return err
		}
	}
	if in.MFASeparator != nil {
		if o, err = s.dir.SetMFASeparator(c.ctx, name, *in.MFASeparator); err != nil {
			return err
		}
	}
	if in.Writes != nil {
		if o, err = s.dir.SetLDAPWrites(c.ctx, name, *in.Writes); err != nil {
			return err
		}
	}
	if in.TransitiveMemberOf != nil {
		if o, err = s.dir.SetLDAPMemberOf(c.ctx, name, *in.TransitiveMemberOf); err != nil {
			return err
		}
	}
	if in.POSIX != nil {
		if o, err = s.dir.SetPOSIX(c.ctx, name, directory.POSIXSettings(*in.POSIX)); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, s.orgOut(r, o))
	return nil
}

// deleteOrg deletes an empty org, or with ?force=true one and everything
// in it.
func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	force, err := boolParam(r, "force", false)
	if err != nil {
		return err
	}
	if err := s.dir.DeleteOrg(c.ctx, r.PathValue("name"), force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// oktaOrgJSON is Okta's OrgSetting, the caller's own org (GET /api/v1/org):
// a token's holder learns which org it acts in.
type oktaOrgJSON struct {
	ID          string         `json:"id"`
	Subdomain   string         `json:"subdomain"`
	CompanyName string         `json:"companyName"`
	Status      string         `json:"status"`
	Created     jsonTime       `json:"created"`
	Links       map[string]any `json:"_links"`
}

func (s *Server) getOwnOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	o := c.p.Org
	writeJSON(w, http.StatusOK, &oktaOrgJSON{ID: o.ID, Subdomain: o.Name, CompanyName: o.Name, Status: "ACTIVE",
		Created: jsonTime(o.Created), Links: map[string]any{"self": link(s.base(r) + "/api/v1/org")}})
	return nil
}
