package gateway

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 000 §6: files of an agent, reached with its API key. Uploads stream
// to disk (never held in memory) up to 100 MB; signed URLs let a browser
// or another service upload or download without the key, until they
// expire.

func (s *server) filesReady(w http.ResponseWriter, r *http.Request) bool {
	if s.Files == nil {
		s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "Files are not served by this node"))
		return false
	}
	return true
}

// fileView is a file in seed 000's success envelope's data.
func fileView(f agents.File) map[string]any {
	v := map[string]any{"file_id": f.ID, "filename": f.Name, "size": f.Size, "content_type": f.ContentType,
		"sha256": f.SHA256, "source": f.Source, "created_at": timestamp(f.CreatedAt)}
	if f.Conversation != "" {
		v["conversation_id"] = f.Conversation
	}
	return v
}

// baseURL is the URL the client reached us at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleUploadFile is PUT /api/upload_file: the file is the body — a
// multipart form with a "file" part (and optionally "conversation_id"), or
// the raw bytes named by ?filename=, X-Filename or Content-Disposition.
func (s *server) handleUploadFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.saveUpload(w, r, a, "", "", "")
	})
}

// saveUpload stores the request's file for a; name and conv, when set, come
// from a signed upload URL and win over the request's.
// file, when not empty, is the id an upload URL reserved (Files.SaveUpload).
func (s *server) saveUpload(w http.ResponseWriter, r *http.Request, a agents.Agent, name string, conv workspaces.ChatID, file string) {
	if r.ContentLength > s.Files.MaxBytes()+64<<10 {
		s.writeAPIError(w, r, workspaces.Errorf(workspaces.KindTooLarge, "The file is larger than the limit of %d MB", s.Files.MaxBytes()>>20))
		return
	}
	q := r.URL.Query()
	if conv == "" {
		conv = workspaces.ChatID(q.Get("conversation_id"))
	}
	var body io.Reader = r.Body
	contentType := r.Header.Get("Content-Type")
	if mt, params, err := mime.ParseMediaType(contentType); err == nil && mt == "multipart/form-data" {
		part, partConv, err := filePart(multipart.NewReader(r.Body, params["boundary"]))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		defer part.Close()
		body, contentType = part, part.Header.Get("Content-Type")
		if name == "" {
			name = part.FileName()
		}
		if conv == "" {
			conv = partConv
		}
	} else if name == "" {
		name = q.Get("filename")
		if name == "" {
			name = r.Header.Get("X-Filename")
		}
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); name == "" && err == nil {
			name = params["filename"]
		}
	}
	if conv != "" && s.Conversations != nil {
		if _, _, err := s.Conversations.Conversation(r.Context(), a, conv, 1); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
	}
	// curl -d/--data-binary labels any body as a form; no file has that
	// type, so the file's name says what it is.
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/x-www-form-urlencoded" {
		contentType = ""
	}
	if strings.TrimSpace(name) == "" && file == "" {
		// Seed 000 asks for no name ("all file types"): a body sent
		// without one is named by its type.
		name = "upload" + extensionOf(contentType)
	}
	var f agents.File
	var err error
	if file != "" {
		f, err = s.Files.SaveUpload(r.Context(), file, a, conv, name, contentType, body)
	} else {
		f, err = s.Files.Save(r.Context(), a, conv, name, contentType, "upload", body)
	}
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"success": true, "data": fileView(f), "message": "File uploaded successfully", "file_id": f.ID})
}

// filePart returns the "file" part of a multipart form, reading a
// "conversation_id" field that comes before it.
func filePart(mr *multipart.Reader) (*multipart.Part, workspaces.ChatID, error) {
	var conv workspaces.ChatID
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", workspaces.E(workspaces.KindInvalid, "The form has no 'file' part")
		}
		if err != nil {
			return nil, "", workspaces.E(workspaces.KindInvalid, "Malformed multipart body: "+err.Error())
		}
		switch p.FormName() {
		case "file":
			return p, conv, nil
		case "conversation_id":
			b, _ := io.ReadAll(io.LimitReader(p, 200))
			conv = workspaces.ChatID(strings.TrimSpace(string(b)))
		}
		p.Close()
	}
}

