package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/idledger/idledger/idp"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bench is everything the scenarios share.
type bench struct {
	c      *client
	rpc    *rpcClient    // the same caller over gRPC (h2c)
	app    *pgxpool.Pool // the server's pool (traced)
	base   *pgxpool.Pool // the baseline's pool: same size, not traced
	tracer *sqlTracer
	fx     *fixture
	tag    string // unique per run, so repeated runs never collide
	cfg    config
}

// scenario is one measured workload and its raw-SQL baseline.
type scenario struct {
	name string
	// app returns the op that drives the server.
	app func(b *bench) op
	// baseline returns the raw-SQL op and the SQL it runs (for the report).
	baseline func(ctx context.Context, b *bench) (op, []string, error)
	// expectRPS sizes the latency buffers.
	expectRPS int
	// rest names the REST scenario that a gRPC scenario does the same work
	// as; the report gives the ratio of their rps at each concurrency.
	rest string
	// probe, when set, runs once before the scenario; an Unimplemented
	// answer skips the scenario (a method not served yet) and says so.
	probe func(ctx context.Context, b *bench) error
}

var scenarioNames = []string{"get_idp", "http_floor", "grpc_floor", "get_idp_grpc", "search_idps", "add_idp_link", "add_idp_link_grpc",
	"add_idp_to_policy", "create_idp", "events_search", "create_session_password", "start_intent", "retrieve_intent"}

func scenarios() map[string]scenario {
	insert := func(ctx context.Context, b *bench) (op, []string, error) {
		return insertOp(b.base, b.tag), []string{"INSERT INTO " + baselineTable + " … (one row, autocommit, synchronous_commit=on)"}, nil
	}
	return map[string]scenario{
		"get_idp": {name: "get_idp", app: getIDP, baseline: getIDPBaseline, expectRPS: 5000},
		// The HTTP floor: a constant answer with get_idp's bytes, beside the
		// same raw select (floor.go).
		"http_floor":        {name: "http_floor", app: httpFloor, baseline: getIDPBaseline, expectRPS: 10000},
		"grpc_floor":        {name: "grpc_floor", app: grpcFloor, baseline: getIDPBaseline, expectRPS: 10000, rest: "http_floor"},
		"get_idp_grpc":      {name: "get_idp_grpc", app: getIDPGRPC, baseline: getIDPBaseline, expectRPS: 5000, rest: "get_idp"},
		"search_idps":       {name: "search_idps", app: searchIDPs, baseline: searchIDPsBaseline, expectRPS: 3000},
		"add_idp_link":      {name: "add_idp_link", app: addIDPLink, baseline: insert, expectRPS: 2000},
		"add_idp_link_grpc": {name: "add_idp_link_grpc", app: addIDPLinkGRPC, baseline: insert, expectRPS: 2000, rest: "add_idp_link", probe: probeAddIDPLinkGRPC},
		"add_idp_to_policy": {name: "add_idp_to_policy", app: addIDPToPolicy, baseline: insert, expectRPS: 2000},
		"create_idp":        {name: "create_idp", app: createIDP, baseline: insert, expectRPS: 2000},
		"events_search":     {name: "events_search", app: eventsSearch, baseline: eventsSearchBaseline, expectRPS: 3000},
		// The login path (login.go).
		"create_session_password": {name: "create_session_password", app: createSessionPassword, baseline: createSessionPasswordBaseline, expectRPS: 200},
		"start_intent":            {name: "start_intent", app: startIntent, baseline: startIntentBaseline, expectRPS: 2000},
		"retrieve_intent":         {name: "retrieve_intent", app: retrieveIntent, baseline: retrieveIntentBaseline, expectRPS: 3000},
	}
}

func getIDP(b *bench) op {
	return getIDPVia(b, func(ctx context.Context, id string) error {
		_, err := b.c.do(ctx, "GET", "/v2/idps/"+id, "", nil)
		return err
	})
}

// getIDPGRPC is get_idp as /zitadel.idp.v2.IdentityProviderService/GetIDPByID.
func getIDPGRPC(b *bench) op { return getIDPVia(b, b.rpc.getIDP) }

