package rag

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

// pdfTimeout bounds reading one PDF's text.
const pdfTimeout = time.Minute

// pdfText is the text of the PDF at path, read by poppler's pdftotext in
// its own process (a hostile PDF costs that process, not the server), at
// most maxText bytes. Scanned pages have no text: the ocr tool reads those.
func pdfText(ctx context.Context, path string, maxText int) (string, error) {
	prog, err := exec.LookPath("pdftotext")
	if err != nil {
		return "", workspaces.E(workspaces.KindUnavailable, "PDF training data needs pdftotext on the server (Debian package poppler-utils)")
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	out := &cappedBuffer{max: maxText}
	cmd := exec.CommandContext(ctx, prog, "-q", "-enc", "UTF-8", "-nopgbrk", "--", path, "-")
	cmd.Stdout, cmd.Stderr, cmd.WaitDelay = out, io.Discard, 5*time.Second
	err = cmd.Run()
	switch {
	case out.over:
		return "", workspaces.E(workspaces.KindTooLarge, "The PDF has more text than a training document may hold ("+byteSize(maxText)+")")
	case ctx.Err() != nil:
		return "", workspaces.E(workspaces.KindInvalid, "Reading the PDF's text took too long")
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", workspaces.E(workspaces.KindInvalid, "The file is not a readable PDF")
		}
		return "", workspaces.Internal("run pdftotext", err)
	}
	text := strings.ToValidUTF8(out.String(), "")
	if strings.TrimSpace(text) == "" {
		return "", workspaces.E(workspaces.KindInvalid, "The PDF has no text (a scanned PDF needs OCR: the ocr tool reads it)")
	}
	return text, nil
}

var errTooMuchOutput = errors.New("too much output")

// cappedBuffer keeps at most max bytes written to it and refuses more.
type cappedBuffer struct {
	max  int
	buf  *bytes.Buffer
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.buf == nil {
		c.buf = new(bytes.Buffer)
	}
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		c.over = true
		return 0, errTooMuchOutput // the program gets a broken pipe and stops
	}
	c.buf.Write(p)
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	if c.buf == nil {
		return ""
	}
	return c.buf.String()
}
