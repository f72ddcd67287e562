package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// DefaultSchedule returns the default waits between a delivery's attempts:
// 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 16 h. That is 8 attempts over about
// 23 hours; each wait gets up to 10% more at random, so retries to one
// endpoint spread out.
func DefaultSchedule() []time.Duration {
	return []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 16 * time.Hour}
}

// UserAgent is the User-Agent of deliveries.
const UserAgent = "Atrium-Webhooks/1 (+https://github.com/atrium-hq/atrium)"

// WorkerConfig tunes a Worker. The zero value works.
type WorkerConfig struct {
	// Schedule is the waits between attempts: a delivery gets
	// len(Schedule)+1 attempts. Nil means DefaultSchedule.
	Schedule []time.Duration
	// Timeout bounds one attempt, the answer's body included; an answer
	// that comes later is a failure. Zero means 15 seconds. The queue's
	// AckWait must be longer.
	Timeout time.Duration
	// Concurrency is how many deliveries this worker sends at once. Zero
	// means 16.
	Concurrency int
	// Allow lists the internal hosts, IPs and CIDR prefixes deliveries may
	// reach anyway (safehttp.Config.Allow, normally the operator's
	// ATRIUM_TOOLS_ALLOW_HOSTS); all others are refused.
	Allow []string
	// Retention is how long finished deliveries are kept in the log. Zero
	// means 30 days; negative, forever.
	Retention time.Duration
	// Logger receives failures of the worker itself. Nil discards.
	Logger *slog.Logger
}

// Worker sends queued deliveries. Any number of workers, on any nodes,
// share the queue; each delivery is with one of them at a time.
type Worker struct {
	svc    *Service
	queue  *bus.WebhookQueue
	client *safehttp.Client
	cfg    WorkerConfig
}

// NewWorker returns a worker sending svc's deliveries from queue.
func NewWorker(svc *Service, queue *bus.WebhookQueue, cfg WorkerConfig) *Worker {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule()
	}
	cfg.Schedule = slices.Clone(cfg.Schedule)
	for i, d := range cfg.Schedule {
		cfg.Schedule[i] = max(d, 0)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Retention == 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client := safehttp.New(safehttp.Config{
		Allow:   cfg.Allow,
		Timeout: cfg.Timeout,
		// A redirect is an answer like any other non-2xx: following it
		// would resend the payload somewhere its owner did not name.
		MaxRedirects: -1,
		MaxBodyBytes: maxDrain,
		UserAgent:    UserAgent,
	})
	return &Worker{svc: svc, queue: queue, client: client, cfg: cfg}
}

// Run sends deliveries until ctx ends, then returns once the attempts in
// flight are over. Attempts cut short by ctx are not logged: their
// deliveries go back to the queue for another worker.
func (w *Worker) Run(ctx context.Context) error {
	if w.cfg.Retention > 0 {
		ctx, stop := context.WithCancel(ctx)
		purged := make(chan struct{})
		go func() { defer close(purged); w.purge(ctx) }()
		defer func() { stop(); <-purged }()
	}
	return w.queue.Consume(ctx, w.cfg.Concurrency, w.handle)
}

// retryLater is how long a delivery waits when the worker itself failed
// (the database did not answer).
const retryLater = 5 * time.Second

// handle makes the attempt msg is due for, if any, and answers the queue.
func (w *Worker) handle(ctx context.Context, msg bus.WebhookDelivery) {
	var q queued
	if err := json.Unmarshal(msg.Data(), &q); err != nil || q.Delivery == "" {
		w.cfg.Logger.Error("webhook: dropped a malformed queue message", "subject", msg.Subject(), "err", err)
		msg.Term()
		return
	}
	d, ep, err := w.svc.target(ctx, q.Delivery)
	switch {
	case sqldb.IsNoRows(err):
		msg.Ack() // deleted with its endpoint
		return
	case err != nil && ctx.Err() != nil:
		msg.Nak() // shutting down
		return
	case err != nil:
		w.cfg.Logger.Error("webhook: load delivery", "delivery", q.Delivery, "err", err)
		msg.NakWithDelay(retryLater)
		return
	case d.Round != q.Round || d.Status != string(DeliveryPending):
		msg.Ack() // done, or superseded by a manual redelivery
		return
	}
	if d.NextAttemptAt != nil {
		if wait := time.Until(*d.NextAttemptAt); wait > 0 {
			msg.NakWithDelay(wait) // handed out early (after a restart)
			return
		}
	}
	var res result
	if !ep.Enabled && d.Event != EventTest {
		res = result{err: errors.New("the webhook is disabled"), final: true}
	} else {
		res = w.send(ctx, ep, d)
		if res.err != nil && ctx.Err() != nil {
			msg.Nak() // shutting down: another worker makes this attempt
			return
		}
		w.judge(&res, d)
	}
	if err := w.svc.record(context.WithoutCancel(ctx), ep, d, res); err != nil {
		w.cfg.Logger.Error("webhook: record attempt", "delivery", d.ID, "err", err)
		msg.NakWithDelay(retryLater)
		return
	}
	switch {
	case res.final:
		msg.Ack()
	case res.retryIn > 0:
		msg.NakWithDelay(res.retryIn)
	default:
		msg.Nak()
	}
}

// result is the outcome of one attempt.
type result struct {
	at       time.Time
	status   int // 0: no answer
	duration time.Duration
	body     string
	err      error // nil: success
	// final: no more attempts (success, 410, refused address, disabled,
	// schedule used up); otherwise retryIn says when the next one is.
	final   bool
	retryIn time.Duration
	disable string // non-empty: disable the endpoint, for this reason
}

