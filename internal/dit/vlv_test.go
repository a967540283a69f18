package dit_test

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/ldap"
)

// TestVirtualListView: what ldapsearch does not send. A view without a
// sort control is sortControlMissing (60), one with paging
// unwillingToPerform, a malformed one protocolError, an offset of 0
// offsetRangeError; each with the view's response control.
func TestVirtualListView(t *testing.T) {
	_, url := passwordDirectory(t)
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	vlv := func(v ldap.VLVRequest) goldap.Control {
		return goldap.NewControlString(ldap.OIDVLVRequest, true, string(ldap.AppendVLVRequest(nil, v)))
	}
	sss := goldap.NewControlServerSideSortingWithSortKeys([]*goldap.SortKey{{AttributeType: "uid"}})
	search := func(controls ...goldap.Control) error {
		_, err := ops.Search(goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"uid"}, controls))
		return err
	}
	window := ldap.VLVRequest{Before: 0, After: 1, ByOffset: true, Offset: 1}
	wantCode(t, "no sort control", search(vlv(window)), 60, "needs a sort control")
	wantCode(t, "with paging", search(sss, vlv(window), goldap.NewControlPaging(2)), goldap.LDAPResultUnwillingToPerform, "not both")
	wantCode(t, "offset 0", search(sss, vlv(ldap.VLVRequest{ByOffset: true})), 61, "starts at 1")
	wantCode(t, "malformed", search(sss, goldap.NewControlString(ldap.OIDVLVRequest, true, "\x30\x00")), goldap.LDAPResultProtocolError, "malformed")
	r, err := ops.Search(goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid"}, []goldap.Control{sss, vlv(window)}))
	if err != nil || len(r.Entries) != 2 || r.Entries[0].GetAttributeValue("uid") != "alice" || r.Entries[1].GetAttributeValue("uid") != "bob" {
		t.Fatalf("the first two by uid: %v %v", r, err)
	}
}
