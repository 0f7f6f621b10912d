package command

import (
	"context"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Intent states.
const (
	intentNone = iota
	intentStarted
	intentSucceeded
	intentFailed
	intentConsumed
)

// intentModel is the write model of one IdP intent.
type intentModel struct {
	aggregate
	state          int
	idpID          string
	successURL     string
	failureURL     string
	arguments      string    // sealed idpArguments
	startedExpires time.Time // a started intent ends then

	// Set by a succeeded event (of any protocol).
	protocol    string // "oauth", "saml" or "ldap": Retrieve's idpInformation member
	idpUser     string // sealed
	idpUserID   string
	idpUserName string
	userID      string
	access      string // sealed upstream tokens (oauth)
	idToken     string
	refresh     string
	assertion   string // sealed (saml)
	ldapUser    string // sealed (ldap)
	expiresAt   time.Time
	tokenHash   string
	succeededAt time.Time
	changed     time.Time
	sequence    uint64
}

func (c *Commands) loadIntent(ctx context.Context, instanceID, id string) (*intentModel, error) {
	m := &intentModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDPIntent, ID: id}}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-IntL1", reduce: "COMMAND-IntL2"}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *intentModel) reduce(e *eventstore.Event) error {
	m.changed, m.sequence = e.CreatedAt, e.Sequence
	switch e.Type {
	case events.IDPIntentStarted:
		var p events.IDPIntentStartedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.state, m.idpID, m.successURL, m.failureURL = intentStarted, p.IDPID, p.SuccessURL, p.FailureURL
		m.arguments, m.startedExpires = p.IDPArguments, p.ExpiresAt
	case events.IDPIntentSucceeded:
		var p events.IDPIntentSucceededPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.succeed(e, "oauth", p.IDPUser, p.IDPUserID, p.IDPUserName, p.UserID, p.ExpiresAt, p.TokenHash)
		m.access, m.idToken, m.refresh = p.IDPAccessToken, p.IDPIDToken, p.IDPRefreshToken
	case events.IDPIntentSAMLSucceeded:
		var p events.IDPIntentSAMLSucceededPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.succeed(e, "saml", p.IDPUser, p.IDPUserID, p.IDPUserName, p.UserID, p.ExpiresAt, p.TokenHash)
		m.assertion = p.Assertion
	case events.IDPIntentLDAPSucceeded:
		var p events.IDPIntentLDAPSucceededPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.succeed(e, "ldap", p.IDPUser, p.IDPUserID, p.IDPUserName, p.UserID, p.ExpiresAt, p.TokenHash)
		m.ldapUser = p.User
	case events.IDPIntentFailed:
		m.state = intentFailed
	case events.IDPIntentConsumed:
		m.state = intentConsumed
	}
	return nil
}

func (m *intentModel) succeed(e *eventstore.Event, protocol, user, extID, extName, userID string, exp time.Time, hash string) {
	m.state, m.protocol, m.idpUser, m.idpUserID, m.idpUserName, m.userID = intentSucceeded, protocol, user, extID, extName, userID
	m.expiresAt, m.tokenHash, m.succeededAt = exp, hash, e.CreatedAt
}

func (m *intentModel) details() Details {
	return Details{ID: m.ref.ID, Sequence: m.sequence, Created: m.created, Changed: m.changed, ResourceOwner: m.ref.InstanceID}
}
