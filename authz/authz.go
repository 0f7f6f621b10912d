package authz

import (
	"context"
	"strings"

	"github.com/idledger/idledger/errs"
)

// Roles.
const (
	IAMOwner       = "IAM_OWNER"
	IAMOwnerViewer = "IAM_OWNER_VIEWER"
	OrgOwner       = "ORG_OWNER"
	OrgUserManager = "ORG_USER_MANAGER"
	// IAMLoginClient is what a login UI needs (DESIGN.md §2): sessions,
	// finishing auth requests (session.link), IdP intents, and reading the
	// login policy, orgs and users (their login names).
	IAMLoginClient = "IAM_LOGIN_CLIENT"
)

// rolePermissions is the one role → permission table (DESIGN.md §2). A
// pattern ending in ".*" matches every permission with that prefix; "*"
// matches all; "*.read" matches every read permission.
var rolePermissions = map[string][]string{
	IAMOwner:       {"*"},
	IAMOwnerViewer: {"*.read"},
	OrgOwner:       {"org.*", "org.idp.*", "policy.*", "user.*", "project.*"},
	OrgUserManager: {"user.read", "user.write"},
	IAMLoginClient: {"session.read", "session.write", "session.delete", "session.link", "idpintent.*",
		"policy.read", "iam.policy.read", "org.read", "user.read"},
}

// roleExclusions are permissions a role's patterns match but that it does
// not hold: IAM_OWNER's "*" does not finish auth requests on a user's
// behalf (session.link), as in ZITADEL.
var roleExclusions = map[string][]string{
	IAMOwner: {"session.link"},
}

// InstanceRoles are the roles grantable on the instance; OrgRoles on an org.
var (
	InstanceRoles = []string{IAMOwner, IAMOwnerViewer, IAMLoginClient}
	OrgRoles      = []string{OrgOwner, OrgUserManager}
)

// Membership is a set of roles on the instance (OrgID == "") or on one org.
type Membership struct {
	OrgID string
	Roles []string
}

// Caller is the authenticated principal of a request.
type Caller struct {
	InstanceID  string
	UserID      string
	UserOrgID   string // the org the caller's user belongs to
	OrgID       string // the context org: x-zitadel-orgid, or UserOrgID
	Memberships []Membership
}

// Allowed reports whether the caller holds perm on orgID ("" = the instance).
// Instance-level roles cover every org of the instance.
func (c *Caller) Allowed(perm, orgID string) bool {
	if c == nil {
		return false
	}
	for _, m := range c.Memberships {
		if m.OrgID != "" && m.OrgID != orgID {
			continue
		}
		for _, role := range m.Roles {
			if roleHas(role, perm) {
				return true
			}
		}
	}
	return false
}

// roleHas reports whether role grants perm.
func roleHas(role, perm string) bool {
	for _, ex := range roleExclusions[role] {
		if ex == perm {
			return false
		}
	}
	for _, pat := range rolePermissions[role] {
		if match(pat, perm) {
			return true
		}
	}
	return false
}

func match(pattern, perm string) bool {
	switch {
	case pattern == "*" || pattern == perm:
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(perm, pattern[1:])
	case strings.HasSuffix(pattern, ".*"):
		return strings.HasPrefix(perm, pattern[:len(pattern)-1])
	}
	return false
}

// Check is the v2/v3 permission check: PermissionDenied AUTHZ-HKJD33.
func (c *Caller) Check(perm, orgID string) error {
	if c.Allowed(perm, orgID) {
		return nil
	}
	return errs.PermissionDenied("AUTHZ-HKJD33", "No matching permissions found")
}

// CheckV1 is the admin/management API check: a caller with no membership at
// all gets NotFound AUTHZ-cdgFk (as ZITADEL does); otherwise PermissionDenied
// AUTH-5mWD2. Admin routes pass orgID "" (the instance).
func (c *Caller) CheckV1(perm, orgID string) error {
	if c.Allowed(perm, orgID) {
		return nil
	}
	if c == nil || len(c.Memberships) == 0 {
		return errs.NotFound("AUTHZ-cdgFk", "membership not found")
	}
	return errs.PermissionDenied("AUTH-5mWD2", "No matching permissions found")
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx, or nil.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}

// ValidRole reports whether role may be granted at the given level.
func ValidRole(role string, instanceLevel bool) bool {
	list := OrgRoles
	if instanceLevel {
		list = InstanceRoles
	}
	for _, r := range list {
		if r == role {
			return true
		}
	}
	return false
}

// covers reports whether role held on orgID ("" = the instance) is covered
// by the caller: some role of the caller, on the instance or on that org,
// matches every permission pattern of role.
func (c *Caller) covers(role, orgID string) bool {
	for _, m := range c.Memberships {
		if m.OrgID != "" && m.OrgID != orgID {
			continue
		}
		for _, mine := range m.Roles {
			if roleCovers(mine, role) {
				return true
			}
		}
	}
	return false
}

// roleCovers reports whether every permission of role b is a permission of
// role a. A pattern covers another when it matches it as a permission:
// "org.*" covers "org.idp.*", "*.read" covers only reads, "*" all.
func roleCovers(a, b string) bool {
	for _, pb := range rolePermissions[b] {
		ok := false
		for _, pa := range rolePermissions[a] {
			if match(pa, pb) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// CheckCovers is "credentials follow power" (DESIGN.md §2): to create or
// revoke a credential of another user, or to remove or deactivate it, the
// caller's roles must cover every role that user holds. Without it a user
// manager could mint a token of an owner and act as one.
//
// Errors: PermissionDenied AUTHZ-Cov01.
func (c *Caller) CheckCovers(target []Membership) error {
	for _, m := range target {
		for _, role := range m.Roles {
			if c == nil || !c.covers(role, m.OrgID) {
				return errs.PermissionDenied("AUTHZ-Cov01",
					"No matching permissions found: the user holds roles that the caller's roles do not cover")
			}
		}
	}
	return nil
}
