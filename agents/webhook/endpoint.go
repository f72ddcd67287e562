package webhook

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// EndpointID identifies an endpoint.
type EndpointID string

// EventTest is the event of the pings POST /api/webhooks/{id}/test/ sends.
// A test ping goes through the normal path (queue, signature, retries) but
// ignores the endpoint's filters, and reaches a disabled endpoint too.
const EventTest = "webhook.test"

// Events returns the events an endpoint may subscribe to, in their
// canonical order.
func Events() []string {
	return []string{agents.NotifyAgentCreated, agents.NotifyExecutionStarted, agents.NotifyExecutionDone, agents.NotifyToolInvoked,
		agents.NotifyIndexed, agents.NotifyIndexFailed}
}

// Endpoint is a URL a user wants notified of their agents' events.
type Endpoint struct {
	ID    EndpointID
	Owner workspaces.UserID
	// Agent limits the endpoint to one agent; "" means all the owner's.
	Agent agents.ID
	URL   string
	// Description is the owner's note.
	Description string
	// Events are the events sent, in canonical order; empty means all.
	Events []string
	// Enabled endpoints receive events. DisabledReason says why an
	// endpoint was disabled by Atrium (a 410 Gone answer); it is empty when
	// its owner disabled it.
	Enabled        bool
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Secret is the signing secret ("whsec_…"): set only in what Create
	// and RotateSecret return.
	Secret string
}

// Wants reports whether e is sent event for agent.
func (e Endpoint) Wants(event string, agent agents.ID) bool {
	return e.Enabled && (e.Agent == "" || e.Agent == agent) && (len(e.Events) == 0 || slices.Contains(e.Events, event))
}

// NewEndpoint holds what Create needs.
type NewEndpoint struct {
	URL         string
	Description string
	// Agent is one agent the owner owns, or "" for all of them.
	Agent agents.ID
	// Events to send; empty means all.
	Events []string
	// Enabled nil means true.
	Enabled *bool
}

// EndpointUpdate is a change to an endpoint; nil fields stay as they are.
type EndpointUpdate struct {
	URL         *string
	Description *string
	// Agent, when set, is the new agent; a pointer to "" means all agents.
	Agent   *agents.ID
	Events  *[]string
	Enabled *bool
}

// Agents finds the agents a user owns.
type Agents interface {
	Owned(ctx context.Context, caller workspaces.UserID, id agents.ID) (agents.Agent, error)
}

// Queue takes deliveries for the workers; *bus.WebhookQueue is one.
type Queue interface {
	Enqueue(ctx context.Context, endpoint, id string, data []byte) error
}

// Config tunes a Service. The zero value works.
type Config struct {
	// CacheTTL is how long an owner's endpoints are reused to match
	// notifications: a change made on another node is seen this late (on
	// this node at once). Zero means 5 seconds; negative, no cache.
	CacheTTL time.Duration
	// Buffer is how many notifications may wait for the dispatcher before
	// new ones are dropped (and logged). Zero means 4096.
	Buffer int
	// MaxEndpoints is how many endpoints one user may have. Zero means 100.
	MaxEndpoints int
	// RotationGrace is how long the previous secret still signs (as a
	// second signature) after a rotation, so receivers can switch without
	// losing deliveries. Zero means 24 hours; negative, not at all.
	RotationGrace time.Duration
	// Logger receives dispatch failures. Nil discards.
	Logger *slog.Logger
}

// Service manages endpoints and deliveries, and is the agents.Notifier
// that turns notifications into deliveries. Safe for concurrent use; Run
// must be running for notifications to be dispatched.
type Service struct {
	db      *sqldb.DB
	agents  Agents
	queue   Queue
	cfg     Config
	now     func() time.Time
	pending chan notice
	cache   endpointCache
	// dropped counts notifications dropped since the last warning.
	dropped atomic.Int64
	// lastDropLog is the unix nanoseconds of the last drop warning.
	lastDropLog atomic.Int64
}

var _ agents.Notifier = (*Service)(nil)

// New returns a Service storing endpoints in db, checking agent ownership
// with ag and queueing deliveries on queue.
func New(db *sqldb.DB, ag Agents, queue Queue, cfg Config) *Service {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 4096
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = 100
	}
	if cfg.RotationGrace == 0 {
		cfg.RotationGrace = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		db: db, agents: ag, queue: queue, cfg: cfg, now: time.Now,
		pending: make(chan notice, cfg.Buffer),
		cache:   endpointCache{ttl: cfg.CacheTTL, m: map[workspaces.UserID]cacheEntry{}},
	}
}

// Limits of an endpoint's fields.
const (
	maxURL         = 2048
	maxDescription = 1000
)

var errNotFound = workspaces.E(workspaces.KindNotFound, "Webhook not found")

