package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

// DetailsOf is the neutral form of a command's details.
func DetailsOf(d command.Details) gateway.ObjectDetails {
	return gateway.ObjectDetails{Sequence: d.Sequence, Created: d.Created, Changed: d.Changed,
		ResourceOwner: d.ResourceOwner, ID: d.ID}
}

// OrgAdmin is one admin of an org creation request (org v2 AddOrganization,
// v2beta CreateOrganization): the existing user userID, or, with human, a
// user to create with the org.
//
// Errors: Unimplemented ORG-Hum01 for a human, which idledger does not
// create with the org.
func OrgAdmin(userID string, human bool, roles []string) (command.OrgAdmin, error) {
	if human {
		return command.OrgAdmin{}, errs.Unimplemented("ORG-Hum01", "creating a human admin with the org is not supported; create the user, then pass its userId")
	}
	return command.OrgAdmin{UserID: userID, Roles: roles}, nil
}

// OrgAddedV2 is org v2's AddOrganizationResponse of the org d created.
// createdAdmins lists the users created with the org: none, since
// idledger only assigns existing users.
func OrgAddedV2(d command.Details) any {
	return struct {
		Details        gateway.DetailsV2 `json:"details"`
		OrganizationID string            `json:"organizationId,omitempty"`
	}{gateway.V2(DetailsOf(d)), d.ID}
}