// handleDownloadFile is GET /api/download_file?file_id=: the file's bytes,
// or, for a client that asks for JSON (Accept: application/json; seed 000
// calls the endpoint's purpose "get download URL"), a signed URL of them
// as POST /api/get_download_url answers.
func (s *server) handleDownloadFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		id := strings.TrimSpace(r.URL.Query().Get("file_id"))
		if id == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "file_id is required"))
			return
		}
		f, err := s.Files.File(r.Context(), a.ID, id)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, s.downloadURL(r, f))
			return
		}
		s.serveFile(w, r, f)
	})
}

func (s *server) serveFile(w http.ResponseWriter, r *http.Request, f agents.File) {
	rd, err := s.Files.Open(f)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", f.CreatedAt, rd)
}

// handleCreateUploadURL is POST /api/create_upload_url {filename,
// conversation_id?}: a URL that takes one PUT of the file without the key.
func (s *server) handleCreateUploadURL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		name, err := obj.str("filename")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		conv, err := obj.str("conversation_id")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if conv != "" && s.Conversations != nil {
			if _, _, err := s.Conversations.Conversation(r.Context(), a, workspaces.ChatID(conv), 1); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		path, expires, err := s.Files.UploadURL(a, name, workspaces.ChatID(conv))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		data := map[string]any{"upload_url": baseURL(r) + path, "method": "PUT", "expires_at": timestamp(expires), "max_bytes": s.Files.MaxBytes()}
		writeJSON(w, http.StatusOK, successEnvelope(data, "Upload the file with a PUT to upload_url before it expires"))
	})
}

// handleGetDownloadURL is POST /api/get_download_url {file_id}.
func (s *server) handleGetDownloadURL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		id, err := obj.str("file_id")
		if err != nil || strings.TrimSpace(id) == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "file_id is required"))
			return
		}
		f, err := s.Files.File(r.Context(), a.ID, strings.TrimSpace(id))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.downloadURL(r, f))
	})
}

// downloadURL is seed 000's success envelope around a signed, expiring URL
// of f.
func (s *server) downloadURL(r *http.Request, f agents.File) map[string]any {
	path, expires := s.Files.DownloadURL(f)
	data := map[string]any{"download_url": baseURL(r) + path, "expires_at": timestamp(expires), "file_id": f.ID, "filename": f.Name, "size": f.Size}
	return successEnvelope(data, "Download the file with a GET of download_url before it expires")
}

// successEnvelope is seed 000's success response (§5.6.1), {success, data,
// message}, with data's fields also at the top, where clients of the
// first releases read them.
func successEnvelope(data map[string]any, message string) map[string]any {
	out := map[string]any{"success": true, "data": data, "message": message}
	for k, v := range data {
		out[k] = v
	}
	return out
}

// handleSignedUpload is PUT /api/files/upload?agent=&name=&expires=&sig=:
// a signed upload URL's target.
func (s *server) handleSignedUpload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		q := r.URL.Query()
		name, conv, file, err := s.Files.CheckUpload(q.Get("agent"), q.Get("name"), q.Get("conversation"), q.Get("file"), q.Get("expires"), q.Get("sig"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		a, err := s.Agents.ByID(r.Context(), agents.ID(q.Get("agent")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.saveUpload(w, r, a, name, conv, file)
	})
}

// handleSignedDownload is GET /api/files/{id}?agent=&expires=&sig=.
func (s *server) handleSignedDownload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.filesReady(w, r) {
			return
		}
		q := r.URL.Query()
		f, err := s.Files.CheckDownload(r.Context(), r.PathValue("id"), q.Get("agent"), q.Get("expires"), q.Get("sig"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(60))
		s.serveFile(w, r, f)
	})
}

// wantsJSON reports whether r's Accept names application/json (a bare
// "*/*", what most clients send, does not).
func wantsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
				return true
			}
		}
	}
	return false
}

// extensionOf returns the usual file extension of a media type ("" for
// none known): ".txt" for text/plain rather than the first of Go's list.
func extensionOf(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/plain":
		return ".txt"
	case "image/jpeg":
		return ".jpg"
	case "application/octet-stream":
		return ".bin"
	}
	if exts, err := mime.ExtensionsByType(mt); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ""
}
