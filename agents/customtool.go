package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// Custom tool types of seed 003's tool API.
const (
	ToolTypeCustom     = "Custom"
	ToolTypeFileSearch = "File Search"
)

// Limits of custom tools.
const (
	// MaxAgentTools is how many custom tools one agent may have (seed 000
	// §4.1: "Up to 10 custom tools per agent").
	MaxAgentTools      = 10
	maxToolNameLen     = 64
	maxToolDescLen     = 4000
	maxToolSchemaBytes = 32 << 10
	maxToolFileBytes   = 5 << 20
	maxToolHeaders     = 20
	// MaxToolTimeout caps a custom tool's own timeout.
	MaxToolTimeout = 120 * time.Second
)

// CustomTool is a user's own tool: seed 003's tools (Custom or File
// Search, with a JSON schema) and seed 000's custom HTTP tools. A Custom
// tool with an Endpoint is called by Atrium over HTTP; one without is left
// to the API caller, whose answer says which tool to call with which
// parameters ("Tool call(s) initiated").
type CustomTool struct {
	ID          int64
	Owner       workspaces.UserID
	Name        string
	Description string
	Type        string
	// Schema is the JSON schema of the parameters as the owner gave it;
	// nil when Parameters describe them instead.
	Schema     json.RawMessage
	Parameters []ToolParameter
	// FileName and File are seed 003's file of a File Search tool.
	FileName string
	File     []byte
	// Endpoint, Method, Headers and Timeout make it an HTTP tool.
	Endpoint  string
	Method    string
	Headers   map[string]string
	Timeout   time.Duration
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ToolParameter is one parameter in seed 003's update_tool list.
type ToolParameter struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// EffectiveSchema is the JSON schema the model sees: Schema, else one
// made from Parameters, else an object without properties.
func (t CustomTool) EffectiveSchema() json.RawMessage {
	if len(t.Schema) > 0 && string(t.Schema) != "null" {
		return t.Schema
	}
	props := map[string]any{}
	required := []string{}
	for _, p := range t.Parameters {
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		prop := map[string]any{"type": typ}
		if p.Description != "" {
			prop["description"] = p.Description
		}
		props[p.Name] = prop
		if p.Required {
			required = append(required, p.Name)
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "object", "properties": props, "required": required})
	return b
}

// ModelName is the tool's name as the model knows it: the name with every
// character a function name cannot hold replaced by "_".
func (t CustomTool) ModelName() string { return ModelToolName(t.Name) }

var notToolNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ModelToolName turns name into a function name models accept:
// [A-Za-z0-9_-], at most 64 characters.
func ModelToolName(name string) string {
	n := strings.Trim(notToolNameChar.ReplaceAllString(strings.TrimSpace(name), "_"), "_")
	if n == "" {
		n = "tool"
	}
	if len(n) > maxToolNameLen {
		n = n[:maxToolNameLen]
	}
	return n
}

// CustomTools stores users' custom tools and which agents have them. Every
// method is scoped to the owner. Safe for concurrent use.
type CustomTools struct {
	db  *sqldb.DB
	now func() time.Time
	// version counts this process's changes (Version).
	version atomic.Uint64

	mu       sync.RWMutex
	reserved map[string]bool // lower-case model names of the built-in tools
}

// Reserve makes names (the built-in tools') unavailable to the custom
// tools of agents: a model offered two tools of one name could call only
// one of them.
func (c *CustomTools) Reserve(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved == nil {
		c.reserved = make(map[string]bool)
	}
	for _, n := range names {
		c.reserved[strings.ToLower(n)] = true
	}
}

// checkNames refuses a tool named name (ModelName) for an agent whose
// other tools are named others: a built-in tool's name, or one of theirs,
// in any case.
func (c *CustomTools) checkNames(name string, others []string) error {
	model := ModelToolName(name)
	c.mu.RLock()
	builtin := c.reserved[strings.ToLower(model)]
	c.mu.RUnlock()
	if builtin {
		return workspaces.Errorf(workspaces.KindInvalid, "%q is the name of a built-in tool: give the custom tool another name", model)
	}
	for _, o := range others {
		if strings.EqualFold(ModelToolName(o), model) {
			return workspaces.Errorf(workspaces.KindInvalid, "The agent already has a tool named %q: give the custom tool another name", model)
		}
	}
	return nil
}

// Version changes whenever this process changes a tool or which agents
// have it; changes made by other processes are not counted.
func (c *CustomTools) Version() uint64 { return c.version.Load() }

// NewCustomTools returns the custom tools of db.
func NewCustomTools(db *sqldb.DB) *CustomTools {
	return &CustomTools{db: db, now: time.Now}
}

// ToolPatch changes a custom tool; nil fields stay.
type ToolPatch struct {
	Name        *string
	Description *string
	Type        *string
	Schema      *json.RawMessage
	Parameters  *[]ToolParameter
	FileName    *string
	File        *[]byte
	Endpoint    *string
	Method      *string
	Headers     *map[string]string
	Timeout     *time.Duration
}

// Create stores a new tool of owner.
func (c *CustomTools) Create(ctx context.Context, owner workspaces.UserID, t CustomTool) (CustomTool, error) {
	defer c.version.Add(1)
	t.Owner = owner
	if err := checkCustomTool(&t); err != nil {
		return CustomTool{}, err
	}
	now := c.now().UTC().Truncate(time.Microsecond)
	t.CreatedAt, t.UpdatedAt = now, now
	row := customToolRow(t)
	if _, err := c.db.NewInsert().Model(row).Returning("id").Exec(ctx); err != nil {
		return CustomTool{}, workspaces.Internal("create tool", err)
	}
	t.ID = row.ID
	return t, nil
}

// List returns owner's tools, oldest first.
func (c *CustomTools) List(ctx context.Context, owner workspaces.UserID) ([]CustomTool, error) {
	var rows []sqldb.CustomTool
	if err := c.db.NewSelect().Model(&rows).Where("owner_id = ?", string(owner)).OrderExpr("id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list tools", err)
	}
	return customToolsFromRows(rows), nil
}

