package dit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// TestSortResult: the sort response control a sorted search ends with,
// and what a critical control that cannot be honoured gets.
func TestSortResult(t *testing.T) {
	d := newDIT(t, fixture())
	f, err := ldap.ParseFilter("(objectClass=*)")
	if err != nil {
		t.Fatal(err)
	}
	req := &ldap.SearchRequest{BaseObject: "ou=users," + acmeBase, Scope: ldap.ScopeSingleLevel, Filter: f, Attributes: []string{"uid"}}
	sortBy := func(critical bool, keys ...ldap.SortKey) []ldap.Control {
		return []ldap.Control{{OID: ldap.OIDSortRequest, Critical: critical, Value: ldap.AppendSortKeys(nil, keys), HasValue: true}}
	}
	for _, tc := range []struct {
		name     string
		controls []ldap.Control
		code     ldap.ResultCode
		attr     string
	}{
		{"success", sortBy(false, ldap.SortKey{Attr: "uid", Reverse: true}), ldap.Success, ""},
		{"unknown type", sortBy(false, ldap.SortKey{Attr: "shoeSize"}), ldap.NoSuchAttribute, "shoeSize"},
		{"no ordering rule", sortBy(false, ldap.SortKey{Attr: "uid"}, ldap.SortKey{Attr: "objectClass"}), ldap.InappropriateMatching, "objectClass"},
		{"malformed", []ldap.Control{{OID: ldap.OIDSortRequest, Value: []byte{0x30, 0x00}, HasValue: true}}, ldap.ProtocolError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := d.searchWith(context.Background(), asAdmin, req, tc.controls)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				if err := c.next(context.Background(), &collector{t: t}); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			got := c.ResultControls()
			c.Close()
			want := ldap.SortResultControl(tc.code, tc.attr)
			if len(got) != 1 || got[0].OID != want.OID || !bytes.Equal(got[0].Value, want.Value) {
				t.Errorf("response controls %+v, want %+v", got, want)
			}
			if n == 0 {
				t.Error("no entries: a non-critical sort that fails returns them unsorted")
			}
			// Critical, the same request fails with no entries.
			crit := append([]ldap.Control(nil), tc.controls...)
			crit[0].Critical = true
			c, err = d.searchWith(context.Background(), asAdmin, req, crit)
			var re *ldapserver.ResultError
			switch {
			case tc.code == ldap.Success:
				if err != nil {
					t.Fatalf("critical, sortable: %v", err)
				}
				c.Close()
			case !errors.As(err, &re) || re.Code != ldap.UnavailableCriticalExtension || len(re.Controls) != 1 || !bytes.Equal(re.Controls[0].Value, want.Value):
				t.Errorf("critical: %v, want unavailableCriticalExtension with the sort result", err)
			}
		})
	}
	// No sort control: no sort response.
	c, err := d.searchWith(context.Background(), asAdmin, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.ResultControls(); got != nil {
		t.Errorf("unsorted search: response controls %+v", got)
	}
}
