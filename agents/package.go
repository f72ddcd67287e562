package agents

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// Package is a published version of an agent's package: what it takes to
// install the agent elsewhere (configuration, script; never its keys,
// conversations or logs).
type Package struct {
	Name      string
	Version   string
	Owner     workspaces.UserID
	AgentID   ID
	Manifest  PackageManifest
	CreatedAt time.Time
}

// PackageManifest is a package's content.
type PackageManifest struct {
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	ModelID       string          `json:"model_id"`
	AgentType     string          `json:"agent_type"`
	Configuration json.RawMessage `json:"configuration"`
	Script        string          `json:"script,omitempty"`
}

var (
	packageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	semver      = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)
)

// privateConfigKeys are configuration keys a package never carries: they
// point at the publisher's own things.
var privateConfigKeys = []string{"api_key_id"}

// PublishPackage publishes agent id, which caller must own, as version of
// package name (empty name: the agent's name with spaces as dashes). The
// first publisher of a name owns it; versions are x.y.z and immutable.
func (s *Service) PublishPackage(ctx context.Context, caller workspaces.UserID, id ID, name, version string) (Package, error) {
	a, err := s.Owned(ctx, caller, id)
	if err != nil {
		return Package{}, err
	}
	if name = strings.TrimSpace(name); name == "" {
		name = strings.Join(strings.Fields(a.Name), "-")
	}
	if !packageName.MatchString(name) {
		return Package{}, workspaces.E(workspaces.KindInvalid, "Invalid package name: use letters, digits, '.', '_' and '-', at most 100")
	}
	if !semver.MatchString(version) {
		return Package{}, workspaces.E(workspaces.KindInvalid, "Invalid version: expected MAJOR.MINOR.PATCH, such as 1.2.3")
	}
	var owner string
	err = s.db.NewSelect().Model((*sqldb.AgentPackage)(nil)).Column("owner_id").Where("name = ?", name).Limit(1).Scan(ctx, &owner)
	if err != nil && !sqldb.IsNoRows(err) {
		return Package{}, workspaces.Internal("find package", err)
	}
	if owner != "" && owner != string(caller) {
		return Package{}, workspaces.E(workspaces.KindConflict, "Package name '"+name+"' belongs to another user")
	}
	cfg := map[string]json.RawMessage{}
	json.Unmarshal([]byte(a.Config), &cfg)
	for _, k := range privateConfigKeys {
		delete(cfg, k)
	}
	rawCfg, _ := json.Marshal(cfg)
	m := PackageManifest{Name: a.Name, Description: a.Description, ModelID: a.ModelID, AgentType: a.Type, Configuration: rawCfg, Script: a.Script}
	manifest, _ := json.Marshal(m)
	agentID := string(a.ID)
	row := &sqldb.AgentPackage{ID: workspaces.NewID(), Name: name, Version: version, OwnerID: string(caller), AgentID: &agentID,
		Manifest: string(manifest), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return Package{}, workspaces.E(workspaces.KindConflict, "Package "+name+":"+version+" already exists; versions cannot change")
		}
		return Package{}, workspaces.Internal("publish package", err)
	}
	return Package{Name: name, Version: version, Owner: caller, AgentID: a.ID, Manifest: m, CreatedAt: row.CreatedAt}, nil
}

// FindPackage returns version of package name, or its latest version when
// version is empty (by version number, not by date). Not found is
// KindNotFound.
func (s *Service) FindPackage(ctx context.Context, name, version string) (Package, error) {
	if !validText(name) || !validText(version) { // no package has such a name
		return Package{}, workspaces.E(workspaces.KindNotFound, "Package not found")
	}
	var rows []sqldb.AgentPackage
	q := s.db.NewSelect().Model(&rows).Where("name = ?", name)
	if version != "" {
		q = q.Where("version = ?", version)
	}
	if err := q.Scan(ctx); err != nil {
		return Package{}, workspaces.Internal("find package", err)
	}
	if len(rows) == 0 {
		return Package{}, workspaces.E(workspaces.KindNotFound, "Package not found")
	}
	best := 0
	for i := range rows {
		if versionLess(rows[best].Version, rows[i].Version) {
			best = i
		}
	}
	r := rows[best]
	p := Package{Name: r.Name, Version: r.Version, Owner: workspaces.UserID(r.OwnerID), CreatedAt: r.CreatedAt}
	if r.AgentID != nil {
		p.AgentID = ID(*r.AgentID)
	}
	if err := json.Unmarshal([]byte(r.Manifest), &p.Manifest); err != nil {
		return Package{}, workspaces.Internal("read package", err)
	}
	return p, nil
}

// Install creates a draft agent for caller from package p.
func (s *Service) Install(ctx context.Context, caller workspaces.UserID, p Package) (Agent, error) {
	m := p.Manifest
	cfg := string(m.Configuration)
	if cfg == "" || cfg == "null" {
		cfg = "{}"
	}
	return s.Create(ctx, caller, NewAgent{Name: m.Name, Description: m.Description, ModelID: m.ModelID, Type: m.AgentType, Config: cfg, Script: m.Script})
}

// versionLess compares x.y.z versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