// getIDPVia reads a random seeded IdP with get.
func getIDPVia(b *bench, get func(ctx context.Context, id string) error) op {
	return func(ctx context.Context, w *worker) error {
		id := b.fx.idps[w.intn(len(b.fx.idps))]
		return w.timed(func() error { return get(ctx, id) })
	}
}

// getIDPBaseline captures the statements the server runs for one GET and
// keeps those that carry the IdP ID: the projection-row select. The
// baseline replays them with a random seeded ID in place of the captured one.
func getIDPBaseline(ctx context.Context, b *bench) (op, []string, error) {
	id := b.fx.idps[0]
	all, err := b.tracer.capture(func() error { _, err := b.c.do(ctx, "GET", "/v2/idps/"+id, "", nil); return err })
	if err != nil {
		return nil, nil, err
	}
	set := carrying(all, id)
	if len(set) == 0 {
		return nil, nil, fmt.Errorf("get_idp baseline: no captured statement carries the IdP ID; captured: %s", sqlList(all))
	}
	o := func(ctx context.Context, w *worker) error {
		other := b.fx.idps[w.intn(len(b.fx.idps))]
		return w.timed(func() error {
			for _, s := range set {
				if err := drain(b.base.Query(ctx, s.SQL, substitute(s.Args, id, other)...)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return o, sqlTexts(set), nil
}

func searchBody(prefix string) []byte {
	b, _ := json.Marshal(map[string]any{
		"query":   map[string]any{"limit": 20},
		"queries": []any{map[string]any{"idpNameQuery": map[string]any{"name": prefix, "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}},
	})
	return b
}

// searchPrefix selects about ten seeded names.
func searchPrefix(b *bench, r int) string {
	return fmt.Sprintf("bench-idp-%05d", r%max(1, (b.fx.names+9)/10))
}

func searchIDPs(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		body := searchBody(searchPrefix(b, w.intn(1<<30)))
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/admin/v1/idps/templates/_search", "", body)
			return err
		})
	}
}

func searchIDPsBaseline(ctx context.Context, b *bench) (op, []string, error) {
	return captureSets(ctx, b, "search_idps", 16, func(i int) (string, error) {
		p := searchPrefix(b, i*7919)
		_, err := b.c.do(ctx, "POST", "/admin/v1/idps/templates/_search", "", searchBody(p))
		return p, err
	})
}

func eventsBody(userID string) []byte {
	b, _ := json.Marshal(map[string]any{"aggregateTypes": []string{"user"}, "aggregateId": userID, "limit": 100})
	return b
}

func eventsSearch(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		body := eventsBody(b.fx.users[w.intn(len(b.fx.users))])
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/admin/v1/events/_search", "", body)
			return err
		})
	}
}

func eventsSearchBaseline(ctx context.Context, b *bench) (op, []string, error) {
	return captureSets(ctx, b, "events_search", 16, func(i int) (string, error) {
		u := b.fx.users[(i*7919)%len(b.fx.users)]
		_, err := b.c.do(ctx, "POST", "/admin/v1/events/_search", "", eventsBody(u))
		return u, err
	})
}

// captureSets captures n different requests and keeps, of each, the
// statements that carry the request's own value (the name prefix, the
// aggregate ID): the query itself, not the authentication around it.
func captureSets(ctx context.Context, b *bench, name string, n int, do func(i int) (string, error)) (op, []string, error) {
	var sets [][]stmt
	for i := range n {
		var needle string
		all, err := b.tracer.capture(func() error { var err error; needle, err = do(i); return err })
		if err != nil {
			return nil, nil, err
		}
		set := carrying(all, needle)
		if len(set) == 0 {
			return nil, nil, fmt.Errorf("%s baseline: no captured statement carries %q; captured: %s", name, needle, sqlList(all))
		}
		sets = append(sets, set)
	}
	return replayOp(b.base, sets), sqlTexts(sets[0]), nil
}

// addIDPToPolicy adds worker w's own IdP to its own login policy and
// removes it again; each of the two requests is one sample. Each worker has
// its own org and policy unless --policy-instance is set, in which case all
// workers contend for the one instance default policy.
func addIDPToPolicy(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		slot := w.id % len(b.fx.policyIDPs)
		id, org := b.fx.policyIDPs[slot], b.fx.policyOrgs[slot]
		prefix, body := "/admin/v1", map[string]any{"idpId": id}
		if org != "" {
			prefix, body = "/management/v1", map[string]any{"idpId": id, "ownerType": "IDP_OWNER_TYPE_ORG"}
		}
		raw, _ := json.Marshal(body)
		err := w.timed(func() error {
			_, err := b.c.do(ctx, "POST", prefix+"/policies/login/idps", org, raw)
			return err
		})
		err2 := w.timed(func() error {
			_, err := b.c.do(ctx, "DELETE", prefix+"/policies/login/idps/"+id, org, nil)
			return err
		})
		if err != nil {
			return err
		}
		return err2
	}
}

// uniq numbers the run's writes across every scenario and concurrency, so
// that external user IDs and names never repeat within a run (b.tag keeps
// runs apart).
var uniq atomic.Int64

func addIDPLink(b *bench) op {
	return addIDPLinkVia(b, func(ctx context.Context, user, idpID, external string) func() error {
		body, _ := json.Marshal(linkBody(idpID, external))
		return func() error {
			_, err := b.c.do(ctx, "POST", "/v2/users/"+user+"/links", "", body)
			return err
		}
	})
}

// addIDPLinkGRPC is add_idp_link as /zitadel.user.v2.UserService/AddIDPLink.
func addIDPLinkGRPC(b *bench) op {
	return addIDPLinkVia(b, func(ctx context.Context, user, idpID, external string) func() error {
		return func() error { return b.rpc.addIDPLink(ctx, user, idpID, external) }
	})
}

// probeAddIDPLinkGRPC adds one link over gRPC, to learn whether the server
// serves AddIDPLink.
func probeAddIDPLinkGRPC(ctx context.Context, b *bench) error {
	i := int(uniq.Add(1))
	return b.rpc.addIDPLink(ctx, b.fx.users[i%len(b.fx.users)], b.fx.instIDPs[i%len(b.fx.instIDPs)], fmt.Sprintf("p-%s-%d", b.tag, i))
}

// addIDPLinkVia links a new external ID to a user with the request that
// prepare builds (outside the timed section); consecutive requests go to
// different users.
func addIDPLinkVia(b *bench, prepare func(ctx context.Context, user, idpID, external string) func() error) op {
	return func(ctx context.Context, w *worker) error {
		i := int(uniq.Add(1))
		// Consecutive i on concurrent workers are distinct users.
		u := b.fx.users[i%len(b.fx.users)]
		return w.timed(prepare(ctx, u, b.fx.instIDPs[i%len(b.fx.instIDPs)], fmt.Sprintf("x-%s-%d", b.tag, i)))
	}
}

func createIDP(b *bench) op {
	kinds := idp.Kinds()
	return func(ctx context.Context, w *worker) error {
		i := int(uniq.Add(1))
		k := kinds[i%len(kinds)]
		org, prefix := "", "/admin/v1"
		if (i/len(kinds))%2 == 1 {
			org, prefix = b.fx.orgs[i%len(b.fx.orgs)], "/management/v1"
		}
		body, _ := json.Marshal(idpBody(k.Path, fmt.Sprintf("bench-new-%s-%d", b.tag, i)))
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", prefix+"/idps/"+k.Path, org, body)
			return err
		})
	}
}

// carrying returns the read statements that mention needle in their SQL or
// in one of their arguments.
func carrying(all []stmt, needle string) []stmt {
	var out []stmt
	for _, s := range all {
		q := strings.ToLower(strings.TrimSpace(s.SQL))
		if !strings.HasPrefix(q, "select") && !strings.HasPrefix(q, "with") {
			continue
		}
		hit := strings.Contains(s.SQL, needle)
		for _, a := range s.Args {
			if strings.Contains(fmt.Sprint(a), needle) {
				hit = true
			}
		}
		if hit {
			out = append(out, s)
		}
	}
	return out
}

// substitute returns args with every string equal to from replaced by to.
func substitute(args []any, from, to string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && s == from {
			out[i] = to
			continue
		}
		out[i] = a
	}
	return out
}

func sqlTexts(set []stmt) []string {
	out := make([]string, len(set))
	for i, s := range set {
		out[i] = oneLine(s.SQL)
	}
	return out
}

func sqlList(all []stmt) string {
	return "[" + strings.Join(sqlTexts(all), "; ") + "]"
}
