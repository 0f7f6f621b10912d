package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The growth runs append their filler through the real event store (hash
// chain, inline projections, one transaction per append), in appends of
// fillerAggs aggregates × fillerPer events, so that the store they measure
// is one the server could have written.
const (
	fillerAggs = 250
	fillerPer  = 4
)

var fillerMeta = eventstore.Metadata{Creator: "idledger-bench", RequestID: "bench-filler"}

type aggHead struct {
	instance, id, owner string
	head                uint64
	changed             events.IDPChangedPayload // IdPs only: replayed as idp.changed
}

func countEvents(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n)
	return n, err
}

// loadHeads returns every aggregate of type typ with its head sequence and,
// for IdPs, the payload of its idp.added event.
func loadHeads(ctx context.Context, pool *pgxpool.Pool, typ string) ([]*aggHead, error) {
	rows, err := pool.Query(ctx, `SELECT e.instance_id, e.aggregate_id, e.resource_owner, h.head,
            CASE WHEN e.event_type = 'idp.added' THEN e.payload END
        FROM events e
        JOIN (SELECT instance_id, aggregate_id, max(sequence) AS head FROM events
              WHERE aggregate_type = $1 GROUP BY 1, 2) h USING (instance_id, aggregate_id)
        WHERE e.aggregate_type = $1 AND e.sequence = 1 AND e.event_type <> 'user.machine.added'`, typ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*aggHead
	for rows.Next() {
		a := &aggHead{}
		var head int64
		var payload []byte
		if err := rows.Scan(&a.instance, &a.id, &a.owner, &head, &payload); err != nil {
			return nil, err
		}
		a.head = uint64(head)
		if payload != nil {
			var p events.IDPAddedPayload
			if err := json.Unmarshal(payload, &p); err != nil {
				return nil, fmt.Errorf("idp %s: %w", a.id, err)
			}
			a.changed = events.IDPChangedPayload{Kind: p.Kind, Name: p.Name, Options: p.Options, Config: p.Config}
		} else if typ == events.AggIDP {
			continue // an IdP whose first event is not idp.added is not ours to touch
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// fillTo appends filler events until the store holds target events: half
// idp.changed on existing IdPs (an unchanged full replacement, as an admin
// saving a form would write), half link added/removed pairs on existing
// users. It returns the final count.
func fillTo(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, target int64, idpID string, tag string, log func(string, ...any)) (int64, error) {
	have, err := countEvents(ctx, pool)
	if err != nil {
		return 0, err
	}
	need := target - have
	if need <= 0 {
		return have, nil
	}
	idps, err := loadHeads(ctx, pool, events.AggIDP)
	if err != nil {
		return 0, fmt.Errorf("load IdPs: %w", err)
	}
	users, err := loadHeads(ctx, pool, events.AggUser)
	if err != nil {
		return 0, fmt.Errorf("load users: %w", err)
	}
	if len(idps) == 0 || len(users) == 0 {
		return 0, fmt.Errorf("filler needs seeded IdPs and users")
	}
	var appended atomic.Int64
	var ext atomic.Int64
	start := time.Now()
	kinds := []struct {
		aggs  []*aggHead
		typ   string
		event func(a *aggHead, i int) []eventstore.PendingEvent
	}{
		{idps, events.AggIDP, func(a *aggHead, _ int) []eventstore.PendingEvent {
			out := make([]eventstore.PendingEvent, fillerPer)
			for i := range out {
				out[i] = eventstore.PendingEvent{Type: events.IDPChanged, Payload: a.changed}
			}
			return out
		}},
		{users, events.AggUser, func(a *aggHead, _ int) []eventstore.PendingEvent {
			out := make([]eventstore.PendingEvent, 0, fillerPer)
			for len(out) < fillerPer {
				p := events.IDPLinkPayload{IDPID: idpID, ExternalUserID: fmt.Sprintf("fill-%s-%d", tag, ext.Add(1))}
				out = append(out, eventstore.PendingEvent{Type: events.UserIDPLinkAdded, Payload: p},
					eventstore.PendingEvent{Type: events.UserIDPLinkRemoved, Payload: p})
			}
			return out
		}},
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(kinds))
	for _, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := 0
			for appended.Load() < need && ctx.Err() == nil {
				a := eventstore.Append{Meta: fillerMeta}
				batch := make([]*aggHead, 0, fillerAggs)
				for len(batch) < min(fillerAggs, len(k.aggs)) {
					h := k.aggs[next%len(k.aggs)]
					next++
					batch = append(batch, h)
					a.Aggregates = append(a.Aggregates, eventstore.AggregateAppend{
						Aggregate:     eventstore.AggregateRef{InstanceID: h.instance, Type: k.typ, ID: h.id},
						ResourceOwner: h.owner, Expected: h.head, Events: k.event(h, next),
					})
				}
				if _, err := store.Append(ctx, a); err != nil {
					errc <- fmt.Errorf("filler append: %w", err)
					return
				}
				for _, h := range batch {
					h.head += fillerPer
				}
				n := appended.Add(int64(len(batch) * fillerPer))
				if n/100_000 != (n-int64(len(batch)*fillerPer))/100_000 {
					log("filler: %d/%d events (%.0f/s)", n, need, float64(n)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	log("filler: appended %d events in %s", appended.Load(), time.Since(start).Round(time.Millisecond))
	// The steady state of a store that grew over months: autovacuum has
	// run. Without this the first scans after a bulk load pay for it.
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return 0, fmt.Errorf("vacuum: %w", err)
	}
	return countEvents(ctx, pool)
}

// growUser appends n link added/removed events to one user, in appends of
// 1000 events, leaving no link behind: a long history with a small state.
func growUser(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, userID, idpID, tag string, n int) (uint64, error) {
	var instance, owner string
	var head int64
	if err := pool.QueryRow(ctx, `SELECT instance_id, resource_owner, max(sequence) FROM events
        WHERE aggregate_type = 'user' AND aggregate_id = $1 GROUP BY 1, 2`, userID).Scan(&instance, &owner, &head); err != nil {
		return 0, fmt.Errorf("user %s head: %w", userID, err)
	}
	seq := uint64(head)
	for done := 0; done < n; {
		var evs []eventstore.PendingEvent
		for len(evs) < 1000 && done+len(evs) < n {
			p := events.IDPLinkPayload{IDPID: idpID, ExternalUserID: fmt.Sprintf("hist-%s-%d", tag, done+len(evs))}
			evs = append(evs, eventstore.PendingEvent{Type: events.UserIDPLinkAdded, Payload: p},
				eventstore.PendingEvent{Type: events.UserIDPLinkRemoved, Payload: p})
		}
		_, err := store.Append(ctx, eventstore.Append{Meta: fillerMeta, Aggregates: []eventstore.AggregateAppend{{
			Aggregate:     eventstore.AggregateRef{InstanceID: instance, Type: events.AggUser, ID: userID},
			ResourceOwner: owner, Expected: seq, Events: evs,
		}}})
		if err != nil {
			return 0, fmt.Errorf("grow user history: %w", err)
		}
		seq += uint64(len(evs))
		done += len(evs)
	}
	return seq, nil
}

// linkOn adds a fresh link to the user chosen by pick, each iteration.
func linkOn(b *bench, pick func(i int) string) op {
	return func(ctx context.Context, w *worker) error {
		i := int(uniq.Add(1))
		u := pick(i)
		body, _ := json.Marshal(linkBody(b.fx.instIDPs[i%len(b.fx.instIDPs)], fmt.Sprintf("h-%s-%s-%d", b.tag, u, i)))
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/v2/users/"+u+"/links", "", body)
			return err
		})
	}
}
