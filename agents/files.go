package agents

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// File is an upload, or a file a tool made (seed 000 §6), scoped to its
// agent.
type File struct {
	ID           string
	Agent        ID
	Conversation workspaces.ChatID
	Name         string
	ContentType  string
	Size         int64
	SHA256       string
	// Source is "upload" or "tool".
	Source    string
	CreatedAt time.Time
}

// FilesConfig configures Files. Dir and Secret are required.
type FilesConfig struct {
	// Dir is where the files' bytes live, one directory per agent.
	Dir string
	// Secret signs upload and download URLs.
	Secret []byte
	// MaxBytes caps one file. Zero means 100 MiB (seed 000 §6.1).
	MaxBytes int64
	// URLTTL is how long a signed URL works. Zero means 15 minutes.
	URLTTL time.Duration
}

// Files stores agents' files: metadata in SQL, bytes on disk, streamed in
// and out (never held in memory). Safe for concurrent use.
type Files struct {
	db  *sqldb.DB
	cfg FilesConfig
	now func() time.Time
}

// NewFiles returns a Files.
func NewFiles(db *sqldb.DB, cfg FilesConfig) *Files {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 100 << 20
	}
	if cfg.URLTTL <= 0 {
		cfg.URLTTL = 15 * time.Minute
	}
	return &Files{db: db, cfg: cfg, now: time.Now}
}

// MaxBytes is the largest file Files takes.
func (f *Files) MaxBytes() int64 { return f.cfg.MaxBytes }

// maxFileName bounds a file's name.
const maxFileName = 255

// cleanName makes a client's file name safe to store and show: its last
// path element, printable, at most 255 bytes.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, "\\", "/")))
	if name == "." || name == "/" || name == "" {
		return "", workspaces.E(workspaces.KindInvalid, "A file name is required")
	}
	if !utf8.ValidString(name) || !printable(name) || len(name) > maxFileName {
		return "", workspaces.Errorf(workspaces.KindInvalid, "The file name must be printable text of at most %d bytes", maxFileName)
	}
	return name, nil
}

