package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
)

// Project is a project as the read table holds it.
type Project struct {
	ID            string
	ResourceOwner string
	Settings      events.ProjectPayload
	Sequence      uint64
	Created       time.Time
	Changed       time.Time
}

// App is an app of a project. Kind is "oidc" or "api". OIDC holds an OIDC
// app's config; APIAuthMethod an API app's auth method. SecretHash is the
// argon2id hash of the client secret ("" for none): the OP's, never
// rendered.
type App struct {
	ID            string
	ProjectID     string
	ResourceOwner string
	Name          string
	Kind          string
	ClientID      string
	SecretHash    string
	OIDC          events.OIDCConfig
	APIAuthMethod int
	Sequence      uint64
	Created       time.Time
	Changed       time.Time
}

// Client is an OIDC or API app found by its client ID, with what the OP
// needs of its project.
type Client struct {
	App
	ProjectRoleAssertion bool
	ProjectRoleCheck     bool
	HasProjectCheck      bool
}

const projectColumns = `id, resource_owner, name, project_role_assertion, project_role_check, has_project_check,
    private_labeling_setting, sequence, creation_date, change_date`

func scanProject(row pgx.Row) (*Project, error) {
	var p Project
	var seq int64
	var pls int16
	err := row.Scan(&p.ID, &p.ResourceOwner, &p.Settings.Name, &p.Settings.ProjectRoleAssertion, &p.Settings.ProjectRoleCheck,
		&p.Settings.HasProjectCheck, &pls, &seq, &p.Created, &p.Changed)
	p.Sequence, p.Settings.PrivateLabelingSetting = uint64(seq), int(pls)
	return &p, err
}

const appColumns = `a.id, a.project_id, a.resource_owner, a.name, a.kind, a.client_id, a.secret_hash, a.api_auth_method,
    a.config, a.sequence, a.creation_date, a.change_date`

func scanApp(row pgx.Row, extra ...any) (*App, error) {
	var a App
	var seq int64
	var auth int16
	var cfg []byte
	err := row.Scan(append([]any{&a.ID, &a.ProjectID, &a.ResourceOwner, &a.Name, &a.Kind, &a.ClientID, &a.SecretHash, &auth,
		&cfg, &seq, &a.Created, &a.Changed}, extra...)...)
	if err != nil {
		return nil, err
	}
	a.Sequence, a.APIAuthMethod = uint64(seq), int(auth)
	if err := json.Unmarshal(cfg, &a.OIDC); err != nil {
		return nil, fmt.Errorf("app %s config: %w", a.ID, err)
	}
	return &a, nil
}

