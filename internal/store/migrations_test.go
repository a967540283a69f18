package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	ms, err := ReadMigrations(fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")}, "m/0001_init.sql": {Data: []byte("A")}, "m/README": {},
	}, "m/*.sql")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[0].SQL != "A" || ms[1].Name != "0002_more.sql" {
		t.Fatalf("%+v %v", ms, err)
	}
	for _, fsys := range []fstest.MapFS{
		{"m/0001_init.sql": {}, "m/0003_gap.sql": {}},
		{"m/init.sql": {}},
	} {
		if _, err := ReadMigrations(fsys, "m/*.sql"); err == nil || !strings.Contains(err.Error(), "want a name like") {
			t.Errorf("%v: %v", fsys, err)
		}
	}
}