// Get returns owner's tool id; another user's is not found.
func (c *CustomTools) Get(ctx context.Context, owner workspaces.UserID, id int64) (CustomTool, error) {
	var row sqldb.CustomTool
	err := c.db.NewSelect().Model(&row).Where("id = ? AND owner_id = ?", id, string(owner)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return CustomTool{}, workspaces.E(workspaces.KindNotFound, "Tool not found")
	}
	if err != nil {
		return CustomTool{}, workspaces.Internal("find tool", err)
	}
	return customToolFromRow(&row), nil
}

// Update applies p to owner's tool id.
func (c *CustomTools) Update(ctx context.Context, owner workspaces.UserID, id int64, p ToolPatch) (CustomTool, error) {
	defer c.version.Add(1)
	t, err := c.Get(ctx, owner, id)
	if err != nil {
		return CustomTool{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.Name, p.Name)
	set(&t.Description, p.Description)
	set(&t.Type, p.Type)
	set(&t.FileName, p.FileName)
	set(&t.Endpoint, p.Endpoint)
	set(&t.Method, p.Method)
	if p.Schema != nil {
		t.Schema = *p.Schema
	}
	if p.Parameters != nil {
		t.Parameters = *p.Parameters
	}
	if p.File != nil {
		t.File = *p.File
	}
	if p.Headers != nil {
		t.Headers = *p.Headers
	}
	if p.Timeout != nil {
		t.Timeout = *p.Timeout
	}
	if err := checkCustomTool(&t); err != nil {
		return CustomTool{}, err
	}
	if p.Name != nil {
		// Renamed: it must stay apart from the other tools of every agent
		// that has it.
		var others []string
		err := c.db.NewSelect().Model((*sqldb.CustomTool)(nil)).Column("custom_tool.name").
			Join("JOIN agent_tools AS at ON at.tool_id = custom_tool.id").
			Where("at.agent_id IN (?)", c.db.NewSelect().Model((*sqldb.AgentTool)(nil)).Column("agent_id").Where("tool_id = ?", id)).
			Where("custom_tool.id <> ?", id).Scan(ctx, &others)
		if err != nil {
			return CustomTool{}, workspaces.Internal("list agent tools", err)
		}
		attached, err := c.db.NewSelect().Model((*sqldb.AgentTool)(nil)).Where("tool_id = ?", id).Count(ctx)
		if err != nil {
			return CustomTool{}, workspaces.Internal("list agent tools", err)
		}
		if attached > 0 {
			if err := c.checkNames(t.Name, others); err != nil {
				return CustomTool{}, err
			}
		}
	}
	t.UpdatedAt = c.now().UTC().Truncate(time.Microsecond)
	row := customToolRow(t)
	if _, err := c.db.NewUpdate().Model(row).WherePK().Where("owner_id = ?", string(owner)).
		ExcludeColumn("id", "owner_id", "created_at").Exec(ctx); err != nil {
		return CustomTool{}, workspaces.Internal("update tool", err)
	}
	return t, nil
}

// Delete removes owner's tool id, and it from every agent.
func (c *CustomTools) Delete(ctx context.Context, owner workspaces.UserID, id int64) error {
	defer c.version.Add(1)
	return c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*sqldb.CustomTool)(nil)).Where("id = ? AND owner_id = ?", id, string(owner)).Exec(ctx)
		if err != nil {
			return workspaces.Internal("delete tool", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return workspaces.E(workspaces.KindNotFound, "Tool not found")
		}
		if _, err := tx.NewDelete().Model((*sqldb.AgentTool)(nil)).Where("tool_id = ?", id).Exec(ctx); err != nil {
			return workspaces.Internal("detach tool", err)
		}
		return nil
	})
}

