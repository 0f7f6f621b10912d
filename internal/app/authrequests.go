package app

import (
	"context"
	"strings"
	"time"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/oidc"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/ui"
)

// The scopes that steer the hosted login (ZITADEL's reserved scopes).
const (
	scopeOrgID = "urn:zitadel:iam:org:id:"
	scopeIDPID = "urn:zitadel:iam:org:idp:id:"
)

// loginAuthRequests is ui.AuthRequests over the OpenID Provider: the same
// commands as REST GetAuthRequest and CreateCallback, in-process, as the
// hosted login's login client (the caller in ctx).
type loginAuthRequests struct {
	cmds *command.Commands
	q    *query.Queries
	op   *oidc.OP
}

var _ ui.AuthRequests = loginAuthRequests{}

func (l loginAuthRequests) Get(ctx context.Context, instanceID, id string) (ui.AuthRequestInfo, error) {
	ar, err := l.cmds.GetAuthRequest(ctx, id)
	if err != nil {
		return ui.AuthRequestInfo{}, err
	}
	info := ui.AuthRequestInfo{ClientID: ar.ClientID, Scopes: ar.Scope, LoginHint: ar.LoginHint, Prompt: ar.Prompt,
		RedirectURI: ar.RedirectURI, HintUserID: ar.HintUserID, Created: ar.Created}
	if ar.MaxAge != nil {
		d := time.Duration(*ar.MaxAge) * time.Second
		info.MaxAge = &d
	}
	for _, s := range ar.Scope {
		if v, ok := strings.CutPrefix(s, scopeOrgID); ok && v != "" {
			info.OrgID = v
		}
		if v, ok := strings.CutPrefix(s, scopeIDPID); ok && v != "" {
			info.IDPID = v
		}
	}
	if c, err := l.q.ClientByID(ctx, instanceID, ar.ClientID); err == nil {
		info.AppName = c.Name
	}
	return info, nil
}

func (l loginAuthRequests) LinkSession(ctx context.Context, instanceID, id, sessionID, sessionToken string) (string, error) {
	_, url, err := l.op.FinishAuthRequest(ctx, instanceID, id, command.AuthRequestFinish{SessionID: sessionID, SessionToken: sessionToken})
	return url, err
}

func (l loginAuthRequests) Fail(ctx context.Context, instanceID, id, reason, description string) (string, error) {
	_, url, err := l.op.FinishAuthRequest(ctx, instanceID, id, command.AuthRequestFinish{Reason: reason, Description: description})
	return url, err
}
