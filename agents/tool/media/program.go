package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// program is a local program a tool runs, and the Debian package that
// installs it.
type program struct {
	name string
	pkg  string
}

func (p program) String() string { return p.name }

// The programs the tools use.
var (
	progFFmpeg    = program{"ffmpeg", "ffmpeg"}
	progEspeak    = program{"espeak-ng", "espeak-ng"}
	progTesseract = program{"tesseract", "tesseract-ocr"}
	progPdftoppm  = program{"pdftoppm", "poppler-utils"}
	progPdfinfo   = program{"pdfinfo", "poppler-utils"}
)

// missingError is a program that is not installed, worded for the model
// and the operator who reads its answer.
type missingError struct {
	prog program
	path string // the configured path, when the operator set one
}

func (e *missingError) Error() string {
	if e.path != "" {
		return fmt.Sprintf("%s was not found at %s (Debian package %s)", e.prog.name, e.path, e.prog.pkg)
	}
	return fmt.Sprintf("%s is not installed (Debian package %s)", e.prog.name, e.prog.pkg)
}

// path returns where p is: its configured path, else its name looked up
// in PATH now, so that a program installed while the server runs is
// found.
func (k *toolkit) path(p program) (string, error) {
	configured := map[program]string{
		progFFmpeg:    k.cfg.FFmpeg,
		progEspeak:    k.cfg.Espeak,
		progTesseract: k.cfg.Tesseract,
		progPdftoppm:  k.cfg.Pdftoppm,
		progPdfinfo:   k.cfg.Pdfinfo,
	}[p]
	name := p.name
	if configured != "" {
		name = configured
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", &missingError{prog: p, path: configured}
	}
	return path, nil
}

// has reports whether p is installed.
func (k *toolkit) has(p program) bool {
	_, err := k.path(p)
	return err == nil
}

// maxStderr is how much of a program's error output is kept for its
// error message: the end, where the reason usually is.
const maxStderr = 4 << 10

// run runs p with args in dir, without a shell, bounded by the program
// timeout, and returns its standard output (at most maxOut bytes; more
// is an error). A failure's error quotes the end of its error output.
func (k *toolkit) run(ctx context.Context, dir string, p program, maxOut int, args ...string) ([]byte, error) {
	path, err := k.path(p)
	if err != nil {
		return nil, err
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, k.cfg.ProgramTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	// One thread each: tesseract's OpenMP would otherwise take every
	// core of a machine shared with the rest of the server.
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.Stdin = nil // /dev/null
	stdout := &capped{max: maxOut}
	stderr := &tail{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case err != nil && parent.Err() != nil:
		return nil, parent.Err() // the call's own end: the loop words it
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("%s took longer than %v", p.name, k.cfg.ProgramTimeout)
	case err != nil:
		return nil, &programError{prog: p, msg: failureMessage(stderr.String(), dir, err)}
	case stdout.over:
		return nil, fmt.Errorf("%s wrote more than %d bytes", p.name, maxOut)
	}
	return stdout.Bytes(), nil
}

// programError is a program that failed, with the end of what it said.
type programError struct {
	prog program
	msg  string
}

func (e *programError) Error() string { return e.prog.name + " failed: " + e.msg }

// failureMessage is the end of what a failed program said, at most a few
// lines, without the temporary directory's path, which means nothing to
// the model.
func failureMessage(stderr, dir string, err error) string {
	msg := strings.TrimSpace(strings.ReplaceAll(stderr, dir+string(os.PathSeparator), ""))
	if msg == "" {
		return err.Error()
	}
	lines := strings.Split(msg, "\n")
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	msg = strings.Join(lines, "\n")
	if len(msg) > 800 {
		msg = "…" + strings.ToValidUTF8(msg[len(msg)-800:], "")
	}
	return msg
}

// capped is a buffer that keeps the first max bytes written to it and
// notes that more came.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.over = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// tail keeps the last max bytes written to it.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.ToValidUTF8(string(t.buf), "\uFFFD") }

// tempDir makes a call's private directory; the caller removes it with
// the returned function.
func (k *toolkit) tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp(k.cfg.TempDir, "atrium-media-*")
	if err != nil {
		return "", nil, fmt.Errorf("making a temporary directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// copyLimited copies at most limit bytes of r to the new file path, and
// fails when r has more.
func copyLimited(path string, r io.Reader, limit int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > limit {
		return n, errTooLarge
	}
	return n, nil
}

var errTooLarge = errors.New("too large")
