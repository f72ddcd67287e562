package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/atrium-hq/atrium"

// rank orders the top-level packages: a package may import only packages of
// a lower rank (DESIGN.md: cmd → gateway, hub → agents → workspaces →
// persistence). gateway and hub share a rank, so neither imports the other;
// loadtest imports nothing of ours.
var rank = map[string]int{
	"persistence": 0,
	"workspaces":  1,
	"agents":      2,
	"gateway":     3,
	"hub":         3,
	"cmd":         4,
	"loadtest":    -1,
	"frontend":    -1,
}

// TestImportGraph keeps the dependency direction of STYLE.md true by itself.
func TestImportGraph(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == "testdata" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		from := filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module+"/") {
				continue
			}
			to := strings.TrimPrefix(p, module+"/")
			if strings.HasSuffix(path, "_test.go") && strings.HasPrefix(to, from+"/") {
				continue // a package's tests may use its test helpers (sqldbtest)
			}
			if msg := checkImport(from, to); msg != "" {
				t.Errorf("%s imports %s: %s", path, to, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkImport(from, to string) string {
	top := func(p string) string { return strings.Split(p, "/")[0] }
	rf, okf := rank[top(from)]
	rt, okt := rank[top(to)]
	switch {
	case !okf || !okt:
		return "unknown top-level package (add it to rank)"
	case top(from) == top(to):
		if from == to || strings.HasPrefix(from, to+"/") {
			return "" // a child may import its parent
		}
		if top(from) == "persistence" && !strings.HasPrefix(from, to) {
			return "persistence packages import nothing of ours but their own parent"
		}
		if strings.HasPrefix(to, from+"/") {
			return "a parent never imports its children"
		}
		return ""
	case rf < 0:
		return "loadtest and frontend talk to Atrium only over the network"
	case rt < 0 || rt >= rf:
		return "dependencies point down: cmd → gateway, hub → agents → workspaces → persistence"
	}
	return ""
}
