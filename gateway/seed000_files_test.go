package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func TestFilesUploadDownloadAndSignedURLs(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	_, key := e.publishedAgent(t, owner, `{}`)
	_, otherKey := e.publishedAgent(t, owner, `{}`)
	auth := map[string]string{"Authorization": "ApiKey " + key}

	// Raw body, named by ?filename=.
	content := "hello 📄 world\n"
	hdr := map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "text/plain; charset=utf-8"}
	resp, body := e.raw(t, "PUT", "/api/upload_file?filename=notes.txt", hdr, content)
	data := obj(t, body, "data")
	sum := sha256.Sum256([]byte(content))
	if resp.StatusCode != 201 || body["success"] != true || data["filename"] != "notes.txt" || data["size"] != float64(len(content)) || data["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload = %d %v", resp.StatusCode, body)
	}
	id := str(t, data, "file_id")
	st, got, h := e.send(t, "GET", "/api/download_file?file_id="+id, auth, "")
	if st != 200 || got != content || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(h.Get("Content-Disposition"), "notes.txt") {
		t.Fatalf("download = %d %q %v", st, got, h)
	}
	// Another agent's key does not reach it.
	if st, _, _ := e.send(t, "GET", "/api/download_file?file_id="+id, map[string]string{"Authorization": "ApiKey " + otherKey}, ""); st != 404 {
		t.Fatalf("another agent's download = %d", st)
	}

	// A raw body with no name at all (seed 000 asks for none): named by
	// its type.
	resp, body = e.raw(t, "PUT", "/api/upload_file", map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "application/pdf"}, "%PDF-1.4 not really")
	if resp.StatusCode != 201 || obj(t, body, "data")["filename"] != "upload.pdf" {
		t.Fatalf("unnamed upload = %d %v", resp.StatusCode, body)
	}
	resp, body = e.raw(t, "PUT", "/api/upload_file", map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "text/plain"}, "plain")
	if resp.StatusCode != 201 || obj(t, body, "data")["filename"] != "upload.txt" {
		t.Fatalf("unnamed text upload = %d %v", resp.StatusCode, body)
	}

	// Sent as curl --data-binary sends it (labelled a form): typed by name.
	resp, body = e.raw(t, "PUT", "/api/upload_file?filename=data.json", map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "application/x-www-form-urlencoded"}, `{"a":1}`)
	if ct, _ := obj(t, body, "data")["content_type"].(string); resp.StatusCode != 201 || ct != "application/json" {
		t.Fatalf("upload labelled a form = %d %v", resp.StatusCode, body)
	}

	// Multipart, with a path in the name (only its last element is kept).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "../../etc/passwd.csv")
	fw.Write([]byte("a,b\n1,2\n"))
	mw.Close()
	resp, body = e.raw(t, "PUT", "/api/upload_file", map[string]string{"Authorization": "ApiKey " + key, "Content-Type": mw.FormDataContentType()}, buf.String())
	if resp.StatusCode != 201 || obj(t, body, "data")["filename"] != "passwd.csv" {
		t.Fatalf("multipart upload = %d %v", resp.StatusCode, body)
	}

	// Signed download URL: works without the key, not once tampered with.
	// It comes in seed 000's success envelope, and from download_file too
	// for a client that asks for JSON.
	_, body = e.withKey(t, "POST", "/api/get_download_url", key, `{"file_id":"`+id+`"}`)
	url := str(t, body, "download_url")
	if body["success"] != true || obj(t, body, "data")["download_url"] != url || body["message"] == nil {
		t.Fatalf("get_download_url = %v, want {success, data: {download_url, …}, message}", body)
	}
	resp, body = e.raw(t, "GET", "/api/download_file?file_id="+id, map[string]string{"Authorization": "ApiKey " + key, "Accept": "application/json"}, "")
	if resp.StatusCode != 200 || !strings.Contains(str(t, obj(t, body, "data"), "download_url"), "/api/files/"+id) {
		t.Fatalf("download_file asking for JSON = %d %v", resp.StatusCode, body)
	}
	res, err := testHTTP.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != content {
		t.Fatalf("signed download = %d %q", res.StatusCode, b)
	}
	for _, bad := range []string{strings.Replace(url, "expires=", "expires=9", 1), url[:len(url)-2] + "xx", strings.Replace(url, id, "0123456789abcdef0123456789abcdef", 1)} {
		res, _ := testHTTP.Get(bad)
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("tampered URL %s = %d", bad, res.StatusCode)
		}
	}
	// Signed upload URL: one PUT without the key.
	_, body = e.withKey(t, "POST", "/api/create_upload_url", key, `{"filename":"report.md"}`)
	up := str(t, body, "upload_url")
	req, _ := http.NewRequest("PUT", up, strings.NewReader("# Report"))
	res, err = testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || !strings.Contains(string(b), `"filename":"report.md"`) {
		t.Fatalf("signed upload = %d %s", res.StatusCode, b)
	}
	// Once only: a second PUT of the URL is refused, and the first file
	// stays as it was.
	var first struct {
		FileID string `json:"file_id"`
	}
	json.Unmarshal(b, &first)
	firstID := first.FileID
	req, _ = http.NewRequest("PUT", up, strings.NewReader("# Something else"))
	res, err = testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 409 || !strings.Contains(string(b), "used already") {
		t.Fatalf("second PUT of an upload URL = %d %s, want 409", res.StatusCode, b)
	}
	if st, got, _ := e.send(t, "GET", "/api/download_file?file_id="+firstID, auth, ""); st != 200 || got != "# Report" {
		t.Fatalf("the first upload after a second PUT = %d %q", st, got)
	}
	// The URL cannot be pointed at another id either.
	req, _ = http.NewRequest("PUT", strings.Replace(up, "file=", "file=0", 1), strings.NewReader("x"))
	res, _ = testHTTP.Do(req)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("an upload URL with another file id = %d, want 401", res.StatusCode)
	}

	// Errors.
	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"PUT", "/api/upload_file?filename=/", "x", 400, "file name"},
		{"GET", "/api/download_file", "", 400, "file_id"},
		{"GET", "/api/download_file?file_id=nope", "", 404, "File not found"},
		{"POST", "/api/get_download_url", `{}`, 400, "file_id"},
		{"POST", "/api/create_upload_url", `{"filename":""}`, 400, "file name"},
		{"POST", "/api/create_upload_url", `{"filename":"a","conversation_id":"nope"}`, 404, "Conversation not found"},
	} {
		resp, body := e.raw(t, tc.method, tc.path, map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "application/json"}, tc.body)
		wantAPIError(t, tc.method+" "+tc.path, resp.StatusCode, body, tc.status, tc.contains)
	}
	// Over the limit (1 MiB in this env): 413, and nothing is kept.
	resp, body = e.raw(t, "PUT", "/api/upload_file?filename=big.bin", map[string]string{"Authorization": "ApiKey " + key}, strings.Repeat("x", 1<<20+1))
	wantAPIError(t, "too big", resp.StatusCode, body, 413, "larger than the limit")
	resp, body = e.raw(t, "PUT", "/api/upload_file?filename=x", nil, "x")
	wantAPIError(t, "no key", resp.StatusCode, body, 401, "agent API key")
}
