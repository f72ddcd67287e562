package rag

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/workspaces"
)

func TestPDFText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("ATRIUM_TEST_REQUIRE_PROGRAMS") == "1" {
			t.Fatal("pdftotext is not installed and ATRIUM_TEST_REQUIRE_PROGRAMS=1")
		}
		t.Skip("pdftotext is not installed")
	}
	ctx := context.Background()
	// testdata/refunds.pdf: two pages of Helvetica text.
	got, err := pdfText(ctx, "testdata/refunds.pdf", 1<<20)
	if err != nil || !strings.Contains(got, "Refunds are paid within fourteen days.") || !strings.Contains(got, "The shop opens at nine.") {
		t.Fatalf("pdf text = %q, %v", got, err)
	}
	if _, err := pdfText(ctx, "testdata/refunds.pdf", 20); workspaces.ErrorKind(err) != workspaces.KindTooLarge {
		t.Fatalf("over the limit: %v", err)
	}
	broken := filepath.Join(t.TempDir(), "broken.pdf")
	os.WriteFile(broken, []byte("%PDF-1.4\nnot really"), 0o600)
	if _, err := pdfText(ctx, broken, 1<<20); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("a broken PDF: %v", err)
	}
}
