package query

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Session is a v2 session as the read side sees it. Its token is never
// here: only the check of one against the stored hash.
type Session struct {
	ID                string
	Creator           string
	UserID            string
	UserOrgID         string
	LoginName         string
	DisplayName       string
	UserCheckedAt     time.Time
	PasswordCheckedAt time.Time
	IntentCheckedAt   time.Time
	Metadata          map[string][]byte
	UserAgent         *events.UserAgent
	Expiration        time.Time
	Sequence          uint64
	Created           time.Time
	Changed           time.Time
}

const sessionColumns = `s.id, s.creator, s.user_id, s.user_resource_owner, s.user_checked_at, s.password_checked_at,
    s.intent_checked_at, s.metadata, s.user_agent, s.expiration, s.sequence, s.creation_date, s.change_date,
    coalesce(u.username, ''), coalesce(u.profile->>'displayName', '')`

const sessionFrom = ` FROM sessions s LEFT JOIN users u ON u.instance_id = s.instance_id AND u.id = s.user_id`

func scanSession(row pgx.Row, extra ...any) (*Session, error) {
	var s Session
	var uc, pc, ic, exp *time.Time
	var md, ua []byte
	var seq int64
	dest := append([]any{&s.ID, &s.Creator, &s.UserID, &s.UserOrgID, &uc, &pc, &ic, &md, &ua, &exp, &seq, &s.Created,
		&s.Changed, &s.LoginName, &s.DisplayName}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		src *time.Time
		dst *time.Time
	}{{uc, &s.UserCheckedAt}, {pc, &s.PasswordCheckedAt}, {ic, &s.IntentCheckedAt}, {exp, &s.Expiration}} {
		if t.src != nil {
			*t.dst = t.src.UTC()
		}
	}
	s.Sequence, s.Created, s.Changed = uint64(seq), s.Created.UTC(), s.Changed.UTC()
	if len(md) > 0 {
		if err := json.Unmarshal(md, &s.Metadata); err != nil {
			return nil, err
		}
	}
	if len(ua) > 0 && string(ua) != "null" {
		s.UserAgent = &events.UserAgent{}
		if err := json.Unmarshal(ua, s.UserAgent); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// SessionByID returns a session of the caller's instance (v2 GetSession).
// With token it must be the session's current token; without, the caller
// must be its creator or its user, or hold session.read. A terminated
// session is gone.
//
// Errors: Unauthenticated; NotFound QUERY-SFeaa; PermissionDenied
// COMMAND-sGr42 (wrong token) or AUTHZ-HKJD33.
func (q *Queries) SessionByID(ctx context.Context, id, token string) (*Session, error) {
	cl, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	var hash string
	s, err := scanSession(q.pool.QueryRow(ctx, `SELECT `+sessionColumns+`, s.token_hash`+sessionFrom+
		` WHERE s.instance_id = $1 AND s.id = $2`, cl.InstanceID, id), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-SFeaa", "Errors.Session.NotExisting")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-Ses01", fmt.Errorf("session %s: %w", id, err))
	}
	if token != "" {
		if subtle.ConstantTimeCompare([]byte(events.PATHash(token)), []byte(hash)) != 1 {
			return nil, errs.PermissionDenied("COMMAND-sGr42", "Errors.Session.Token.Invalid")
		}
		return s, nil
	}
	if s.Creator != cl.UserID && (s.UserID == "" || s.UserID != cl.UserID) {
		if err := cl.Check("session.read", ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SessionSearch is v2 ListSessions: every filter must hold.
type SessionSearch struct {
	Offset  uint64
	Limit   uint32 // 0: no limit
	Asc     bool   // creation order; newest first when false
	IDs     []string
	UserID  string
	Creator string
}

// SessionList is a page of sessions and the total that match.
type SessionList struct {
	Total     uint64
	Timestamp time.Time
	Sessions  []*Session
}

// ListSessions lists the sessions of the caller's instance that match s.
// Without session.read, only the sessions the caller created or is the
// user of are listed (as ZITADEL filters them).
//
// Errors: Unauthenticated; Internal.
func (q *Queries) ListSessions(ctx context.Context, s SessionSearch) (*SessionList, error) {
	cl, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	args := []any{cl.InstanceID}
	conds := []string{"s.instance_id = $1"}
	if !cl.Allowed("session.read", "") {
		args = append(args, cl.UserID)
		conds = append(conds, fmt.Sprintf("(s.creator = $%d OR s.user_id = $%d)", len(args), len(args)))
	}
	if len(s.IDs) > 0 {
		args = append(args, s.IDs)
		conds = append(conds, fmt.Sprintf("s.id = ANY($%d)", len(args)))
	}
	if s.UserID != "" {
		args = append(args, s.UserID)
		conds = append(conds, fmt.Sprintf("s.user_id = $%d", len(args)))
	}
	if s.Creator != "" {
		args = append(args, s.Creator)
		conds = append(conds, fmt.Sprintf("s.creator = $%d", len(args)))
	}
	order := "DESC"
	if s.Asc {
		order = "ASC"
	}
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	rows, err := q.pool.Query(ctx, `SELECT `+sessionColumns+`, count(*) OVER (), now()`+sessionFrom+
		` WHERE `+strings.Join(conds, " AND ")+` ORDER BY s.creation_date `+order+`, s.id `+order+
		fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return nil, errs.Internal("QUERY-Ses02", fmt.Errorf("list sessions: %w", err))
	}
	defer rows.Close()
	list := &SessionList{}
	var total int64
	for rows.Next() {
		se, err := scanSession(rows, &total, &list.Timestamp)
		if err != nil {
			return nil, errs.Internal("QUERY-Ses03", err)
		}
		list.Sessions = append(list.Sessions, se)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-Ses04", err)
	}
	list.Total = uint64(total)
	if err := q.fillTimestamp(ctx, &list.Timestamp); err != nil {
		return nil, err
	}
	return list, nil
}

// fillTimestamp sets a list's timestamp from the database when no row
// carried one.
func (q *Queries) fillTimestamp(ctx context.Context, ts *time.Time) error {
	if ts.IsZero() {
		if err := q.pool.QueryRow(ctx, `SELECT now()`).Scan(ts); err != nil {
			return errs.Internal("QUERY-Ses05", err)
		}
	}
	*ts = ts.UTC()
	return nil
}

// usersByLoginName is UserIDsByLoginName's query: two at most, since a
// login name that names several users names none.
const usersByLoginName = `SELECT id FROM users WHERE instance_id = $1 AND lower(username) = lower($2) ORDER BY id LIMIT 2`

// UserIDsByLoginNameLoad is UserIDsByLoginName as a read that the store
// runs with a decision's other reads, in the same round trip (for
// eventstore.LoadTypesNamed). It implements command.UserIndex.
func (q *Queries) UserIDsByLoginNameLoad(instanceID, loginName string) *eventstore.Load {
	return eventstore.LoadIDs(usersByLoginName, []any{instanceID, loginName}, func(ctx context.Context) ([]string, error) {
		return q.UserIDsByLoginName(ctx, instanceID, loginName)
	})
}

// UserIDsByLoginName returns the users of the instance whose login name
// (their user name) is loginName, case-insensitively. It implements
// command.UserIndex.
//
// Errors: Internal.
func (q *Queries) UserIDsByLoginName(ctx context.Context, instanceID, loginName string) ([]string, error) {
	rows, err := q.pool.Query(ctx, usersByLoginName, instanceID, loginName)
	if err != nil {
		return nil, errs.Internal("QUERY-Ses06", fmt.Errorf("users by login name: %w", err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errs.Internal("QUERY-Ses07", err)
	}
	return ids, nil
}
