package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Unique-constraint types and error IDs of the instance.
const (
	uniqueInstanceDomain = "instance.domain"
	uniqueBootstrap      = "bootstrap"

	// ErrIDFirstInstance is the ID of the AlreadyExists error SetUpInstance
	// returns when another process created the first instance first.
	ErrIDFirstInstance = "COMMAND-Boot1"
)

// DefaultLoginPolicySettings are the settings of the default login policy
// that first start creates: ZITADEL's defaults, in the shape of an
// AddCustomLoginPolicyRequest.
var DefaultLoginPolicySettings = json.RawMessage(`{"allowUsernamePassword":true,"allowRegister":true,` +
	`"allowExternalIdp":true,"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED",` +
	`"passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"864000s",` +
	`"mfaInitSkipLifetime":"2592000s","secondFactorCheckLifetime":"64800s","multiFactorCheckLifetime":"43200s",` +
	`"secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],` +
	`"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]}`)

// InstanceSetup describes a new instance.
type InstanceSetup struct {
	Name    string
	Domains []string
	// First claims the one-per-database "first instance" marker, so that of
	// several processes bootstrapping an empty store only one succeeds.
	First bool
	// AdminPAT is the admin's token when the caller made it beforehand (to
	// store it safely before the append); empty: SetUpInstance makes one.
	AdminPAT string
	// Secure says the instance is reached over https: the scheme of the
	// Console app's redirect URIs (else http, and the app in dev mode).
	Secure bool
}

// InstanceSetupResult names what SetUpInstance created. AdminPAT is the
// only copy of the admin's token; the store keeps its hash.
type InstanceSetupResult struct {
	InstanceID  string
	OrgID       string
	AdminUserID string
	AdminPAT    string
	Details     *Details // the instance's
}

// NormalizeDomains lower-cases, trims, strips IPv6 brackets and dedupes
// domains, keeping their order. Empty entries are dropped.
func NormalizeDomains(domains []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.TrimSuffix(strings.TrimPrefix(d, "["), "]")
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

func validDomain(d string) bool {
	if net.ParseIP(d) != nil {
		return true
	}
	if len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// SetUpInstance creates, in one append, an instance answering to s.Domains,
// its default login policy, the org "Default", and the machine user "admin"
// holding IAM_OWNER on the instance and ORG_OWNER on the org, with a
// personal access token. It runs without a caller (first start and the
// `instance add` CLI).
//
// Errors: InvalidArgument (no or an invalid domain); AlreadyExists
// COMMAND-DomDup when a domain already belongs to an instance, and
// ErrIDFirstInstance when s.First is set and the first instance exists.
func (c *Commands) SetUpInstance(ctx context.Context, s InstanceSetup) (*InstanceSetupResult, error) {
	domains := NormalizeDomains(s.Domains)
	if len(domains) == 0 {
		return nil, errs.InvalidArgument("COMMAND-Dom01", "an instance needs at least one domain")
	}
	for _, d := range domains {
		if !validDomain(d) {
			return nil, errs.InvalidArgument("COMMAND-Dom02", fmt.Sprintf("invalid domain %q", d))
		}
	}
	if s.Name == "" {
		s.Name = "idledger"
	}
	var newIDs [4]string
	for i := range newIDs {
		id, err := c.ids.Next()
		if err != nil {
			return nil, errs.Internal("COMMAND-Ids01", err)
		}
		newIDs[i] = id
	}
	instanceID, orgID, userID, tokenID := newIDs[0], newIDs[1], newIDs[2], newIDs[3]
	token, hash := s.AdminPAT, events.PATHash(s.AdminPAT)
	if token == "" {
		var err error
		if token, hash, err = newToken(); err != nil {
			return nil, errs.Internal("COMMAND-Tok01", err)
		}
	}

	instEvents := []eventstore.PendingEvent{{Type: events.InstanceAdded, Payload: events.InstanceAddedPayload{Name: s.Name}}}
	var cons []eventstore.UniqueConstraint
	if s.First {
		// The loser of a race between processes bootstrapping an empty store
		// fails here, inside the append, so exactly one instance is created.
		// It comes first so that the loser sees this error, not a domain's.
		cons = append(cons, eventstore.UniqueConstraint{Type: uniqueBootstrap, Value: "first-instance",
			ErrorID: ErrIDFirstInstance, Message: "the first instance already exists"})
	}
	for _, d := range domains {
		instEvents = append(instEvents, eventstore.PendingEvent{Type: events.InstanceDomainAdded, Payload: events.DomainPayload{Domain: d}})
		// Domains are global: the Host header is all there is to find an instance by.
		cons = append(cons, eventstore.UniqueConstraint{Type: uniqueInstanceDomain, Value: d,
			ErrorID: "COMMAND-DomDup", Message: "Errors.Instance.Domain.AlreadyExists"})
	}
	projIDs, err := c.nextIDs(instanceProjectIDs, "COMMAND-Ids01")
	if err != nil {
		return nil, err
	}
	proj, projSet := instanceProject(instanceID, orgID, instanceOrigin(domains[0], s.Secure), s.Secure, projIDs)
	cons = append(cons, projectName(instanceID, orgID, InstanceProjectName))
	instEvents = append(instEvents, projSet, eventstore.PendingEvent{Type: events.InstanceMemberAdded,
		Payload: events.MemberPayload{UserID: userID, Roles: []string{authz.IAMOwner}}})
	cons = append(cons, usernameConstraint(instanceID, orgID, "admin", false))

	instRef := instanceRef(instanceID)
	a := eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{
			{Aggregate: instRef, ResourceOwner: instanceID, Events: instEvents},
			{
				Aggregate:     eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggLoginPolicy, ID: instanceID},
				ResourceOwner: instanceID,
				Events: []eventstore.PendingEvent{{Type: events.LoginPolicyAdded,
					Payload: events.LoginPolicyAddedPayload{IsDefault: true, Settings: DefaultLoginPolicySettings}}},
			},
			{
				Aggregate:     eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOrg, ID: orgID},
				ResourceOwner: orgID,
				Events: []eventstore.PendingEvent{
					{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: "Default"}},
					{Type: events.OrgMemberAdded, Payload: events.MemberPayload{UserID: userID, Roles: []string{authz.OrgOwner}}},
				},
			},
			{
				Aggregate:     eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: userID},
				ResourceOwner: orgID,
				Events: []eventstore.PendingEvent{
					{Type: events.UserMachineAdded, Payload: events.MachineAddedPayload{Username: "admin", Name: "admin"}},
					{Type: events.UserPATAdded, Payload: events.PATAddedPayload{TokenID: tokenID, TokenHash: hash}},
				},
			},
		},
		Constraints: cons,
	}
	a.Aggregates = append(a.Aggregates, proj)
	for i := range a.Constraints {
		if a.Constraints[i].Type != uniqueUsername && a.Constraints[i].Type != projectNameType {
			a.Constraints[i].InstanceID = "" // global, not per instance
		}
	}
	evs, err := c.execute(ctx, func(context.Context) (eventstore.Append, error) { return a, nil })
	if err != nil {
		return nil, err
	}
	return &InstanceSetupResult{
		InstanceID: instanceID, OrgID: orgID, AdminUserID: userID, AdminPAT: token,
		Details: detailsFromEvents(evs, instRef, time.Time{}),
	}, nil
}

// IsFirstInstanceTaken reports whether err is SetUpInstance's answer to a
// lost first-start race.
func IsFirstInstanceTaken(err error) bool {
	return errors.Is(err, &errs.Error{Kind: errs.KindAlreadyExists, ID: ErrIDFirstInstance})
}
