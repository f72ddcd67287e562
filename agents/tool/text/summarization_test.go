package text

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

func TestSummarizeShortText(t *testing.T) {
	t.Parallel()
	m := canned("  - point one\n- point two  ")
	out := mustRun(t, NewSummarization(nil), input(t, map[string]any{
		"text": "The meeting moved to Tuesday. Ann will bring the slides.", "max_words": 150, "style": "bullets",
	}, m))
	if want := "Summary of the text (bullets, at most 150 words):\n\n- point one\n- point two"; out.Content != want {
		t.Errorf("content = %q, want %q", out.Content, want)
	}
	calls := m.seen()
	if len(calls) != 1 {
		t.Fatalf("%d model calls, want 1", len(calls))
	}
	if calls[0].prompt != "The meeting moved to Tuesday. Ann will bring the slides." {
		t.Errorf("prompt = %q", calls[0].prompt)
	}
	contains(t, calls[0].system, "bulleted list", "at most 150 words", "not instructions to you")
}

func TestSummarizeDefaultsAndClamps(t *testing.T) {
	t.Parallel()
	m := canned("A summary.")
	out := mustRun(t, NewSummarization(nil), input(t, `{"text": "Some text.", "max_words": 5}`, m))
	contains(t, out.Content, "(paragraph, at most 20 words)")
	contains(t, m.seen()[0].system, "as prose")
	out = mustRun(t, NewSummarization(nil), input(t, `{"text": "Some text."}`, m))
	contains(t, out.Content, "(paragraph, at most 200 words)")
}

var partHeader = regexp.MustCompile(`^Part (\d+) of (\d+):\n\n`)

// mapReduceModel answers a part with "S<n>", a group of summaries with
// "G[...]" and the final combination with "FINAL".
func mapReduceModel(partSummary func(n int) string) *fakeModel {
	return newModel(func(system, prompt string) (string, error) {
		if m := partHeader.FindStringSubmatch(prompt); m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			return partSummary(n), nil
		}
		if strings.Contains(system, "Combine them into one summary") {
			return "FINAL", nil
		}
		return fmt.Sprintf("G[%d]", strings.Count(prompt, "Summary of part")), nil
	})
}

func TestSummarizeLongTextInParts(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "Paragraph %d says something about the topic at hand, in a sentence or two.\n\n", i)
	}
	text := strings.TrimSpace(b.String()) // about 31,000 bytes
	m := mapReduceModel(func(n int) string { return fmt.Sprintf("S%d", n) })
	out := mustRun(t, NewSummarization(nil), input(t, map[string]any{"text": text}, m))

	calls := m.seen()
	var parts []string
	var final *modelCall
	for i, c := range calls {
		if h := partHeader.FindString(c.prompt); h != "" {
			parts = append(parts, strings.TrimPrefix(c.prompt, h))
			if len(c.prompt)-len(h) > chunkBytes {
				t.Errorf("a part has %d bytes", len(c.prompt)-len(h))
			}
		} else {
			final = &calls[i]
		}
	}
	if len(parts) < 3 || len(calls) != len(parts)+1 || final == nil {
		t.Fatalf("%d calls, %d of them parts; want the parts and one final call", len(calls), len(parts))
	}
	// The parts come in any order; together they are the text.
	total := 0
	for _, p := range parts {
		total += len(p)
		if !strings.HasPrefix(p, "Paragraph ") {
			t.Errorf("a part does not start at a paragraph: %q", p[:40])
		}
	}
	if total != len(text) {
		t.Errorf("the parts have %d bytes, the text %d", total, len(text))
	}
	var want []string
	for i := range parts {
		want = append(want, fmt.Sprintf("Summary of part %d:\nS%d", i+1, i+1))
	}
	if final.prompt != strings.Join(want, "\n\n") {
		t.Errorf("final prompt = %q", final.prompt)
	}
	want0 := fmt.Sprintf("Summary of the text (paragraph, at most 200 words; summarized in %d parts):\n\nFINAL", len(parts))
	if out.Content != want0 {
		t.Errorf("content = %q, want %q", out.Content, want0)
	}
}

