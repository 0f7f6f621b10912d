package command

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Trusted domains: ZITADEL's instance trusted domains (admin API), hosts
// besides the instance's own. Better than ZITADEL, which accepts any URL:
// once an instance has one, StartIntent accepts only success and failure
// URLs whose host is the instance's own or a trusted domain, so a started
// login cannot send the intent token to a stranger's site. Domains are
// host names without port; they are stored lower-cased, as hosts compare
// case-insensitively (ZITADEL keeps the case as given).

// trustedDomainRunes are the characters a trusted domain may have
// (ZITADEL's allowDomainRunes): no scheme, port, path or wildcard.
var trustedDomainRunes = regexp.MustCompile(`^[a-zA-Z0-9.\-]+$`)

// Error IDs of StartIntent's allowlist check.
const (
	ErrIDSuccessURLNotTrusted = "COMMAND-TrD03"
	ErrIDFailureURLNotTrusted = "COMMAND-TrD04"
)

type trustedDomainsModel struct {
	aggregate
	domains []string
}

var trustedDomainTypes = []string{"instance.trusted_domain."}

func (c *Commands) loadTrustedDomains(ctx context.Context, instanceID, _ string) (*trustedDomainsModel, error) {
	m := &trustedDomainsModel{aggregate: aggregate{ref: instanceRef(instanceID)}}
	if err := c.load(ctx, m, trustedDomainTypes, loadErrs{read: "COMMAND-TrD01", reduce: "COMMAND-TrD02"}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *trustedDomainsModel) reduce(e *eventstore.Event) error {
	var p events.DomainPayload
	if err := e.Unmarshal(&p); err != nil {
		return err
	}
	switch e.Type {
	case events.InstanceTrustedDomainAdded:
		m.domains = append(m.domains, p.Domain)
	case events.InstanceTrustedDomainRemoved:
		m.domains = slices.DeleteFunc(m.domains, func(d string) bool { return d == p.Domain })
	}
	return nil
}

// checkTrustedDomain trims and lower-cases d and checks it as ZITADEL
// does, with the given error IDs for a length and a character problem.
func checkTrustedDomain(d, lengthID, runesID string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" || len(d) > 253 {
		return "", errs.InvalidArgument(lengthID, "Errors.Invalid.Argument")
	}
	if !trustedDomainRunes.MatchString(d) {
		return "", errs.InvalidArgument(runesID, "Errors.Instance.Domain.InvalidCharacter")
	}
	return d, nil
}

// AddTrustedDomain adds a trusted domain to the caller's instance (admin
// API AddInstanceTrustedDomain, iam.write).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2; InvalidArgument COMMA-Stk21 (empty or over 253 characters)
// and COMMA-S3v3w (a character other than letters, digits, '.' and '-');
// FailedPrecondition COMMA-hg42a when the domain is trusted already.
func (c *Commands) AddTrustedDomain(ctx context.Context, domain string) (*Details, error) {
	return c.changeTrustedDomain(ctx, domain, true)
}

// RemoveTrustedDomain removes a trusted domain of the caller's instance
// (admin API RemoveInstanceTrustedDomain, iam.write).
//
// Errors: as AddTrustedDomain, with InvalidArgument COMMA-ajAzwu and
// COMMA-lfs3Te, and NotFound COMMA-de3z9 for a domain that is not trusted.
func (c *Commands) RemoveTrustedDomain(ctx context.Context, domain string) (*Details, error) {
	return c.changeTrustedDomain(ctx, domain, false)
}

func (c *Commands) changeTrustedDomain(ctx context.Context, domain string, add bool) (*Details, error) {
	cl, err := authorizeIdentity(ctx, true, "iam.write", "")
	if err != nil {
		return nil, err
	}
	lengthID, runesID, typ := "COMMA-Stk21", "COMMA-S3v3w", events.InstanceTrustedDomainAdded
	if !add {
		lengthID, runesID, typ = "COMMA-ajAzwu", "COMMA-lfs3Te", events.InstanceTrustedDomainRemoved
	}
	domain, err = checkTrustedDomain(domain, lengthID, runesID)
	if err != nil {
		return nil, err
	}
	m, evs, err := executeOn(ctx, c, c.loadTrustedDomains, cl.InstanceID, "", func(_ context.Context, m *trustedDomainsModel) (eventstore.Append, error) {
		has := slices.Contains(m.domains, domain)
		if add && has {
			return eventstore.Append{}, errs.FailedPrecondition("COMMA-hg42a", "Errors.Instance.Domain.AlreadyExists")
		}
		if !add && !has {
			return eventstore.Append{}, errs.NotFound("COMMA-de3z9", "Errors.Instance.Domain.NotFound")
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: cl.InstanceID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: typ, Payload: events.DomainPayload{Domain: domain}}},
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, m.ref, m.created), nil
}

// checkIntentURLs is StartIntent's allowlist: with at least one trusted
// domain, the host of each URL must be origin's host or a trusted domain.
// Hosts compare case-insensitively and without port; a look-alike such as
// login.example.com.evil.test is another host.
func (c *Commands) checkIntentURLs(ctx context.Context, instanceID, origin string, urls IntentURLs) error {
	m, err := c.loadTrustedDomains(ctx, instanceID, "")
	if err != nil || len(m.domains) == 0 {
		return err
	}
	own := ""
	if u, err := url.Parse(origin); err == nil {
		own = strings.ToLower(u.Hostname())
	}
	trusted := func(raw string) bool {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		h := strings.ToLower(u.Hostname())
		return h != "" && (h == own || slices.Contains(m.domains, h))
	}
	if !trusted(urls.Success) {
		return errs.InvalidArgument(ErrIDSuccessURLNotTrusted, "Errors.Intent.SuccessURLNotTrusted")
	}
	if !trusted(urls.Failure) {
		return errs.InvalidArgument(ErrIDFailureURLNotTrusted, "Errors.Intent.FailureURLNotTrusted")
	}
	return nil
}
