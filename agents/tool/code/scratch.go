package code

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// scratch is one run's temporary directory:
//
//	root/          Atrium's, mode 0711: the code's user may pass, not list
//	root/main.py   the code, which the code cannot change
//	root/work/     the working directory, the code's user's
//	root/home/     its HOME, where libraries keep caches
//	root/tmp/      its TMPDIR
//
// Only work/ is looked at for the files a run makes, so caches and
// temporary files are not taken for them.
type scratch struct {
	root, script, work, home, tmp string
}

// newScratch makes a scratch directory under dir for a run of code in box.
func newScratch(dir string, box sandbox, code string) (*scratch, error) {
	root, err := os.MkdirTemp(dir, "atrium-code-")
	if err != nil {
		return nil, fmt.Errorf("make the run's directory: %w", err)
	}
	s := &scratch{root: root, script: filepath.Join(root, "main.py"),
		work: filepath.Join(root, "work"), home: filepath.Join(root, "home"), tmp: filepath.Join(root, "tmp")}
	if err := s.fill(box, code); err != nil {
		s.remove()
		return nil, fmt.Errorf("set up the run's directory: %w", err)
	}
	return s, nil
}

func (s *scratch) fill(box sandbox, code string) error {
	if err := os.Chmod(s.root, 0o711); err != nil {
		return err
	}
	if err := os.WriteFile(s.script, []byte(code), 0o644); err != nil {
		return err
	}
	for _, d := range []string{s.work, s.home, s.tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if box.drop {
			if err := os.Chown(d, box.uid, box.gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove deletes the directory. Code running as Atrium's own user may have
// left directories it cannot list; those are opened up first.
func (s *scratch) remove() {
	if os.RemoveAll(s.root) == nil {
		return
	}
	filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(path, 0o700)
		}
		return nil
	})
	os.RemoveAll(s.root)
}
