package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idledger/idledger/idp"
)

// fixture is the seeded data the scenarios draw from.
type fixture struct {
	orgs     []string // bench orgs, each with a custom login policy
	idps     []string // every seeded IdP, both owners, all kinds
	instIDPs []string // the instance-owned ones
	// policyIDPs[w] is worker w's own IdP for add_idp_to_policy, linked to
	// no user and no policy at rest, in policyOrgs[w] ("" = the instance).
	policyIDPs []string
	policyOrgs []string
	users      []string
	userOrgs   []string
	names      int // IdP names are bench-idp-000000 … names-1
	// login is the login-path scenarios' data (seedLogin), nil when none
	// of them runs.
	login *loginFixture
	// oauth is the OP scenarios' data (seedOAuth), nil when none of them
	// runs.
	oauth *oauthFixture
	// hosted is code_flow_hosted's upstream (seedHosted), nil unless it
	// runs.
	hosted *hostedFixture
	// warnings are seed steps that failed without stopping the run (the
	// scenarios that need them then fail loudly too).
	warnings []string
}

// parallel runs f(0) … f(n-1) on workers goroutines and returns the first
// error, after which the remaining items are skipped.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

type seedSizes struct {
	IDPs, Users, Links, Orgs, PolicySlots int
	PolicyInstance                        bool
}

// seed creates the fixture through the HTTP API, concurrently, so that the
// seeded state is exactly what a client would have produced.
func seed(ctx context.Context, c *client, sz seedSizes, log io.Writer) (*fixture, error) {
	const workers = 16
	fx := &fixture{names: sz.IDPs}
	kinds := idp.Kinds()
	step := seedStep(ctx, workers, log)

	fx.orgs = make([]string, sz.Orgs)
	if err := step("orgs", sz.Orgs, func(ctx context.Context, i int) error {
		var out struct {
			OrganizationID string `json:"organizationId"`
		}
		if err := c.doJSON(ctx, "POST", "/v2/organizations", "", map[string]any{"name": fmt.Sprintf("bench-org-%04d", i)}, &out); err != nil {
			return err
		}
		fx.orgs[i] = out.OrganizationID
		return nil
	}); err != nil {
		return nil, err
	}
	soft := func(err error) {
		if err != nil {
			fmt.Fprintf(log, "WARNING: %v\n", err)
			fx.warnings = append(fx.warnings, err.Error())
		}
	}
	if !sz.PolicyInstance {
		soft(step("org login policies", len(fx.orgs), func(ctx context.Context, i int) error {
			return c.doJSON(ctx, "POST", "/management/v1/policies/login", fx.orgs[i], map[string]any{"allowExternalIdp": true}, nil)
		}))
	}

	owners := make([]string, sz.IDPs)
	fx.idps = make([]string, sz.IDPs)
	if err := step("IdPs", sz.IDPs, func(ctx context.Context, i int) error {
		k := kinds[i%len(kinds)]
		org, prefix := "", "/admin/v1"
		if i%2 == 1 && len(fx.orgs) > 0 {
			org, prefix = fx.orgs[(i/2)%len(fx.orgs)], "/management/v1"
		}
		id, err := addIDP(ctx, c, prefix, org, k.Path, fmt.Sprintf("bench-idp-%06d", i))
		fx.idps[i], owners[i] = id, org
		return err
	}); err != nil {
		return nil, err
	}
	for i, id := range fx.idps {
		if owners[i] == "" {
			fx.instIDPs = append(fx.instIDPs, id)
		}
	}
	if len(fx.instIDPs) == 0 {
		return nil, fmt.Errorf("seed: need at least one instance IdP (--seed-idps ≥ 1)")
	}

	fx.policyIDPs = make([]string, sz.PolicySlots)
	fx.policyOrgs = make([]string, sz.PolicySlots)
	if err := step("policy IdPs", sz.PolicySlots, func(ctx context.Context, i int) error {
		org, prefix := "", "/admin/v1"
		if !sz.PolicyInstance {
			org, prefix = fx.orgs[i%len(fx.orgs)], "/management/v1"
		}
		id, err := addIDP(ctx, c, prefix, org, "generic_oidc", fmt.Sprintf("bench-policy-%04d", i))
		fx.policyIDPs[i], fx.policyOrgs[i] = id, org
		return err
	}); err != nil {
		return nil, err
	}

	fx.users = make([]string, sz.Users)
	fx.userOrgs = make([]string, sz.Users)
	if err := step("users", sz.Users, func(ctx context.Context, i int) error {
		org := fx.orgs[i%len(fx.orgs)]
		id, err := addHuman(ctx, c, org, fmt.Sprintf("bench-user-%06d", i))
		fx.users[i], fx.userOrgs[i] = id, org
		return err
	}); err != nil {
		return nil, err
	}

	soft(step("links", sz.Links, func(ctx context.Context, i int) error {
		u := fx.users[i%len(fx.users)]
		return c.doJSON(ctx, "POST", "/v2/users/"+u+"/links", "",
			linkBody(fx.instIDPs[i%len(fx.instIDPs)], fmt.Sprintf("seed-%d", i)), nil)
	}))
	return fx, nil
}

// seedStep returns a func that runs one seed step, f(0) … f(n-1) on
// workers goroutines, and logs how long it took.
func seedStep(ctx context.Context, workers int, log io.Writer) func(what string, n int, f func(ctx context.Context, i int) error) error {
	return func(what string, n int, f func(ctx context.Context, i int) error) error {
		start := time.Now()
		if err := parallel(ctx, n, workers, f); err != nil {
			return fmt.Errorf("seed %s: %w", what, err)
		}
		el := time.Since(start)
		fmt.Fprintf(log, "seeded %d %s in %s (%.0f/s)\n", n, what, el.Round(time.Millisecond), float64(n)/el.Seconds())
		return nil
	}
}

// addIDP creates an IdP of kind at prefix (/admin/v1 or /management/v1) and
// returns its ID.
func addIDP(ctx context.Context, c *client, prefix, org, kind, name string) (string, error) {
	return addIDPBody(ctx, c, prefix, org, kind, idpBody(kind, name))
}

// addIDPBody creates an IdP of kind from body at prefix and returns its ID.
func addIDPBody(ctx context.Context, c *client, prefix, org, kind string, body map[string]any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.doJSON(ctx, "POST", prefix+"/idps/"+kind, org, body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("POST %s/idps/%s: answer has no id", prefix, kind)
	}
	return out.ID, nil
}

// addHuman creates a human user in org and returns its ID.
func addHuman(ctx context.Context, c *client, org, username string) (string, error) {
	var out struct {
		UserID string `json:"userId"`
	}
	if err := c.doJSON(ctx, "POST", "/v2/users/human", "", humanBody(org, username), &out); err != nil {
		return "", err
	}
	if out.UserID == "" {
		return "", fmt.Errorf("POST /v2/users/human: answer has no userId")
	}
	return out.UserID, nil
}