// Bounds of what is read of an answer.
const (
	maxExcerpt = 1024     // bytes of the body kept in the log
	maxDrain   = 64 << 10 // bytes read so the connection can be reused
)

// send makes one attempt: it POSTs d's payload to ep, signed.
func (w *Worker) send(ctx context.Context, ep *sqldb.WebhookEndpoint, d *sqldb.WebhookDelivery) result {
	res := result{at: time.Now()}
	msgID := messageID(DeliveryID(d.ID))
	sig, err := signatures(signingSecrets(ep, res.at), msgID, res.at, []byte(d.Payload))
	if err != nil {
		res.err = fmt.Errorf("cannot sign: %w", err)
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(d.Payload))
	if err != nil {
		res.err = fmt.Errorf("bad url: %w", err)
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, msgID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(res.at.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		res.duration, res.err = time.Since(res.at), w.explain(err)
		return res
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	io.Copy(io.Discard, resp.Body) // up to maxDrain, so the connection is reused
	resp.Body.Close()
	res.duration, res.status, res.body = time.Since(res.at), resp.StatusCode, cleanText(excerpt, len(excerpt) == maxExcerpt)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.err = fmt.Errorf("the endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return res
}

// explain turns a client error into a sentence for the delivery log,
// without the "Post <url>:" prefix the log shows anyway.
func (w *Worker) explain(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("no answer within %v", w.cfg.Timeout)
		}
		return ue.Err
	}
	return err
}

// judge decides what follows res: success, a retry, or giving up.
func (w *Worker) judge(res *result, d *sqldb.WebhookDelivery) {
	switch {
	case res.err == nil:
		res.final = true
	case res.status == http.StatusGone:
		res.final = true
		res.disable = fmt.Sprintf("The endpoint answered 410 Gone on %s", res.at.UTC().Format(time.RFC3339))
		res.err = errors.New("the endpoint answered 410 Gone: the webhook is now disabled")
	case errors.Is(res.err, safehttp.ErrBlocked), errors.Is(res.err, safehttp.ErrBadURL):
		// Retrying cannot help until the operator allows the address
		// (and restarts), so the delivery fails now and says why.
		res.final = true
	case d.RoundAttempts < len(w.cfg.Schedule):
		wait := w.cfg.Schedule[d.RoundAttempts]
		res.retryIn = wait + time.Duration(rand.Int64N(int64(wait)/10+1))
	default:
		res.final = true
	}
}

// target loads delivery id and its endpoint.
func (s *Service) target(ctx context.Context, id DeliveryID) (*sqldb.WebhookDelivery, *sqldb.WebhookEndpoint, error) {
	var d sqldb.WebhookDelivery
	if err := s.db.NewSelect().Model(&d).Where("id = ?", string(id)).Scan(ctx); err != nil {
		return nil, nil, err
	}
	var ep sqldb.WebhookEndpoint
	if err := s.db.NewSelect().Model(&ep).Where("id = ?", d.EndpointID).Scan(ctx); err != nil {
		return nil, nil, err
	}
	return &d, &ep, nil
}

// record logs the attempt res (when one was made) and moves d on: to its
// next attempt, or to success or failure. It changes nothing when d was
// redelivered by hand meanwhile.
func (s *Service) record(ctx context.Context, ep *sqldb.WebhookEndpoint, d *sqldb.WebhookDelivery, res result) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	status, errText := DeliverySucceeded, ""
	if res.err != nil {
		status, errText = DeliveryFailed, res.err.Error()
	}
	var next *time.Time
	if !res.final {
		status = DeliveryPending
		t := now.Add(res.retryIn)
		next = &t
	}
	attempted := !res.at.IsZero()
	if res.disable != "" {
		defer s.cache.change(workspaces.UserID(ep.OwnerID))()
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*sqldb.WebhookDelivery)(nil)).
			Set("status = ?", string(status)).Set("next_attempt_at = ?", next).
			Set("last_status_code = ?", res.status).Set("last_error = ?", errText).Set("updated_at = ?", now).
			Where("id = ? AND round = ?", d.ID, d.Round)
		if attempted {
			q = q.Set("attempts = attempts + 1").Set("round_attempts = round_attempts + 1")
		}
		r, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 || !attempted {
			return nil
		}
		a := &sqldb.WebhookAttempt{
			ID: workspaces.NewID(), DeliveryID: d.ID, Attempt: d.Attempts + 1, StatusCode: res.status,
			DurationMS: res.duration.Milliseconds(), Error: errText, ResponseBody: res.body, CreatedAt: res.at.UTC().Truncate(time.Microsecond),
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return err
		}
		if res.disable == "" {
			return nil
		}
		_, err = tx.NewUpdate().Model((*sqldb.WebhookEndpoint)(nil)).
			Set("enabled = ?", false).Set("disabled_reason = ?", res.disable).Set("updated_at = ?", now).
			Where("id = ?", ep.ID).Exec(ctx)
		return err
	})
	return err
}

// purge deletes finished deliveries older than the retention every hour
// until ctx ends. Every worker does it; the deletes are idempotent.
func (w *Worker) purge(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := time.Now().UTC().Add(-w.cfg.Retention)
		_, err := w.svc.db.NewDelete().Model((*sqldb.WebhookDelivery)(nil)).
			Where("created_at < ? AND status <> ?", cutoff, string(DeliveryPending)).Exec(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("webhook: purge old deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cleanText makes an answer's excerpt storable: valid UTF-8 without NUL
// (which PostgreSQL's TEXT refuses). cut says b was cut short, maybe inside
// a character, which is then dropped.
func cleanText(b []byte, cut bool) string {
	if cut {
		for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(bytes.TrimSpace(b)), "\uFFFD"), "\x00", "")
}