// Save streams r into a new file of agent a. A body longer than the limit
// is KindTooLarge and leaves nothing behind.
func (f *Files) Save(ctx context.Context, a Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (File, error) {
	return f.save(ctx, "", a, conv, name, contentType, source, r)
}

// SaveUpload is Save for an upload URL (CheckUpload): the file takes the id
// the URL was made for, so a second PUT of the same URL is refused with
// KindConflict rather than storing another file.
func (f *Files) SaveUpload(ctx context.Context, id string, a Agent, conv workspaces.ChatID, name, contentType string, r io.Reader) (File, error) {
	if _, err := f.File(ctx, a.ID, id); err == nil {
		return File{}, errUploadUsed
	}
	return f.save(ctx, id, a, conv, name, contentType, "upload", r)
}

var errUploadUsed = workspaces.E(workspaces.KindConflict, "This upload URL was used already: ask for another")

// save stores a file as Save says, under id (empty: a new one).
func (f *Files) save(ctx context.Context, id string, a Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (File, error) {
	reserved := id != ""
	if !reserved {
		id = workspaces.NewID()
	}
	name, err := cleanName(name)
	if err != nil {
		return File{}, err
	}
	if contentType == "" {
		contentType = mime.TypeByExtension(filepath.Ext(name))
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil || len(contentType) > 200 {
		return File{}, workspaces.E(workspaces.KindInvalid, "Invalid content type")
	}
	dir := filepath.Join(f.cfg.Dir, string(a.ID))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return File{}, workspaces.Internal("make file dir", err)
	}
	tmp, err := os.CreateTemp(dir, id+".part-*")
	if err != nil {
		return File{}, workspaces.Internal("create file", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, f.cfg.MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, workspaces.E(workspaces.KindInvalid, "The upload was cut off: "+err.Error())
	}
	if n > f.cfg.MaxBytes {
		return File{}, f.tooLarge()
	}
	if reserved {
		// Two PUTs of one URL at once: the link of the first stands, the
		// second fails here (a rename would replace the first's bytes).
		if err := os.Link(tmp.Name(), filepath.Join(dir, id)); errors.Is(err, fs.ErrExist) {
			return File{}, errUploadUsed
		} else if err != nil {
			return File{}, workspaces.Internal("store file", err)
		}
	} else if err := os.Rename(tmp.Name(), filepath.Join(dir, id)); err != nil {
		return File{}, workspaces.Internal("store file", err)
	}
	row := &sqldb.File{ID: id, AgentID: string(a.ID), OwnerID: string(a.Owner), Name: name, ContentType: contentType,
		Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Source: source, CreatedAt: f.now().UTC().Truncate(time.Microsecond)}
	if conv != "" {
		c := string(conv)
		row.ConversationID = &c
	}
	if _, err := f.db.NewInsert().Model(row).Exec(ctx); err != nil {
		os.Remove(filepath.Join(dir, id))
		return File{}, workspaces.Internal("record file", err)
	}
	return fileFromRow(row), nil
}

func (f *Files) tooLarge() error {
	return workspaces.Errorf(workspaces.KindTooLarge, "The file is larger than the limit of %d MB", f.cfg.MaxBytes>>20)
}

// File returns agent's file id; another agent's is not found.
func (f *Files) File(ctx context.Context, agent ID, id string) (File, error) {
	if !workspaces.ValidID(id) {
		return File{}, workspaces.E(workspaces.KindNotFound, "File not found")
	}
	var row sqldb.File
	err := f.db.NewSelect().Model(&row).Where("id = ? AND agent_id = ?", id, string(agent)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return File{}, workspaces.E(workspaces.KindNotFound, "File not found")
	}
	if err != nil {
		return File{}, workspaces.Internal("find file", err)
	}
	return fileFromRow(&row), nil
}

// Open opens the bytes of file fl (from File); the caller closes them.
func (f *Files) Open(fl File) (*os.File, error) {
	r, err := os.Open(filepath.Join(f.cfg.Dir, string(fl.Agent), fl.ID))
	if err != nil {
		return nil, workspaces.Internal("open file", err)
	}
	return r, nil
}

// Signed URLs: the path carries its purpose, agent, subject and expiry,
// and an HMAC over all of them, so a URL cannot be stretched to another
// file, agent, purpose or time.

// DownloadURL returns a path that serves file fl without credentials
// until it expires.
func (f *Files) DownloadURL(fl File) (path string, expires time.Time) {
	expires = f.now().Add(f.cfg.URLTTL).UTC().Truncate(time.Second)
	exp := strconv.FormatInt(expires.Unix(), 10)
	sig := f.sign("download", string(fl.Agent), fl.ID, exp)
	return "/api/files/" + fl.ID + "?agent=" + string(fl.Agent) + "&expires=" + exp + "&sig=" + sig, expires
}

// UploadURL returns a path that takes one PUT of a file named name for
// agent a without credentials until it expires. The file's id is chosen
// now and signed into the URL, which makes a second PUT a conflict.
func (f *Files) UploadURL(a Agent, name string, conv workspaces.ChatID) (path string, expires time.Time, err error) {
	if name, err = cleanName(name); err != nil {
		return "", time.Time{}, err
	}
	expires = f.now().Add(f.cfg.URLTTL).UTC().Truncate(time.Second)
	exp := strconv.FormatInt(expires.Unix(), 10)
	enc := base64.RawURLEncoding.EncodeToString([]byte(name))
	id := workspaces.NewID()
	sig := f.sign("upload", string(a.ID), enc+"|"+string(conv)+"|"+id, exp)
	path = "/api/files/upload?agent=" + string(a.ID) + "&file=" + id + "&name=" + enc + "&expires=" + exp + "&sig=" + sig
	if conv != "" {
		path += "&conversation=" + string(conv)
	}
	return path, expires, nil
}

// CheckDownload checks a download URL's parameters and returns its file.
func (f *Files) CheckDownload(ctx context.Context, id, agent, expires, sig string) (File, error) {
	if err := f.checkSig(sig, expires, "download", agent, id); err != nil {
		return File{}, err
	}
	return f.File(ctx, ID(agent), id)
}

// CheckUpload checks an upload URL's parameters and returns the file name,
// conversation and file id it allows (for SaveUpload).
func (f *Files) CheckUpload(agent, name, conv, file, expires, sig string) (string, workspaces.ChatID, string, error) {
	if err := f.checkSig(sig, expires, "upload", agent, name+"|"+conv+"|"+file); err != nil {
		return "", "", "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(name)
	if err != nil || !workspaces.ValidID(file) {
		return "", "", "", workspaces.E(workspaces.KindUnauthenticated, "Invalid upload URL")
	}
	return string(raw), workspaces.ChatID(conv), file, nil
}

func (f *Files) checkSig(sig, expires string, parts ...string) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	want := f.sign(append(parts, expires)...)
	if err != nil || !hmac.Equal([]byte(sig), []byte(want)) {
		return workspaces.E(workspaces.KindUnauthenticated, "Invalid signature")
	}
	if f.now().Unix() > exp {
		return workspaces.E(workspaces.KindUnauthenticated, "The URL has expired")
	}
	return nil
}

func (f *Files) sign(parts ...string) string {
	m := hmac.New(sha256.New, f.cfg.Secret)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s|", len(p), p)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func fileFromRow(r *sqldb.File) File {
	fl := File{ID: r.ID, Agent: ID(r.AgentID), Name: r.Name, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256, Source: r.Source, CreatedAt: r.CreatedAt}
	if r.ConversationID != nil {
		fl.Conversation = workspaces.ChatID(*r.ConversationID)
	}
	return fl
}

// maxListedFiles bounds List.
const maxListedFiles = 200

// List returns the files a tool of agent's conversation conv may see: the
// conversation's own and the agent's files that belong to no
// conversation, newest first, at most 200.
func (f *Files) List(ctx context.Context, agent ID, conv workspaces.ChatID) ([]File, error) {
	var rows []sqldb.File
	q := f.db.NewSelect().Model(&rows).Where("agent_id = ?", string(agent))
	if conv != "" {
		q = q.Where("(conversation_id = ? OR conversation_id IS NULL)", string(conv))
	} else {
		q = q.Where("conversation_id IS NULL")
	}
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(maxListedFiles).Scan(ctx); err != nil {
		return nil, workspaces.Internal("list files", err)
	}
	out := make([]File, len(rows))
	for i := range rows {
		out[i] = fileFromRow(&rows[i])
	}
	return out, nil
}

// Find returns the file that ref names for a tool of agent's conversation
// conv: a file id, or a name, the newest file of that name winning (so a
// file written twice reads as its last version). The conversation's files
// come before the agent's own.
func (f *Files) Find(ctx context.Context, agent ID, conv workspaces.ChatID, ref string) (File, error) {
	ref = strings.TrimSpace(ref)
	if workspaces.ValidID(ref) {
		if fl, err := f.File(ctx, agent, ref); err == nil && (fl.Conversation == "" || fl.Conversation == conv) {
			return fl, nil
		}
	}
	name := strings.TrimPrefix(strings.TrimPrefix(ref, "./"), "/")
	var rows []sqldb.File
	q := f.db.NewSelect().Model(&rows).Where("agent_id = ? AND name = ?", string(agent), name)
	if conv != "" {
		q = q.Where("(conversation_id = ? OR conversation_id IS NULL)", string(conv))
	} else {
		q = q.Where("conversation_id IS NULL")
	}
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(20).Scan(ctx); err != nil {
		return File{}, workspaces.Internal("find file", err)
	}
	var best *sqldb.File
	for i := range rows {
		r := &rows[i]
		if best == nil || (best.ConversationID == nil && r.ConversationID != nil) {
			best = r
		}
	}
	if best == nil {
		return File{}, workspaces.E(workspaces.KindNotFound, "File not found")
	}
	return fileFromRow(best), nil
}
