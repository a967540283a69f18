package ldap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

// captureDir holds request bytes recorded from real clients (OpenLDAP
// tools, go-ldap, python ldap3) by test/capture/run.sh, and the MANIFEST
// describing them; see its README.md.
const captureDir = "testdata/captures"

// captureOpTags maps MANIFEST op names to the protocolOp identifier octet.
// Spelled out here rather than taken from message.go so that this check is
// independent of the code it tests.
var captureOpTags = map[string]byte{
	"bind":     0x60,
	"unbind":   0x42,
	"search":   0x63,
	"modify":   0x66,
	"add":      0x68,
	"delete":   0x4a,
	"modifydn": 0x6c,
	"compare":  0x6e,
	"abandon":  0x50,
	"extended": 0x77,
}

// captureFactKeys lists the fact keys README.md documents; an unknown key
// is a typo in MANIFEST, not a fact.
var captureFactKeys = map[string]bool{
	"ids":     true,
	"bind.dn": true, "bind.auth": true, "bind.mech": true,
	"base": true, "scope": true, "deref": true, "sizelimit": true, "timelimit": true,
	"typesonly": true, "filter": true, "attrs": true,
	"paged": true, "critical": true, "cookie": true,
	"add.dn": true, "add.attrs": true,
	"modify.dn": true, "modify.changes": true,
	"modifydn.dn": true, "modifydn.newrdn": true, "modifydn.deleteoldrdn": true, "modifydn.newsuperior": true,
	"delete.dn":  true,
	"compare.dn": true, "compare.attr": true, "compare.value": true,
	"extended.oid": true,
	"abandon.id":   true,
}

// captureCase is one MANIFEST line.
type captureCase struct {
	File  string
	Ops   []string
	Facts map[string]string
}

// loadCaptures parses MANIFEST. Decoder tests build on it: each case names
// a file of concatenated LDAPMessages, their ops in order, and facts about
// the first message of each op.
func loadCaptures(t testing.TB) []captureCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captureDir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []captureCase
	seen := map[string]bool{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("MANIFEST:%d: want <file> <ops> [facts], got %q", n+1, line)
		}
		c := captureCase{File: fields[0], Ops: strings.Split(fields[1], ","), Facts: map[string]string{}}
		if seen[c.File] {
			t.Fatalf("MANIFEST:%d: %s listed twice", n+1, c.File)
		}
		seen[c.File] = true
		for _, op := range c.Ops {
			if _, ok := captureOpTags[op]; !ok {
				t.Fatalf("MANIFEST:%d: unknown op %q", n+1, op)
			}
		}
		for _, f := range fields[2:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok || !captureFactKeys[k] {
				t.Fatalf("MANIFEST:%d: unknown fact %q", n+1, f)
			}
			if _, dup := c.Facts[k]; dup {
				t.Fatalf("MANIFEST:%d: fact %q given twice", n+1, k)
			}
			c.Facts[k] = v
		}
		cases = append(cases, c)
	}
	return cases
}

// splitCapture frames a capture the way the server will, with
// ber.ReadMessage over a stream.
func splitCapture(data []byte) ([][]byte, error) {
	r := bufio.NewReader(bytes.NewReader(data))
	var msgs [][]byte
	for {
		m, err := ber.ReadMessage(r, ber.DefaultMaxMessage)
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

// TestCaptureManifestComplete checks that MANIFEST and the .bin files agree,
// so a capture cannot be added or dropped without being described.
func TestCaptureManifestComplete(t *testing.T) {
	cases := loadCaptures(t)
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.File] = true
	}
	files, err := filepath.Glob(filepath.Join(captureDir, "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no captures found")
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in MANIFEST", filepath.Base(f))
		}
		delete(listed, filepath.Base(f))
	}
	for f := range listed {
		t.Errorf("MANIFEST lists %s, which does not exist", f)
	}
}

// TestCaptureFraming checks each capture splits into exactly the listed
// messages, each an LDAPMessage SEQUENCE { messageID, protocolOp ... } whose
// op tag and message ID match MANIFEST.
func TestCaptureFraming(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run(strings.TrimSuffix(c.File, ".bin"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(captureDir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := splitCapture(data)
			if err != nil {
				t.Fatalf("framing after %d messages: %v", len(msgs), err)
			}
			if len(msgs) != len(c.Ops) {
				t.Fatalf("got %d messages, MANIFEST lists %d ops %v", len(msgs), len(c.Ops), c.Ops)
			}
			var ids []string
			for i, m := range msgs {
				top := ber.NewReader(m)
				seq, err := top.Enter(ber.TagSequence)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				id, err := seq.Int(ber.TagInteger)
				if err != nil {
					t.Fatalf("message %d: messageID: %v", i, err)
				}
				ids = append(ids, strconv.FormatInt(id, 10))
				tag, err := seq.Peek()
				if err != nil {
					t.Fatalf("message %d: protocolOp: %v", i, err)
				}
				if want := captureOpTags[c.Ops[i]]; byte(tag) != want {
					t.Errorf("message %d: op tag 0x%02x, MANIFEST says %s (0x%02x)", i, byte(tag), c.Ops[i], want)
				}
			}
			if want, ok := c.Facts["ids"]; ok && strings.Join(ids, ",") != want {
				t.Errorf("message IDs %s, MANIFEST says %s", strings.Join(ids, ","), want)
			}
		})
	}
}