// checkURL returns raw trimmed if it is an absolute http(s) URL with a
// host and no user info. Whether its address may be reached is decided
// when delivering (DNS may change in between).
func checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", workspaces.E(workspaces.KindInvalid, "url is required")
	case len(raw) > maxURL:
		return "", workspaces.Errorf(workspaces.KindInvalid, "url is longer than %d characters", maxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		return "", workspaces.E(workspaces.KindInvalid, "url must be an http:// or https:// URL")
	case u.Hostname() == "":
		return "", workspaces.E(workspaces.KindInvalid, "url has no host")
	case u.User != nil:
		return "", workspaces.E(workspaces.KindInvalid, "url must not contain a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", workspaces.E(workspaces.KindInvalid, "url must not contain a fragment (#…)")
	}
	return raw, nil
}

func checkDescription(d string) error {
	if !utf8.ValidString(d) || strings.ContainsRune(d, 0) {
		return workspaces.E(workspaces.KindInvalid, "description must be UTF-8 text without NUL characters")
	}
	if utf8.RuneCountInString(d) > maxDescription {
		return workspaces.Errorf(workspaces.KindInvalid, "description is longer than %d characters", maxDescription)
	}
	return nil
}

// checkEvents returns events without duplicates in canonical order, or an
// error naming the first unknown one.
func checkEvents(events []string) ([]string, error) {
	all := Events()
	want := map[string]bool{}
	for _, e := range events {
		if !slices.Contains(all, e) {
			return nil, workspaces.Errorf(workspaces.KindInvalid, "Unknown event '%s' (want %s)", e, strings.Join(all, ", "))
		}
		want[e] = true
	}
	out := []string{}
	for _, e := range all {
		if want[e] {
			out = append(out, e)
		}
	}
	return out, nil
}

// checkAgent returns agent as a column value: nil for all agents, or its
// id when owner owns it.
func (s *Service) checkAgent(ctx context.Context, owner workspaces.UserID, agent agents.ID) (*string, error) {
	if agent == "" {
		return nil, nil
	}
	if _, err := s.agents.Owned(ctx, owner, agent); err != nil {
		if workspaces.ErrorKind(err) == workspaces.KindNotFound {
			return nil, workspaces.Errorf(workspaces.KindInvalid, "Unknown agent_id '%s': you own no agent with this id", agent)
		}
		return nil, err
	}
	id := string(agent)
	return &id, nil
}

