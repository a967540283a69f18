package dit_test

import (
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// sortedSearch searches the users of pwBase as svc with the sort control
// and returns their uids in the order received, and whether a sort
// response came. (go-ldap v3.4.15 reads every sort result as success:
// TestSortResult checks the codes, TestLdapsearchSort on the wire.)
func sortedSearch(t *testing.T, c *goldap.Conn, paging uint32, keys ...*goldap.SortKey) ([]string, bool) {
	t.Helper()
	req := goldap.NewSearchRequest("ou=users,"+pwBase, goldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=inetOrgPerson)",
		[]string{"uid"}, []goldap.Control{goldap.NewControlServerSideSortingWithSortKeys(keys)})
	var res *goldap.SearchResult
	var err error
	if paging > 0 {
		res, err = c.SearchWithPaging(req, paging)
	} else {
		res, err = c.Search(req)
	}
	if err != nil {
		t.Fatalf("sorted search %+v: %v", keys[0], err)
	}
	var uids []string
	for _, e := range res.Entries {
		uids = append(uids, e.GetAttributeValue("uid"))
	}
	answered := false
	for _, ct := range res.Controls {
		_, ok := ct.(*goldap.ControlServerSideSortingResult)
		answered = answered || ok
	}
	return uids, answered
}

// TestServerSideSort: RFC 2891 over a real directory: ascending and
// reversed, across the pages of a paged search, by several keys; a key
// the directory cannot sort by gets the entries unsorted.
func TestServerSideSort(t *testing.T) {
	_, url := passwordDirectory(t)
	c := pwBind(t, url, "svc", "svc-Passw0rd")
	asc := []string{"alice", "bob", "ops", "root", "svc"}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, tc := range []struct {
		name   string
		paging uint32
		keys   []*goldap.SortKey
		want   []string
	}{
		{"by uid", 0, []*goldap.SortKey{{AttributeType: "uid"}}, asc},
		{"by uid, reversed", 0, []*goldap.SortKey{{AttributeType: "uid", Reverse: true}}, desc},
		{"by uid, pages of 2", 2, []*goldap.SortKey{{AttributeType: "uid", Reverse: true}}, desc},
		{"by an explicit ordering rule", 0, []*goldap.SortKey{{AttributeType: "uid", MatchingRule: "caseExactOrderingMatch", Reverse: true}}, desc},
		{"by an absent attribute, then uid", 0, []*goldap.SortKey{{AttributeType: "title"}, {AttributeType: "uid", Reverse: true}}, desc},
		{"unknown attribute", 0, []*goldap.SortKey{{AttributeType: "shoeSize"}}, nil},
		{"no ordering rule", 0, []*goldap.SortKey{{AttributeType: "objectClass"}}, nil},
		{"an equality rule as ordering", 0, []*goldap.SortKey{{AttributeType: "uid", MatchingRule: "caseIgnoreMatch"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, answered := sortedSearch(t, c, tc.paging, tc.keys...)
			if !answered {
				t.Error("no sort response control")
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
			if len(got) != len(asc) {
				t.Errorf("%d entries, want all %d", len(got), len(asc))
			}
		})
	}
}