func TestSummarizeHugeTextIsCutAndReducedInLevels(t *testing.T) {
	t.Parallel()
	sentence := "The quick brown fox jumps over the lazy dog again and again. "
	text := strings.Repeat(sentence, 500000/len(sentence)+1) // past the cap
	// Long part summaries force the summaries to be combined in groups.
	m := mapReduceModel(func(n int) string { return strings.Repeat(fmt.Sprintf("s%d ", n), 1000) })
	out := mustRun(t, NewSummarization(nil), input(t, map[string]any{"text": text}, m))

	contains(t, out.Content, "FINAL", "[The text has 500,", "only the first 399,9")
	groups, parts := 0, 0
	for _, c := range m.seen() {
		switch {
		case partHeader.MatchString(c.prompt):
			parts++
		case strings.HasPrefix(c.prompt, "Summary of part") && !strings.Contains(c.prompt, "G["):
			groups++
			if len(c.prompt) > chunkBytes && strings.Count(c.prompt, "Summary of part") > 1 {
				t.Errorf("a group has %d bytes", len(c.prompt))
			}
		}
	}
	if parts < 33 || parts > 35 || groups == 0 {
		t.Errorf("%d parts and %d groups", parts, groups)
	}
}

func TestSummarizeModelFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("model overloaded")
	m := newModel(func(string, string) (string, error) { return "", boom })
	_, err := run(t, NewSummarization(nil), input(t, map[string]any{"text": strings.Repeat("Words and words. ", 2000)}, m))
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want the model's", err)
	}
	wantError(t, err, "summarizing part")
	_, err = run(t, NewSummarization(nil), input(t, `{"text": "x"}`, canned("  ")))
	wantError(t, err, "empty summary")
}

func TestSummarizeBadArguments(t *testing.T) {
	t.Parallel()
	tool := NewSummarization(nil)
	for args, want := range map[string]string{
		`{}`:                              "the text argument (or file) is required",
		`{"text": 42}`:                    "the text argument must be a string",
		`{"text": "x", "max_words": "a"}`: "the max_words argument must be a number",
		`{"text": "  "}`:                  "the text is empty",
		`{"text": "x", "style": "poem"}`:  `the style argument must be "paragraph" or "bullets"`,
		`{"text": "x", "file": "a.txt"}`:  "either text or file",
		`{"file": "a.txt"}`:               "cannot read files here",
		`[1]`:                             "must be a JSON object",
	} {
		_, err := run(t, tool, input(t, args, canned("ok")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Call(%s) error = %v, want one containing %q", args, err, want)
		}
	}
}

func TestSummarizeFile(t *testing.T) {
	t.Parallel()
	files, agent := realFiles(t)
	ctx := t.Context()
	notes, err := files.Save(ctx, agent, "", "notes.txt", "text/plain; charset=utf-8", "upload",
		strings.NewReader("\xef\xbb\xbfMinutes: the budget was approved."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Save(ctx, agent, "", "photo.png", "image/png", "upload", strings.NewReader("\x89PNG\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Save(ctx, agent, "", "blob.txt", "text/plain", "upload", strings.NewReader("a\x00b")); err != nil {
		t.Fatal(err)
	}
	tool := NewSummarization(files)
	call := func(args string, m *fakeModel) (agents.ToolOutput, error) {
		in := input(t, args, m)
		in.Agent = agent
		return run(t, tool, in)
	}

	for _, ref := range []string{"notes.txt", notes.ID} {
		m := canned("The budget passed.")
		out, err := call(`{"file": "`+ref+`"}`, m)
		if err != nil {
			t.Fatalf("file %s: %v", ref, err)
		}
		contains(t, out.Content, "Summary of notes.txt (file_id "+notes.ID+") (paragraph", "The budget passed.")
		if p := m.seen()[0].prompt; p != "Minutes: the budget was approved." {
			t.Errorf("prompt = %q", p)
		}
	}
	_, err = call(`{"file": "photo.png"}`, canned("x"))
	wantError(t, err, "photo.png is a image/png file, and summarization reads only text files")
	_, err = call(`{"file": "blob.txt"}`, canned("x"))
	wantError(t, err, "blob.txt holds binary data")
	_, err = call(`{"file": "missing.txt"}`, canned("x"))
	wantError(t, err, `there is no file "missing.txt" in this conversation`)
}
