// Command vulnindex turns the OSV entries of the golang.org/x/vulndb
// module (its data/osv directory) into the database layout govulncheck
// reads with -db file://DIR: index/db.json, index/modules.json,
// index/vulns.json and ID/<id>.json. The machines the tests run on cannot
// reach vuln.go.dev, but they reach the module proxy, which serves that
// module; scripts/test pins its version, so a scan is reproducible and
// says which day's database it used.
//
//	go run ./scripts/vulnindex -osv "$(go mod download -json golang.org/x/vulndb@VERSION | …)/data/osv" -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// entry is the part of an OSV entry the index needs.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"` // a module path, or "stdlib" and "toolchain" for Go's own
		} `json:"package"`
	} `json:"affected"`
}

type vulnRef struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string    `json:"path"`
	Vulns []vulnRef `json:"vulns"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

func main() {
	osvDir := flag.String("osv", "", "`DIR` of OSV JSON files (the vulndb module's data/osv)")
	out := flag.String("out", "", "`DIR` to write the database to (created)")
	flag.Parse()
	if *osvDir == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: vulnindex -osv DIR -out DIR")
		os.Exit(2)
	}
	n, err := build(*osvDir, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnindex:", err)
		os.Exit(1)
	}
	fmt.Printf("vulnindex: %d entries indexed into %s\n", n, *out)
}

func build(osvDir, out string) (int, error) {
	files, err := filepath.Glob(filepath.Join(osvDir, "GO-*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no GO-*.json in %s", osvDir)
	}
	for _, d := range []string{"ID", "index"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return 0, err
		}
	}
	byModule := map[string][]vulnRef{}
	var vulns []vuln
	var newest time.Time
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || !strings.HasPrefix(filepath.Base(f), e.ID) {
			return 0, fmt.Errorf("%s: id %q does not match the file name", f, e.ID)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
		vulns = append(vulns, vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		seen := map[string]bool{}
		for _, a := range e.Affected {
			if p := a.Package.Name; p != "" && !seen[p] {
				seen[p] = true
				// No "fixed" version: govulncheck then reads every entry
				// of a module it finds and decides from the entry itself.
				byModule[p] = append(byModule[p], vulnRef{ID: e.ID, Modified: e.Modified})
			}
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
	}
	mods := make([]module, 0, len(byModule))
	for p, v := range byModule {
		mods = append(mods, module{Path: p, Vulns: v})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	for name, v := range map[string]any{"db.json": map[string]time.Time{"modified": newest}, "modules.json": mods, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			return 0, err
		}
	}
	if len(mods) == 0 {
		return 0, fmt.Errorf("no entry in %s names a module: not OSV as the Go database writes it", osvDir)
	}
	return len(files), nil
}
