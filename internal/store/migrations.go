package store

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one versioned schema step of a backend: the SQL of one
// embedded file named NNNN_what.sql.
type Migration struct {
	Version int
	Name    string // the file's base name, for errors
	SQL     string
}

// ReadMigrations returns the files of fsys matching glob (e.g.
// "migrations/*.sql"), checked to be numbered 1, 2, 3, ... in name
// order, so that a missing or misnamed step is found when the binary
// starts rather than half-way through a migration.
func ReadMigrations(fsys fs.FS, glob string) ([]Migration, error) {
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for i, name := range names { // Glob sorts
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name like %04d_what.sql", base, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(b)})
	}
	return out, nil
}
