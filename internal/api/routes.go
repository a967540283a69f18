package api

import (
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// routes is every endpoint and the permission it needs (directory says
// which roles hold which).
func (s *Server) routes() {
	const read, write, security, installation = directory.PermRead, directory.PermWrite, directory.PermSecurity, directory.PermInstallation
	s.handle("GET /api/v1/users", read, s.listUsers)
	s.handle("POST /api/v1/users", write, s.createUser)
	s.handle("GET /api/v1/users/{id}", read, s.getUser)
	s.handle("POST /api/v1/users/{id}", write, s.updateUser(true))
	s.handle("PUT /api/v1/users/{id}", write, s.updateUser(false))
	s.handle("DELETE /api/v1/users/{id}", write, s.deleteUser)
	s.handle("POST /api/v1/users/{id}/lifecycle/{action}", write, s.lifecycle)
	s.handle("POST /api/v1/users/{id}/credentials/change_password", write, s.changePassword)
	s.handle("GET /api/v1/users/{id}/groups", read, s.userGroups)
	s.handle("GET /api/v1/users/{id}/roles", read, s.listRoles)
	s.handle("POST /api/v1/users/{id}/roles", security, s.assignRole)
	s.handle("DELETE /api/v1/users/{id}/roles/{role}", security, s.removeRole)

	s.handle("GET /api/v1/users/{id}/factors", read, s.listFactors)
	s.handle("POST /api/v1/users/{id}/factors", write, s.enrollFactor)
	s.handle("GET /api/v1/users/{id}/factors/{fid}", read, s.getFactor)
	s.handle("POST /api/v1/users/{id}/factors/{fid}/lifecycle/activate", write, s.activateFactor)
	s.handle("DELETE /api/v1/users/{id}/factors/{fid}", write, s.deleteFactor)

	s.handle("GET /api/v1/groups", read, s.listGroups)
	s.handle("POST /api/v1/groups", write, s.createGroup)
	s.handle("GET /api/v1/groups/{id}", read, s.getGroup)
	s.handle("PUT /api/v1/groups/{id}", write, s.updateGroup)
	s.handle("DELETE /api/v1/groups/{id}", write, s.deleteGroup)
	s.handle("GET /api/v1/groups/{id}/users", read, s.groupMembers)
	s.handle("PUT /api/v1/groups/{id}/users/{uid}", write, s.addMember)
	s.handle("DELETE /api/v1/groups/{id}/users/{uid}", write, s.removeMember)
	// Nested groups, dirgate's own.
	s.handle("GET /api/dirgate/v1/groups/{id}/groups", read, s.childGroups)
	s.handle("GET /api/dirgate/v1/groups/{id}/parents", read, s.parentGroups)
	s.handle("PUT /api/dirgate/v1/groups/{id}/groups/{childId}", write, s.addChildGroup)
	s.handle("DELETE /api/dirgate/v1/groups/{id}/groups/{childId}", write, s.removeChildGroup)

	s.handle("GET /api/v1/logs", read, s.listLogs)

	s.handle("GET /api/v1/policies", read, s.listPolicies)
	s.handle("POST /api/v1/policies", security, s.createPolicy)
	s.handle("GET /api/v1/policies/{id}", read, s.getPolicy)
	s.handle("PUT /api/v1/policies/{id}", security, s.replacePolicy)
	s.handle("DELETE /api/v1/policies/{id}", security, s.deletePolicy)
	s.handle("POST /api/v1/policies/{id}/lifecycle/{action}", security, s.policyLifecycle)
	s.handle("GET /api/v1/policies/{id}/rules", read, s.listRules)
	s.handle("POST /api/v1/policies/{id}/rules", security, s.createRule)
	s.handle("GET /api/v1/policies/{id}/rules/{rid}", read, s.getRule)
	s.handle("PUT /api/v1/policies/{id}/rules/{rid}", security, s.replaceRule)
	s.handle("DELETE /api/v1/policies/{id}/rules/{rid}", security, s.deleteRule)
	s.handle("POST /api/v1/policies/{id}/rules/{rid}/lifecycle/{action}", security, s.ruleLifecycle)

	s.handle("GET /api/dirgate/v1/policies", read, s.listPolicyDocs)
	s.handle("POST /api/dirgate/v1/policies/apply", security, s.applyPolicyDocs)
	s.handle("DELETE /api/dirgate/v1/policies/{kind}/{name}", security, s.deletePolicyDoc)
	s.integrationRoutes() // /api/dirgate/v1/integrations (integrations.go)

	s.handle("GET /api/v1/org", read, s.getOwnOrg)
	s.handle("GET /api/dirgate/v1/orgs", installation, s.listOrgs)
	s.handle("POST /api/dirgate/v1/orgs", installation, s.createOrg)
	s.handle("GET /api/dirgate/v1/orgs/{name}", installation, s.getOrg)
	s.handle("DELETE /api/dirgate/v1/orgs/{name}", installation, s.deleteOrg)
	s.handle("PUT /api/dirgate/v1/orgs/{name}/ldap", installation, s.updateOrgLDAP)

	// The description of all this, without a token.
	s.mux.HandleFunc("GET /api/v1/openapi.yaml", s.openAPI)

	// Anything else below /api/ gets an Okta-shaped 405 when the path is
	// known with another method, else 404.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: codeMethod,
				summary: "The endpoint does not support the provided HTTP method: " + r.Method + " (it takes " + strings.Join(allow, ", ") + ")"})
			return
		}
		s.writeError(w, r, notFound(r.Method+" "+r.URL.Path))
	})
}

// allowedMethods lists the methods that have a route for r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	return allow
}
