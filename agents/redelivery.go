package agents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// Two ways a run could be left without an end, and what closes them:
//
//   - Send and Ask store a message and its runs, then publish and queue
//     them. A process that dies in between (or a NATS that fails) leaves
//     the runs stored and never queued. Runners sweep for such messages
//     (Redeliver) and finish their delivery.
//   - The run queue hands a run out again when its runner goes silent. The
//     delivery after the last allowed one (bus.RunQueueConfig.MaxDeliver)
//     is not worked on: the runner records the run as failed (giveUp).

// redeliverBatch is how many undelivered messages one query of a sweep
// reads; a sweep gives up after redeliverErrors failed deliveries (NATS is
// likely away; the next sweep tries again), and otherwise goes past a
// message it cannot deliver.
const (
	redeliverBatch  = 100
	redeliverErrors = 3
)

// Redeliver finishes the delivery of the messages stored more than grace
// ago whose Send or Ask did not finish it: it publishes their
// message.created, queues their runs and marks them delivered, as a client
// sending again with the same client id would. It returns how many it
// delivered. Runners of several nodes that sweep at once take each message
// once; one whose delivery fails again is taken over again after grace.
//
// message.created is not published again when the failed delivery
// recorded that it went out, or when one of the runs has been claimed
// (runs are queued after it). Otherwise (the process died between the
// publish and the record) the message is announced a second time: same
// message id, next seq.
func (c *Conversations) Redeliver(ctx context.Context, grace time.Duration) (int, error) {
	now := c.now().UTC()
	cutoff := now.Add(-grace)
	seen := map[string]bool{}
	delivered := 0
	var errs []error
	for {
		var ids []string
		// "delivered = FALSE" is written out so SQLite uses the partial
		// index messages_undelivered_idx.
		err := c.db.NewSelect().Model((*sqldb.Message)(nil)).Column("id").
			Where("delivered = FALSE").Where("created_at < ?", cutoff).
			Where("(redelivered_at IS NULL OR redelivered_at < ?)", cutoff).
			OrderExpr("created_at, id").Limit(redeliverBatch).Scan(ctx, &ids)
		if err != nil {
			return delivered, fmt.Errorf("find undelivered messages: %w", err)
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id], fresh = true, fresh+1
			ok, err := c.redeliver(ctx, id, now, cutoff)
			if err != nil {
				if errs = append(errs, fmt.Errorf("redeliver message %s: %w", id, err)); len(errs) == redeliverErrors || ctx.Err() != nil {
					return delivered, errors.Join(errs...)
				}
			}
			if ok && err == nil {
				delivered++
			}
		}
		if len(ids) < redeliverBatch || fresh == 0 {
			return delivered, errors.Join(errs...)
		}
	}
}

// redeliver takes over the delivery of message id, unless another sweep
// took it after cutoff or it was delivered meanwhile, and finishes it.
func (c *Conversations) redeliver(ctx context.Context, id string, now, cutoff time.Time) (bool, error) {
	res, err := c.db.NewUpdate().Model((*sqldb.Message)(nil)).Set("redelivered_at = ?", now).
		Where("id = ?", id).Where("delivered = FALSE").
		Where("(redelivered_at IS NULL OR redelivered_at < ?)", cutoff).Exec(ctx)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	var row sqldb.Message
	if err := c.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return false, err
	}
	var runs []sqldb.Run
	if err := c.db.NewSelect().Model(&runs).Where("message_id = ?", id).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return false, err
	}
	s := Sent{Message: messageFromRow(&row), Seq: uint64(row.CreatedSeq)}
	var unclaimed []RunID
	var unclaimedAgents []string
	claimed := false
	for _, r := range runs {
		s.Runs = append(s.Runs, RunID(r.ID))
		s.agents = append(s.agents, r.AgentID)
		if r.Attempts > 0 || r.Delivery > 0 {
			claimed = true
		} else if RunStatus(r.Status) == RunQueued {
			unclaimed = append(unclaimed, RunID(r.ID))
			unclaimedAgents = append(unclaimedAgents, r.AgentID)
		}
	}
	if claimed {
		// A runner had one of its runs, so message.created went out (it
		// is published before any run is queued): queue the others.
		return true, c.queueRuns(ctx, s.Message.ID, unclaimed, unclaimedAgents)
	}
	if s.Message.Author != "" {
		if u, err := c.ws.User(ctx, s.Message.Author); err == nil {
			s.Message.AuthorEmail = u.Email
		}
	}
	return true, c.deliver(ctx, &s)
}

// redeliverLoop sweeps for undelivered messages at once, then every
// RedeliverEvery, until ctx is done.
func (r *Runner) redeliverLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.RedeliverEvery)
	defer t.Stop()
	for {
		n, err := r.conv.Redeliver(ctx, r.cfg.RedeliverAfter)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("redeliver messages", "delivered", n, "err", err)
		} else if n > 0 {
			r.cfg.Logger.Info("redelivered messages whose delivery was left unfinished", "delivered", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// giveUp records run id as failed because its deliveries ran out: the
// earlier delivery attempts each ended without an outcome (their runners
// died or went silent past the ack wait). The run ends as a failed run
// does: a stored answer with the error, and run.failed in its chat.
func (r *Runner) giveUp(ctx context.Context, d bus.RunDelivery, id RunID, delivery int) {
	db := r.conv.db
	// Take the run over without working on it: only this delivery may
	// finish it now.
	var run sqldb.Run
	err := db.QueryRowPrepared(ctx, nil, `UPDATE runs SET delivery = $1
		WHERE id = $2 AND status IN ($3, $4) AND delivery < $1
		RETURNING id, chat_id, workspace_id, agent_id, message_id, status, error, attempts, delivery, source, created_at, started_at, finished_at`,
		delivery, string(id), string(RunQueued), string(RunRunning)).
		Scan(&run.ID, &run.ChatID, &run.WorkspaceID, &run.AgentID, &run.MessageID, &run.Status, &run.Error,
			&run.Attempts, &run.Delivery, &run.Source, &run.CreatedAt, &run.StartedAt, &run.FinishedAt)
	if sqldb.IsNoRows(err) { // it ended after all, or its chat was deleted
		d.Term()
		return
	}
	if err != nil {
		r.cfg.Logger.Warn("give up run", "run", id, "err", err)
		d.NakWithDelay(time.Second)
		return
	}
	// Attempts counts the deliveries that started the run; others may
	// have been lost with their runner before it claimed the run.
	why := fmt.Sprintf("the run was attempted %d times and did not finish", run.Attempts)
	if run.Attempts == 0 {
		why = fmt.Sprintf("the run was delivered %d times and never started", delivery-1)
	}
	o := (&outcome{started: time.Now()}).fail("attempts_exhausted", why)
	if a, err := r.agents.get(ctx, db, run.AgentID, 0); err == nil {
		o.agent, o.model = a, a.ModelID // for the request log and agent.execution.failed
	}
	if err := r.finish(context.WithoutCancel(ctx), &run, o); err != nil {
		r.unfinished(d, run.ID, err)
		return
	}
	d.Ack()
}

// runDelivery is the delivery number of d: 1 for the first.
func runDelivery(d bus.RunDelivery) (int, error) {
	md, err := d.Metadata()
	if err != nil {
		return 0, err
	}
	return int(md.NumDelivered), nil
}
