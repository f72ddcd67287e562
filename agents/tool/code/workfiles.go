package code

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// Limits of the files a run reads and keeps.
const (
	// maxKeptFiles is how many files of a run are kept.
	maxKeptFiles = 5
	// maxInputFiles and maxInputBytes bound the conversation's files
	// copied into a run.
	maxInputFiles = 20
	maxInputBytes = 50 << 20
	// maxWalked bounds the entries of the working directory looked at
	// for files to keep.
	maxWalked = 1000
)

// inputs are the files copied into a run: name to SHA-256, so that one the
// code left as it was is not kept again.
type inputs map[string]string

// copyInputs copies the conversation's files, the newest of each name,
// into the run's working directory, owned by the code's user so it may
// change them. It returns what it copied and notes on what it did not.
func (e *Executor) copyInputs(ctx context.Context, in agents.ToolInput, s *scratch, box sandbox) (inputs, []string) {
	list, err := e.store.List(ctx, in.Agent.ID, in.ChatID)
	if err != nil {
		return nil, []string{"The conversation's files could not be listed, so none are in the working directory."}
	}
	copied := inputs{}
	var skipped []string
	var total int64
	for _, f := range list {
		if _, ok := copied[f.Name]; ok || !plainName(f.Name) {
			continue // an older version, or a name no file may have here
		}
		switch {
		case f.Size > e.cfg.FileBytes:
			skipped = append(skipped, fmt.Sprintf("%s (larger than %s)", f.Name, safehttp.FormatSize(e.cfg.FileBytes)))
			continue
		case len(copied) == maxInputFiles || total+f.Size > maxInputBytes:
			skipped = append(skipped, fmt.Sprintf("%s (a run gets at most %d files, %s in all)", f.Name, maxInputFiles, safehttp.FormatSize(maxInputBytes)))
			continue
		}
		sum, err := e.copyIn(f, filepath.Join(s.work, f.Name), box)
		if err != nil {
			skipped = append(skipped, f.Name+" (it could not be copied)")
			continue
		}
		copied[f.Name] = sum
		total += f.Size
	}
	if len(skipped) == 0 {
		return copied, nil
	}
	return copied, []string{"Not in the working directory: " + strings.Join(skipped, ", ") + "."}
}

// copyIn copies file f to path and returns its SHA-256.
func (e *Executor) copyIn(f agents.File, path string, box sandbox) (string, error) {
	src, err := e.store.Open(f)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(dst, h), io.LimitReader(src, e.cfg.FileBytes))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil && box.drop {
		err = os.Chown(path, box.uid, box.gid)
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// plainName reports whether name can be a file in the working directory
// as it is: not empty, ".", "..", nor holding a slash or a NUL.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// keepFiles saves the files the run wrote in its working directory (in
// subdirectories too, under their base names) to the conversation: at most
// maxKeptFiles, none the code did not make itself. Hidden files and
// directories and __pycache__ are passed over, and so are copied-in files
// the code left as they were. It returns the files kept and notes on what
// was not.
func (e *Executor) keepFiles(ctx context.Context, in agents.ToolInput, s *scratch, box sandbox, copied inputs) ([]agents.File, []string) {
	root, err := os.OpenRoot(s.work)
	if err != nil {
		return nil, []string{"The files the code wrote could not be read."}
	}
	defer root.Close()
	var kept []agents.File
	var notKept, tooBig, failed []string
	seen := map[string]bool{}
	walked := 0
	fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || rel == "." {
			return nil
		}
		if walked++; walked > maxWalked {
			notKept = append(notKept, "the files after the first "+fmt.Sprint(maxWalked))
			return fs.SkipAll
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || name == "__pycache__" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // directories are walked; links, pipes and the like are not files to keep
		}
		f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() || !ownedBy(st, box.uid) {
			return nil // not a file the code made: a hard link to another's, say
		}
		switch {
		case st.Size() > e.cfg.FileBytes:
			tooBig = append(tooBig, rel)
		case seen[name]:
			notKept = append(notKept, rel+" (another file has the same name)")
		case unchanged(f, copied[name]):
			seen[name] = true
		case len(kept) == maxKeptFiles:
			notKept = append(notKept, rel)
		default:
			seen[name] = true
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				failed = append(failed, rel)
				return nil
			}
			saved, err := e.store.Save(ctx, in.Agent, in.ChatID, name, "", "tool", f)
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s (%s)", rel, workspaces.ErrorMessage(err)))
				return nil
			}
			kept = append(kept, saved)
		}
		return nil
	})
	var notes []string
	if len(notKept) > 0 {
		notes = append(notes, fmt.Sprintf("Not kept (a run keeps at most %d files): %s.", maxKeptFiles, strings.Join(notKept, ", ")))
	}
	if len(tooBig) > 0 {
		notes = append(notes, fmt.Sprintf("Not kept (larger than %s): %s.", safehttp.FormatSize(e.cfg.FileBytes), strings.Join(tooBig, ", ")))
	}
	if len(failed) > 0 {
		notes = append(notes, "Could not be kept: "+strings.Join(failed, ", ")+".")
	}
	return kept, notes
}

// ownedBy reports whether the file st describes belongs to uid.
func ownedBy(st fs.FileInfo, uid int) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == uid
}

// unchanged reports whether f's content has the SHA-256 sum (hex); never
// for an empty sum.
func unchanged(f *os.File, sum string) bool {
	if sum == "" {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == sum
}

// keptList names kept files for the result.
func keptList(kept []agents.File) string {
	parts := make([]string, len(kept))
	for i, f := range kept {
		parts[i] = fmt.Sprintf("%s (%s, %s, file_id %s)", f.Name, f.ContentType, safehttp.FormatSize(f.Size), f.ID)
	}
	return strings.Join(parts, ", ")
}
