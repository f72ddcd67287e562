package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// input is a tool's input copied into its private directory.
type input struct {
	// path is the copy, under a fixed name chosen by the tool.
	path string
	// name is the file's name as the user knows it (a file's name, or
	// the last part of a URL's path), for messages and output names.
	name string
	// kind is the media type sniffed from the bytes.
	kind string
}

// isURL reports whether ref is a URL rather than a file id or name.
func isURL(ref string) bool {
	l := strings.ToLower(strings.TrimSpace(ref))
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// pick returns the one reference of an argument pair: a file (id, name or
// URL) or a URL. what names the input in errors.
func pick(file, rawURL, what string) (string, error) {
	file, rawURL = strings.TrimSpace(file), strings.TrimSpace(rawURL)
	switch {
	case file != "" && rawURL != "":
		return "", fmt.Errorf("give either file or url for the %s, not both", what)
	case file != "":
		return file, nil
	case rawURL != "":
		if !isURL(rawURL) {
			return "", fmt.Errorf("the url %q must start with http:// or https://", rawURL)
		}
		return rawURL, nil
	}
	return "", fmt.Errorf("the %s is required: give file (a file id or name from the conversation) or url", what)
}

// load copies the input ref names (a URL, or a conversation file's id or
// name) to dir/base and sniffs its type.
func (k *toolkit) load(ctx context.Context, in agents.ToolInput, ref, dir, base string) (input, error) {
	dst := filepath.Join(dir, base)
	var (
		src input
		err error
	)
	if isURL(ref) {
		src, err = k.download(ctx, ref, dst)
	} else {
		src, err = k.copyFile(ctx, in, ref, dst)
	}
	if err != nil {
		return input{}, err
	}
	src.kind, err = sniff(dst)
	if err != nil {
		return input{}, err
	}
	return src, nil
}

// copyFile copies the conversation's file ref to dst.
func (k *toolkit) copyFile(ctx context.Context, in agents.ToolInput, ref, dst string) (input, error) {
	if k.store == nil {
		return input{}, errors.New("this server keeps no files, so only URLs can be read")
	}
	fl, err := k.store.Find(ctx, in.Agent.ID, in.ChatID, ref)
	if workspaces.ErrorKind(err) == workspaces.KindNotFound {
		return input{}, fmt.Errorf("no file %q in this conversation: give a file id or name from the conversation's files, or a URL", ref)
	}
	if err != nil {
		return input{}, fmt.Errorf("finding the file %q: %w", ref, err)
	}
	if fl.Size > k.cfg.MaxInputBytes {
		return input{}, fmt.Errorf("%s is %s, larger than the limit of %s", fl.Name, safehttp.FormatSize(fl.Size), safehttp.FormatSize(k.cfg.MaxInputBytes))
	}
	r, err := k.store.Open(fl)
	if err != nil {
		return input{}, fmt.Errorf("opening %s: %w", fl.Name, err)
	}
	defer r.Close()
	_, err = copyLimited(dst, r, k.cfg.MaxInputBytes)
	if errors.Is(err, errTooLarge) {
		return input{}, fmt.Errorf("%s is larger than the limit of %s", fl.Name, safehttp.FormatSize(k.cfg.MaxInputBytes))
	}
	if err != nil {
		return input{}, fmt.Errorf("copying %s: %w", fl.Name, err)
	}
	return input{path: dst, name: fl.Name}, nil
}

// download fetches rawURL through safehttp to dst.
func (k *toolkit) download(ctx context.Context, rawURL, dst string) (input, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return input{}, fmt.Errorf("%q is not a valid http or https URL", rawURL)
	}
	if u.User != nil {
		return input{}, errors.New("URLs with a user name or password are not fetched")
	}
	resp, err := k.fetch.Get(ctx, u.String())
	if err != nil {
		return input{}, fmt.Errorf("could not fetch %s: %w", u, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return input{}, fmt.Errorf("could not fetch %s: it answered %s", u, resp.Status)
	}
	if resp.ContentLength > k.cfg.MaxInputBytes {
		return input{}, fmt.Errorf("%s is %s, larger than the limit of %s", u, safehttp.FormatSize(resp.ContentLength), safehttp.FormatSize(k.cfg.MaxInputBytes))
	}
	n, err := copyLimited(dst, resp.Body, k.cfg.MaxInputBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return input{}, fmt.Errorf("%s is larger than the limit of %s", u, safehttp.FormatSize(k.cfg.MaxInputBytes))
	case errors.Is(err, safehttp.ErrBodyTooLarge):
		return input{}, fmt.Errorf("%s is larger than the download limit of %s", u, safehttp.FormatSize(n))
	case err != nil:
		return input{}, fmt.Errorf("could not fetch %s: %w", u, unwrapURLError(err))
	}
	return input{path: dst, name: urlFileName(resp)}, nil
}

// urlFileName is the name a download goes by: the Content-Disposition
// file name, else the last element of the final URL's path.
func urlFileName(resp *http.Response) string {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		if n := cleanBase(params["filename"]); n != "" {
			return n
		}
	}
	if n := cleanBase(path.Base(resp.Request.URL.Path)); n != "" && n != "." && n != "/" {
		return n
	}
	return "download"
}

// cleanBase is the last element of a name, printable, or "".
func cleanBase(name string) string {
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, "\\", "/")))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	return truncateRunes(name, 100)
}

// unwrapURLError drops url.Error's `Get "https://…":` prefix, which
// repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("it took too long: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// Sniffed media types that http.DetectContentType does not know.
const (
	typeTIFF = "image/tiff"
	typePDF  = "application/pdf"
)

// sniff returns the media type of the file at p from its first bytes.
func sniff(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")) {
		return typeTIFF, nil
	}
	if i := bytes.Index(head, []byte("%PDF-")); i >= 0 && i < 64 {
		return typePDF, nil // PDF readers allow junk before the header
	}
	t, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	return t, nil
}

// stem is name without its extension, made safe for an output file name:
// letters, digits, '-' and '_' only, at most 60 characters.
func stem(name string) string {
	name = strings.TrimSuffix(name, filepath.Ext(name))
	var b strings.Builder
	dash := false
	for _, r := range name {
		ok := r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
