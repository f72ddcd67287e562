package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// arguments is the JSON object a model wrote, read field by field so that
// each mistake is named: models write numbers as strings, or 1024.0, and a
// field that is null means the same as one left out.
type arguments map[string]json.RawMessage

// parseArguments reads raw as an object; example shows the model a
// correct call.
func parseArguments(raw json.RawMessage, example string) (arguments, error) {
	var a arguments
	if err := json.Unmarshal(raw, &a); err != nil || a == nil {
		return nil, fmt.Errorf("the arguments must be a JSON object like %s", example)
	}
	return a, nil
}

// present reports whether name was given a value other than null.
func (a arguments) present(name string) bool {
	v, ok := a[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// text returns the string argument name, trimmed ("" when absent).
func (a arguments) text(name string) (string, error) {
	if !a.present(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(a[name], &s); err != nil {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return strings.TrimSpace(s), nil
}

// integer returns the integer argument name, or def when absent. It takes
// 1024, 1024.0 and "1024".
func (a arguments) integer(name string, def int, unit string) (int, error) {
	if !a.present(name) {
		return def, nil
	}
	raw := bytes.TrimSpace(a[name])
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, fmt.Errorf("%s must be a whole number of %s, like %d", name, unit, def)
	}
	return int(f), nil
}

// checkPrompt checks a prompt's length in characters, which is how
// Bedrock's models count it.
func checkPrompt(name, s string, maxChars int, required bool) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && required:
		return fmt.Errorf("the %s argument is required: describe what to generate", name)
	case n > maxChars:
		return fmt.Errorf("%s has %d characters, more than the model's limit of %d; shorten it", name, n, maxChars)
	}
	return nil
}

// fileName names a generated file after the first words of its prompt,
// so that a user's file list reads well: "a-red-fox-in-the-snow.png".
func fileName(prompt, fallback, ext string) string {
	const maxLen = 48
	var b strings.Builder
	dash, cut := false, false
	for _, r := range strings.ToLower(prompt) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if b.Len() >= maxLen {
				cut = true
				break
			}
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	name := b.String()
	if i := strings.LastIndexByte(name, '-'); cut && i > 0 {
		name = name[:i] // not half a word
	}
	if name == "" {
		name = fallback
	}
	return name + ext
}