// Attach gives agent a the owner's tools ids, at most MaxAgentTools in
// all. Tools it has already are kept.
func (c *CustomTools) Attach(ctx context.Context, a Agent, ids ...int64) error {
	defer c.version.Add(1)
	return c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var have []int64
		if err := tx.NewSelect().Model((*sqldb.AgentTool)(nil)).Column("tool_id").Where("agent_id = ?", string(a.ID)).Scan(ctx, &have); err != nil {
			return workspaces.Internal("list agent tools", err)
		}
		var names []string // of the tools it has
		if len(have) > 0 {
			if err := tx.NewSelect().Model((*sqldb.CustomTool)(nil)).Column("name").Where("id IN (?)", bun.In(have)).Scan(ctx, &names); err != nil {
				return workspaces.Internal("list agent tools", err)
			}
		}
		for _, id := range ids {
			if slices.Contains(have, id) {
				continue
			}
			var name string
			err := tx.NewSelect().Model((*sqldb.CustomTool)(nil)).Column("name").Where("id = ? AND owner_id = ?", id, string(a.Owner)).Scan(ctx, &name)
			if sqldb.IsNoRows(err) {
				return workspaces.E(workspaces.KindNotFound, "Tool not found")
			}
			if err != nil {
				return workspaces.Internal("find tool", err)
			}
			if len(have) >= MaxAgentTools {
				return workspaces.Errorf(workspaces.KindInvalid, "An agent can have at most %d custom tools", MaxAgentTools)
			}
			if err := c.checkNames(name, names); err != nil {
				return err
			}
			row := &sqldb.AgentTool{AgentID: string(a.ID), ToolID: id, CreatedAt: c.now().UTC()}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return workspaces.Internal("attach tool", err)
			}
			have, names = append(have, id), append(names, name)
		}
		return nil
	})
}

// SetNamed makes agent a's custom tools those of its owner's whose names
// are in names (in any case), as seed 003's update_agent "tools" list
// them; names of no custom tool are skipped (they name built-in tools).
func (c *CustomTools) SetNamed(ctx context.Context, a Agent, names []string) error {
	ids, err := c.Named(ctx, a.Owner, names)
	if err != nil {
		return err
	}
	return c.SetIDs(ctx, a, ids)
}

// Named returns the ids of owner's custom tools that names name (by
// name, case aside, or by the name models see), checking them as
// SetNamed would without changing anything. Several tools the names
// reach with one model name (a tool made twice) give the newest; more
// than MaxAgentTools is an error.
func (c *CustomTools) Named(ctx context.Context, owner workspaces.UserID, names []string) ([]int64, error) {
	all, err := c.List(ctx, owner)
	if err != nil {
		return nil, err
	}
	byModel := map[string]int{} // lower-cased model name → index in ids
	ids := []int64{}
	for _, t := range all {
		for _, n := range names {
			if !strings.EqualFold(strings.TrimSpace(n), t.Name) && n != t.ModelName() {
				continue
			}
			key := strings.ToLower(t.ModelName())
			if j, ok := byModel[key]; ok {
				ids[j] = max(ids[j], t.ID)
			} else {
				byModel[key] = len(ids)
				ids = append(ids, t.ID)
			}
			break
		}
	}
	if len(ids) > MaxAgentTools {
		return nil, workspaces.Errorf(workspaces.KindInvalid, "An agent can have at most %d custom tools", MaxAgentTools)
	}
	return ids, nil
}

