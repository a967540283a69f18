package ldap

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

// captureOpName names a decoded request as MANIFEST does.
func captureOpName(r Request) string {
	switch r.(type) {
	case *BindRequest:
		return "bind"
	case *UnbindRequest:
		return "unbind"
	case *SearchRequest:
		return "search"
	case *ModifyRequest:
		return "modify"
	case *AddRequest:
		return "add"
	case *DeleteRequest:
		return "delete"
	case *ModifyDNRequest:
		return "modifydn"
	case *CompareRequest:
		return "compare"
	case *AbandonRequest:
		return "abandon"
	case *ExtendedRequest:
		return "extended"
	}
	return "?"
}

var (
	scopeNames  = [...]string{"base", "one", "sub"}
	derefNames  = [...]string{"never", "search", "find", "always"}
	modifyNames = [...]string{"add", "delete", "replace", "increment"}
)

// captureFacts derives, from the decoded messages, every MANIFEST fact
// about the first message of each op.
func captureFacts(t *testing.T, msgs []Message) map[string]string {
	f := map[string]string{}
	set := func(k, v string) {
		if _, done := f[k]; !done {
			f[k] = v
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, m := range msgs {
		ids = append(ids, strconv.Itoa(int(m.ID)))
		op := captureOpName(m.Request)
		if seen[op] {
			continue
		}
		seen[op] = true
		switch r := m.Request.(type) {
		case *BindRequest:
			set("bind.dn", r.Name)
			if r.Method == AuthSASL {
				set("bind.auth", "sasl")
				set("bind.mech", r.Mechanism)
			} else {
				set("bind.auth", "simple")
			}
		case *SearchRequest:
			set("base", r.BaseObject)
			set("scope", scopeNames[r.Scope])
			set("deref", derefNames[r.DerefAliases])
			set("sizelimit", strconv.Itoa(int(r.SizeLimit)))
			set("timelimit", strconv.Itoa(int(r.TimeLimit)))
			set("typesonly", strconv.FormatBool(r.TypesOnly))
			set("filter", r.Filter.String())
			set("attrs", strings.Join(r.Attributes, ","))
			if c := FindControl(m.Controls, OIDPagedResults); c != nil {
				size, cookie, err := ParsePagedResults(c.Value)
				if err != nil {
					t.Errorf("message %d: paged results value: %v", m.ID, err)
				}
				set("paged", strconv.Itoa(int(size)))
				set("critical", strconv.FormatBool(c.Critical))
				set("cookie", string(cookie))
			}
		case *AddRequest:
			set("add.dn", r.Entry)
			var types []string
			for _, a := range r.Attributes {
				types = append(types, a.Type)
			}
			set("add.attrs", strings.Join(types, ","))
		case *ModifyRequest:
			set("modify.dn", r.Object)
			var cs []string
			for _, c := range r.Changes {
				cs = append(cs, modifyNames[c.Op]+":"+c.Attr.Type)
			}
			set("modify.changes", strings.Join(cs, ","))
		case *ModifyDNRequest:
			set("modifydn.dn", r.Entry)
			set("modifydn.newrdn", r.NewRDN)
			set("modifydn.deleteoldrdn", strconv.FormatBool(r.DeleteOldRDN))
			if r.HasNewSuperior {
				set("modifydn.newsuperior", r.NewSuperior)
			}
		case *DeleteRequest:
			set("delete.dn", r.DN)
		case *CompareRequest:
			set("compare.dn", r.Entry)
			set("compare.attr", r.Attr)
			set("compare.value", r.Value)
		case *ExtendedRequest:
			set("extended.oid", r.Name)
		case *AbandonRequest:
			set("abandon.id", strconv.Itoa(int(r.ID)))
		}
	}
	f["ids"] = strings.Join(ids, ",")
	return f
}

// TestDecodeCaptures decodes every message real clients sent and checks it
// against MANIFEST: op sequence, message IDs and every listed fact. Each
// message must also survive AppendRequest → DecodeMessage unchanged.
func TestDecodeCaptures(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run(strings.TrimSuffix(c.File, ".bin"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(captureDir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := splitCapture(data)
			if err != nil {
				t.Fatalf("framing: %v", err)
			}
			var msgs []Message
			var ops []string
			for i, b := range raw {
				m, err := DecodeMessage(b)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				msgs = append(msgs, m)
				ops = append(ops, captureOpName(m.Request))

				var e ber.Encoder
				AppendRequest(&e, m.ID, m.Request, m.Controls)
				again, err := DecodeMessage(e.Buf)
				if err != nil {
					t.Fatalf("message %d re-encoded: %v", i, err)
				}
				if !equalMessage(again, m) {
					t.Errorf("message %d re-encoded decodes as\n %s\nwant\n %s", i, dump(again), dump(m))
				}
			}
			if got, want := strings.Join(ops, ","), strings.Join(c.Ops, ","); got != want {
				t.Fatalf("ops %s, MANIFEST says %s", got, want)
			}
			got := captureFacts(t, msgs)
			for k, want := range c.Facts {
				v, ok := got[k]
				switch {
				case !ok:
					t.Errorf("%s=%s: the decoded messages carry no such fact", k, want)
				case v != want:
					t.Errorf("%s=%q, MANIFEST says %q", k, v, want)
				}
			}
			checkCaptureExtras(t, c.File, msgs)
		})
	}
}

// checkCaptureExtras checks what README.md says beyond MANIFEST's facts.
func checkCaptureExtras(t *testing.T, file string, msgs []Message) {
	var searches int
	for _, m := range msgs {
		switch r := m.Request.(type) {
		case *BindRequest:
			// "The simple-bind password in every capture is `secret`."
			if r.Method == AuthSimple && r.Name != "" && string(r.Password) != "secret" {
				t.Errorf("message %d: simple bind password is not the documented one", m.ID)
			}
			if strings.HasSuffix(file, "sasl_plain.bin") && string(r.Credentials) != "\x00jdoe\x00secret" {
				t.Errorf("message %d: SASL PLAIN credentials differ from README", m.ID)
			}
			if strings.HasSuffix(file, "sasl_digestmd5.bin") && r.HasCredentials {
				t.Errorf("message %d: DIGEST-MD5 first step carries credentials", m.ID)
			}
		case *SearchRequest:
			searches++
			// The second page of a paged search carries the cookie the
			// responder sent with the first page.
			if strings.HasSuffix(file, "_2pages.bin") && searches == 2 {
				c := FindControl(m.Controls, OIDPagedResults)
				if c == nil {
					t.Fatalf("message %d: second page without paged results control", m.ID)
				}
				if _, cookie, err := ParsePagedResults(c.Value); err != nil || string(cookie) != "page-1" {
					t.Errorf("message %d: second page cookie %q, %v; want page-1", m.ID, cookie, err)
				}
			}
		}
	}
}