// Create registers an endpoint for owner. The result carries its secret,
// which is not shown again.
func (s *Service) Create(ctx context.Context, owner workspaces.UserID, n NewEndpoint) (Endpoint, error) {
	u, err := checkURL(n.URL)
	if err != nil {
		return Endpoint{}, err
	}
	if err := checkDescription(n.Description); err != nil {
		return Endpoint{}, err
	}
	events, err := checkEvents(n.Events)
	if err != nil {
		return Endpoint{}, err
	}
	agent, err := s.checkAgent(ctx, owner, n.Agent)
	if err != nil {
		return Endpoint{}, err
	}
	count, err := s.db.NewSelect().Model((*sqldb.WebhookEndpoint)(nil)).Where("owner_id = ?", string(owner)).Count(ctx)
	if err != nil {
		return Endpoint{}, workspaces.Internal("count webhooks", err)
	}
	if count >= int64(s.cfg.MaxEndpoints) {
		return Endpoint{}, workspaces.Errorf(workspaces.KindInvalid, "You have %d webhooks, the most allowed; delete one first", count)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	row := &sqldb.WebhookEndpoint{
		ID: workspaces.NewID(), OwnerID: string(owner), AgentID: agent, URL: u, Description: n.Description,
		Events: strings.Join(events, ","), Enabled: n.Enabled == nil || *n.Enabled, Secret: NewSecret(),
		CreatedAt: now, UpdatedAt: now,
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return Endpoint{}, workspaces.Internal("create webhook", err)
	}
	s.cache.forget(owner)
	e := endpointFromRow(row)
	e.Secret = row.Secret
	return e, nil
}

// List returns owner's endpoints, oldest first.
func (s *Service) List(ctx context.Context, owner workspaces.UserID) ([]Endpoint, error) {
	var rows []sqldb.WebhookEndpoint
	if err := s.db.NewSelect().Model(&rows).Where("owner_id = ?", string(owner)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list webhooks", err)
	}
	out := make([]Endpoint, len(rows))
	for i := range rows {
		out[i] = endpointFromRow(&rows[i])
	}
	return out, nil
}

// Get returns owner's endpoint id; anyone else's is not found.
func (s *Service) Get(ctx context.Context, owner workspaces.UserID, id EndpointID) (Endpoint, error) {
	row, err := s.ownedRow(ctx, owner, id)
	if err != nil {
		return Endpoint{}, err
	}
	return endpointFromRow(row), nil
}

func (s *Service) ownedRow(ctx context.Context, owner workspaces.UserID, id EndpointID) (*sqldb.WebhookEndpoint, error) {
	if !workspaces.ValidID(string(id)) {
		return nil, errNotFound
	}
	var row sqldb.WebhookEndpoint
	err := s.db.NewSelect().Model(&row).Where("id = ? AND owner_id = ?", string(id), string(owner)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, workspaces.Internal("get webhook", err)
	}
	return &row, nil
}

// Update changes owner's endpoint id. Enabling it clears DisabledReason.
func (s *Service) Update(ctx context.Context, owner workspaces.UserID, id EndpointID, u EndpointUpdate) (Endpoint, error) {
	row, err := s.ownedRow(ctx, owner, id)
	if err != nil {
		return Endpoint{}, err
	}
	if u.URL != nil {
		if row.URL, err = checkURL(*u.URL); err != nil {
			return Endpoint{}, err
		}
	}
	if u.Description != nil {
		if err := checkDescription(*u.Description); err != nil {
			return Endpoint{}, err
		}
		row.Description = *u.Description
	}
	if u.Events != nil {
		events, err := checkEvents(*u.Events)
		if err != nil {
			return Endpoint{}, err
		}
		row.Events = strings.Join(events, ",")
	}
	if u.Agent != nil {
		if row.AgentID, err = s.checkAgent(ctx, owner, *u.Agent); err != nil {
			return Endpoint{}, err
		}
	}
	if u.Enabled != nil {
		row.Enabled = *u.Enabled
		row.DisabledReason = ""
	}
	row.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	res, err := s.db.NewUpdate().Model(row).
		Column("url", "description", "events", "agent_id", "enabled", "disabled_reason", "updated_at").
		Where("id = ? AND owner_id = ?", row.ID, row.OwnerID).Exec(ctx)
	if err != nil {
		return Endpoint{}, workspaces.Internal("update webhook", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Endpoint{}, errNotFound
	}
	s.cache.forget(owner)
	return endpointFromRow(row), nil
}

// Delete removes owner's endpoint id with its delivery log; its queued
// deliveries are dropped when they come up.
func (s *Service) Delete(ctx context.Context, owner workspaces.UserID, id EndpointID) error {
	if !workspaces.ValidID(string(id)) {
		return errNotFound
	}
	res, err := s.db.NewDelete().Model((*sqldb.WebhookEndpoint)(nil)).Where("id = ? AND owner_id = ?", string(id), string(owner)).Exec(ctx)
	if err != nil {
		return workspaces.Internal("delete webhook", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	s.cache.forget(owner)
	return nil
}

// RotateSecret gives owner's endpoint id a new secret and returns it with
// the endpoint. The previous secret still signs, as a second signature,
// for Config.RotationGrace.
func (s *Service) RotateSecret(ctx context.Context, owner workspaces.UserID, id EndpointID) (Endpoint, error) {
	row, err := s.ownedRow(ctx, owner, id)
	if err != nil {
		return Endpoint{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	row.PreviousSecret, row.PreviousSecretUntil = "", nil
	if s.cfg.RotationGrace > 0 {
		until := now.Add(s.cfg.RotationGrace)
		row.PreviousSecret, row.PreviousSecretUntil = row.Secret, &until
	}
	row.Secret, row.UpdatedAt = NewSecret(), now
	res, err := s.db.NewUpdate().Model(row).Column("secret", "previous_secret", "previous_secret_until", "updated_at").
		Where("id = ? AND owner_id = ?", row.ID, row.OwnerID).Exec(ctx)
	if err != nil {
		return Endpoint{}, workspaces.Internal("rotate webhook secret", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Endpoint{}, errNotFound
	}
	e := endpointFromRow(row)
	e.Secret = row.Secret
	return e, nil
}

// signingSecrets returns the secrets that sign a delivery at now: the
// current one, and the previous one during its grace period.
func signingSecrets(row *sqldb.WebhookEndpoint, now time.Time) []string {
	out := []string{row.Secret}
	if row.PreviousSecret != "" && row.PreviousSecretUntil != nil && now.Before(*row.PreviousSecretUntil) {
		out = append(out, row.PreviousSecret)
	}
	return out
}

func endpointFromRow(r *sqldb.WebhookEndpoint) Endpoint {
	e := Endpoint{
		ID: EndpointID(r.ID), Owner: workspaces.UserID(r.OwnerID), URL: r.URL, Description: r.Description,
		Events: splitEvents(r.Events), Enabled: r.Enabled, DisabledReason: r.DisabledReason,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.AgentID != nil {
		e.Agent = agents.ID(*r.AgentID)
	}
	return e
}

func splitEvents(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