// SetIDs makes tools ids (from Named) agent a's custom tools.
func (c *CustomTools) SetIDs(ctx context.Context, a Agent, ids []int64) error {
	defer c.version.Add(1)
	q := c.db.NewDelete().Model((*sqldb.AgentTool)(nil)).Where("agent_id = ?", string(a.ID))
	if len(ids) > 0 {
		q = q.Where("tool_id NOT IN (?)", bun.In(ids))
	}
	if _, err := q.Exec(ctx); err != nil {
		return workspaces.Internal("detach tools", err)
	}
	return c.Attach(ctx, a, ids...)
}

// Detach takes tool id away from agent a.
func (c *CustomTools) Detach(ctx context.Context, a Agent, id int64) error {
	defer c.version.Add(1)
	res, err := c.db.NewDelete().Model((*sqldb.AgentTool)(nil)).Where("agent_id = ? AND tool_id = ?", string(a.ID), id).Exec(ctx)
	if err != nil {
		return workspaces.Internal("detach tool", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspaces.E(workspaces.KindNotFound, "Tool not found")
	}
	return nil
}

// OfAgent returns agent a's custom tools, in the order they were given.
func (c *CustomTools) OfAgent(ctx context.Context, a Agent) ([]CustomTool, error) {
	var rows []sqldb.CustomTool
	err := c.db.NewSelect().Model(&rows).
		Join("JOIN agent_tools AS at ON at.tool_id = custom_tool.id").
		Where("at.agent_id = ? AND custom_tool.owner_id = ?", string(a.ID), string(a.Owner)).
		OrderExpr("at.created_at, custom_tool.id").Scan(ctx)
	if err != nil {
		return nil, workspaces.Internal("list agent tools", err)
	}
	return customToolsFromRows(rows), nil
}

var toolMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// checkCustomTool validates t and fills its defaults.
func checkCustomTool(t *CustomTool) error {
	t.Name, t.Description = strings.TrimSpace(t.Name), strings.TrimSpace(t.Description)
	switch {
	case t.Name == "" || t.Description == "" || t.Type == "":
		return workspaces.E(workspaces.KindInvalid, "Tool name, description, and type cannot be empty")
	case utf8.RuneCountInString(t.Name) > maxToolNameLen || !printable(t.Name):
		return workspaces.Errorf(workspaces.KindInvalid, "The tool name must be printable text of at most %d characters", maxToolNameLen)
	case utf8.RuneCountInString(t.Description) > maxToolDescLen:
		return workspaces.Errorf(workspaces.KindInvalid, "The tool description must be at most %d characters", maxToolDescLen)
	case t.Type != ToolTypeCustom && t.Type != ToolTypeFileSearch:
		return workspaces.E(workspaces.KindInvalid, "Tool type must be 'File Search' or 'Custom'")
	case len(t.File) > maxToolFileBytes:
		return workspaces.Errorf(workspaces.KindTooLarge, "The tool's file must be at most %d MB", maxToolFileBytes>>20)
	}
	if len(t.Schema) > 0 && string(t.Schema) != "null" {
		if err := checkToolSchema(t.Schema); err != nil {
			return err
		}
		var buf bytes.Buffer
		if json.Compact(&buf, t.Schema) == nil {
			t.Schema = buf.Bytes()
		}
	} else {
		t.Schema = nil
	}
	for i, p := range t.Parameters {
		p.Name = strings.TrimSpace(p.Name)
		if p.Name == "" || len(p.Name) > maxToolNameLen {
			return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'parameters[%d].name': expected a name of 1 to %d characters", i, maxToolNameLen)
		}
		if p.Type == "" {
			p.Type = "string"
		}
		switch p.Type {
		case "string", "number", "integer", "boolean", "object", "array":
		default:
			return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'parameters[%d].type': expected string, number, integer, boolean, object or array", i)
		}
		t.Parameters[i] = p
	}
	return checkToolEndpoint(t)
}

// checkToolSchema accepts a JSON schema of an object's parameters.
func checkToolSchema(raw json.RawMessage) error {
	if len(raw) > maxToolSchemaBytes {
		return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'tool_schema': at most %d KB", maxToolSchemaBytes>>10)
	}
	var s struct {
		Type       any             `json:"type"`
		Properties json.RawMessage `json:"properties"`
		Required   json.RawMessage `json:"required"`
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil || json.Unmarshal(raw, &s) != nil {
		return workspaces.E(workspaces.KindInvalid, "Invalid value for 'tool_schema': expected a JSON schema object")
	}
	if s.Type != nil && s.Type != "object" {
		return workspaces.E(workspaces.KindInvalid, `Invalid value for 'tool_schema': the schema's type must be "object"`)
	}
	if len(s.Properties) > 0 {
		var props map[string]json.RawMessage
		if json.Unmarshal(s.Properties, &props) != nil {
			return workspaces.E(workspaces.KindInvalid, "Invalid value for 'tool_schema.properties': expected an object")
		}
	}
	if len(s.Required) > 0 {
		var req []string
		if json.Unmarshal(s.Required, &req) != nil {
			return workspaces.E(workspaces.KindInvalid, "Invalid value for 'tool_schema.required': expected a list of names")
		}
	}
	return nil
}

// checkToolEndpoint validates the HTTP part of t. Where the endpoint may
// lead (no private addresses) is checked when it is called.
func checkToolEndpoint(t *CustomTool) error {
	t.Endpoint = strings.TrimSpace(t.Endpoint)
	if t.Endpoint == "" {
		if len(t.Headers) > 0 || t.Method != "" {
			return workspaces.E(workspaces.KindInvalid, "Invalid value for 'endpoint': headers and method need an endpoint")
		}
		return nil
	}
	if t.Type != ToolTypeCustom {
		return workspaces.E(workspaces.KindInvalid, "Invalid value for 'endpoint': only Custom tools call an endpoint")
	}
	u, err := url.Parse(t.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(t.Endpoint) > 2048 {
		return workspaces.E(workspaces.KindInvalid, "Invalid value for 'endpoint': expected an http or https URL")
	}
	t.Method = strings.ToUpper(strings.TrimSpace(t.Method))
	if t.Method == "" {
		t.Method = http.MethodPost
	}
	if !slices.Contains(toolMethods, t.Method) {
		return workspaces.E(workspaces.KindInvalid, "Invalid value for 'method': expected GET, POST, PUT, PATCH or DELETE")
	}
	if len(t.Headers) > maxToolHeaders {
		return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'headers': at most %d headers", maxToolHeaders)
	}
	for k, v := range t.Headers {
		if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") || len(v) > 8192 {
			return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'headers': %q is not a valid header", k)
		}
	}
	if t.Timeout < 0 || t.Timeout > MaxToolTimeout {
		return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'timeout': expected 1 to %d seconds", int(MaxToolTimeout/time.Second))
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for _, r := range k {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	switch strings.ToLower(k) {
	case "host", "content-length", "transfer-encoding", "connection":
		return false
	}
	return true
}

func customToolRow(t CustomTool) *sqldb.CustomTool {
	row := &sqldb.CustomTool{ID: t.ID, OwnerID: string(t.Owner), Name: t.Name, Description: t.Description, Type: t.Type,
		FileName: t.FileName, FileData: t.File, Endpoint: t.Endpoint, Method: t.Method,
		TimeoutMS: int(t.Timeout / time.Millisecond), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if len(t.Schema) > 0 {
		s := string(t.Schema)
		row.ToolSchema = &s
	}
	if len(t.Parameters) > 0 {
		b, _ := json.Marshal(t.Parameters)
		s := string(b)
		row.Parameters = &s
	}
	if len(t.Headers) > 0 {
		b, _ := json.Marshal(t.Headers)
		s := string(b)
		row.Headers = &s
	}
	return row
}

func customToolFromRow(r *sqldb.CustomTool) CustomTool {
	t := CustomTool{ID: r.ID, Owner: workspaces.UserID(r.OwnerID), Name: r.Name, Description: r.Description, Type: r.Type,
		FileName: r.FileName, File: r.FileData, Endpoint: r.Endpoint, Method: r.Method,
		Timeout: time.Duration(r.TimeoutMS) * time.Millisecond, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.ToolSchema != nil {
		t.Schema = json.RawMessage(*r.ToolSchema)
	}
	if r.Parameters != nil {
		if err := json.Unmarshal([]byte(*r.Parameters), &t.Parameters); err != nil {
			t.Parameters = nil
		}
	}
	if r.Headers != nil {
		if err := json.Unmarshal([]byte(*r.Headers), &t.Headers); err != nil {
			t.Headers = nil
		}
	}
	return t
}

func customToolsFromRows(rows []sqldb.CustomTool) []CustomTool {
	out := make([]CustomTool, len(rows))
	for i := range rows {
		out[i] = customToolFromRow(&rows[i])
	}
	return out
}

// String names the tool for logs.
func (t CustomTool) String() string { return fmt.Sprintf("tool %d %q", t.ID, t.Name) }