// ProjectByID returns project id of the context org orgID (GetProjectByID).
//
// Errors: Unauthenticated; NotFound (AUTHZ-cdgFk) or PermissionDenied
// (AUTH-5mWD2) without project.read on orgID; NotFound (QUERY-PrjNF) for a
// project that is not in orgID; Internal on a database error.
func (q *Queries) ProjectByID(ctx context.Context, orgID, id string) (*Project, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("project.read", orgID); err != nil {
		return nil, err
	}
	p, err := scanProject(q.pool.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects
        WHERE instance_id = $1 AND id = $2 AND resource_owner = $3`, c.InstanceID, id, orgID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-PrjNF", "Errors.Project.NotFound")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-PrjR1", err)
	}
	return p, nil
}

// ListSearch is a v1 list request: paging and an optional name filter.
type ListSearch struct {
	Offset uint64
	Limit  uint32 // 0: no limit
	Asc    bool   // creation order; newest first when false
	Name   *NameFilter
}

// ProjectList is a page of projects and the total number that match.
type ProjectList struct {
	Total     uint64
	Timestamp time.Time
	Projects  []*Project
}

// SearchProjects lists the projects of the context org orgID.
//
// Errors: as ProjectByID's permission errors; InvalidArgument for an
// undefined text method; Internal on a database error.
func (q *Queries) SearchProjects(ctx context.Context, orgID string, s ListSearch) (*ProjectList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("project.read", orgID); err != nil {
		return nil, err
	}
	list := &ProjectList{}
	err = q.page(ctx, "projects", "", projectColumns, []any{c.InstanceID, orgID}, "instance_id = $1 AND resource_owner = $2",
		s, &list.Total, &list.Timestamp, func(rows pgx.Rows) error {
			p, err := scanProject(rows)
			list.Projects = append(list.Projects, p)
			return err
		})
	return list, err
}

// AppList is a page of apps and the total number that match.
type AppList struct {
	Total     uint64
	Timestamp time.Time
	Apps      []*App
}

// SearchApps lists the apps of project projectID of orgID (ListApps). A
// project that is not there has no apps.
//
// Errors: NotFound (AUTHZ-cdgFk) or PermissionDenied (AUTH-5mWD2) without
// project.app.read on orgID; InvalidArgument for an undefined text method;
// Internal on a database error.
func (q *Queries) SearchApps(ctx context.Context, orgID, projectID string, s ListSearch) (*AppList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("project.app.read", orgID); err != nil {
		return nil, err
	}
	list := &AppList{}
	err = q.page(ctx, "apps", "a", appColumns, []any{c.InstanceID, orgID, projectID},
		"a.instance_id = $1 AND a.resource_owner = $2 AND a.project_id = $3", s, &list.Total, &list.Timestamp,
		func(rows pgx.Rows) error {
			a, err := scanApp(rows)
			list.Apps = append(list.Apps, a)
			return err
		})
	return list, err
}

// page runs a v1 list over table (aliased alias) in one read-only
// snapshot: the count and the page, filtered by cond and s.Name.
func (q *Queries) page(ctx context.Context, table, alias, columns string, args []any, cond string, s ListSearch,
	total *uint64, ts *time.Time, scan func(pgx.Rows) error) error {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	if s.Name != nil {
		nc, arg, err := textCondition(p+"name", s.Name.Method, s.Name.Name, len(args)+1)
		if err != nil {
			return err
		}
		args, cond = append(args, arg), cond+" AND "+nc
	}
	from := table + " " + alias
	order := "DESC"
	if s.Asc {
		order = "ASC"
	}
	tx, err := q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return errs.Internal("QUERY-Lst0", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*), now() FROM `+from+` WHERE `+cond, args...).Scan(&n, ts); err != nil {
		return errs.Internal("QUERY-Lst1", fmt.Errorf("count %s: %w", table, err))
	}
	*total, *ts = uint64(n), ts.UTC()
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	rows, err := tx.Query(ctx, `SELECT `+columns+` FROM `+from+` WHERE `+cond+
		` ORDER BY `+p+`creation_date `+order+`, `+p+`id `+order+fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return errs.Internal("QUERY-Lst2", fmt.Errorf("list %s: %w", table, err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return errs.Internal("QUERY-Lst3", err)
		}
	}
	if err := rows.Err(); err != nil {
		return errs.Internal("QUERY-Lst4", err)
	}
	return nil
}

// AppByID returns app appID of project projectID of orgID (GetAppByID).
//
// Errors: the permission errors of SearchApps; NotFound (QUERY-AppNF) for
// an app that is not there; Internal on a database error.
func (q *Queries) AppByID(ctx context.Context, orgID, projectID, appID string) (*App, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("project.app.read", orgID); err != nil {
		return nil, err
	}
	a, err := scanApp(q.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM apps a
        WHERE a.instance_id = $1 AND a.id = $2 AND a.project_id = $3 AND a.resource_owner = $4`, c.InstanceID, appID, projectID, orgID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-AppNF", "Errors.Project.App.NotExisting")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-AppR1", err)
	}
	return a, nil
}

// ClientByID returns the app whose client ID is clientID in instanceID,
// with its project's settings and the hash of its secret, in one read: the
// OP's client lookup. It checks no caller (the client is the caller).
//
// Errors: NotFound (QUERY-CliNF) for an unknown client; Internal on a
// database error.
func (q *Queries) ClientByID(ctx context.Context, instanceID, clientID string) (*Client, error) {
	var cl Client
	a, err := scanApp(q.pool.QueryRow(ctx, `SELECT `+appColumns+`, p.project_role_assertion, p.project_role_check,
        p.has_project_check FROM apps a JOIN projects p ON p.instance_id = a.instance_id AND p.id = a.project_id
        WHERE a.instance_id = $1 AND a.client_id = $2 AND a.client_id <> ''`, instanceID, clientID),
		&cl.ProjectRoleAssertion, &cl.ProjectRoleCheck, &cl.HasProjectCheck)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-CliNF", "Errors.Project.App.NotExisting")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-CliR1", err)
	}
	cl.App = *a
	return &cl, nil
}

// AppOfClient implements command.ClientIndex: the project and app of a
// client ID.
func (q *Queries) AppOfClient(ctx context.Context, instanceID, clientID string) (projectID, appID string, ok bool, err error) {
	err = q.pool.QueryRow(ctx, `SELECT project_id, id FROM apps WHERE instance_id = $1 AND client_id = $2 AND client_id <> ''`,
		instanceID, clientID).Scan(&projectID, &appID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("find client %s: %w", clientID, err)
	}
	return projectID, appID, true, nil
}

// ProjectClientIDs returns the client IDs of every app of project
// projectID in instanceID, in creation order: with the project ID, the
// audience of a token issued to one of them (ZITADEL's
// audienceFromProjectID). It checks no caller.
//
// Errors: Internal on a database error.
func (q *Queries) ProjectClientIDs(ctx context.Context, instanceID, projectID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT client_id FROM apps WHERE instance_id = $1 AND project_id = $2 AND client_id <> ''
        ORDER BY creation_date, id`, instanceID, projectID)
	if err != nil {
		return nil, errs.Internal("QUERY-CliA1", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errs.Internal("QUERY-CliA2", err)
	}
	return ids, nil
}
