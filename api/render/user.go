package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// The zitadel.user.v2 JSON shapes of users, rendered once for REST and
// taken by the RPC transport as protojson: both answer the same by
// construction.

// userGenderEnum is zitadel.user.v2.Gender.
var userGenderEnum = gateway.NewEnum("GENDER_UNSPECIFIED", "GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE")

// UserGenderDef is the enum table of UserGender.
type UserGenderDef struct{}

func (UserGenderDef) Enum() *gateway.Enum { return userGenderEnum }

// UserGender is zitadel.user.v2.Gender, read as a name or a number.
type UserGender = gateway.EnumValue[UserGenderDef]

// accessTokenTypeEnum is zitadel.user.v2.AccessTokenType (and v1's, of
// the same names).
var accessTokenTypeEnum = gateway.NewEnum("ACCESS_TOKEN_TYPE_BEARER", "ACCESS_TOKEN_TYPE_JWT")

// AccessTokenTypeDef is the enum table of AccessTokenType.
type AccessTokenTypeDef struct{}

func (AccessTokenTypeDef) Enum() *gateway.Enum { return accessTokenTypeEnum }

// AccessTokenType is a machine user's access token type, read as a name
// or a number.
type AccessTokenType = gateway.EnumValue[AccessTokenTypeDef]

// Machine is zitadel.user.v2.MachineUser (and v1's Machine): name,
// description and access token type.
type Machine struct {
	Name            string          `json:"name,omitempty"`
	Description     string          `json:"description,omitempty"`
	AccessTokenType AccessTokenType `json:"accessTokenType,omitzero"`
}

// MachineOf renders m; nil is nil.
func MachineOf(m *query.Machine) *Machine {
	if m == nil {
		return nil
	}
	return &Machine{Name: m.Name, Description: m.Description, AccessTokenType: AccessTokenType(m.AccessTokenType)}
}

// UserAddedV2 is AddHumanUserResponse.
type UserAddedV2 struct {
	UserID  string            `json:"userId,omitempty"`
	Details gateway.DetailsV2 `json:"details"`
}

// UserAddedV2Of is the AddHumanUserResponse of a created user.
func UserAddedV2Of(d *command.Details) UserAddedV2 {
	return UserAddedV2{UserID: d.ID, Details: gateway.V2(DetailsOf(*d))}
}

// DetailsV2Body is a response that holds only v2 details
// (DeleteUserResponse, AddIDPLinkResponse, RemoveIDPLinkResponse).
type DetailsV2Body struct {
	Details gateway.DetailsV2 `json:"details"`
}

// UserV2 is zitadel.user.v2.User.
type UserV2 struct {
	UserID             string            `json:"userId,omitempty"`
	Details            gateway.DetailsV2 `json:"details"`
	State              string            `json:"state,omitempty"`
	Username           string            `json:"username,omitempty"`
	LoginNames         []string          `json:"loginNames,omitempty"`
	PreferredLoginName string            `json:"preferredLoginName,omitempty"`
	Human              *HumanV2          `json:"human,omitempty"`
	Machine            *Machine          `json:"machine,omitempty"`
}

// HumanV2 is zitadel.user.v2.HumanUser's profile, email and phone.
type HumanV2 struct {
	Profile HumanProfileV2 `json:"profile"`
	Email   HumanEmailV2   `json:"email"`
	Phone   struct{}       `json:"phone"`
}

// HumanProfileV2 is zitadel.user.v2.HumanProfile.
type HumanProfileV2 struct {
	GivenName         string     `json:"givenName,omitempty"`
	FamilyName        string     `json:"familyName,omitempty"`
	NickName          string     `json:"nickName,omitempty"`
	DisplayName       string     `json:"displayName,omitempty"`
	PreferredLanguage string     `json:"preferredLanguage,omitempty"`
	Gender            UserGender `json:"gender,omitzero"`
}

// HumanEmailV2 is zitadel.user.v2.HumanEmail.
type HumanEmailV2 struct {
	Email      string `json:"email,omitempty"`
	IsVerified bool   `json:"isVerified,omitempty"`
}

// UserV2Of is the v2 User message of u, for every response that embeds
// one.
func UserV2Of(u *query.User) UserV2 {
	d := gateway.V2(gateway.ObjectDetails{Sequence: u.Sequence, Created: u.Created, Changed: u.Changed, ResourceOwner: u.OrgID})
	out := UserV2{UserID: u.ID, Details: d, State: "USER_STATE_ACTIVE", Username: u.Username,
		LoginNames: []string{u.Username}, PreferredLoginName: u.Username, Machine: MachineOf(u.Machine)}
	switch {
	case u.State == 4:
		out.State = "USER_STATE_LOCKED"
	case !u.Active:
		out.State = "USER_STATE_INACTIVE"
	}
	if h := u.Human; h != nil {
		out.Human = &HumanV2{
			Profile: HumanProfileV2{GivenName: h.GivenName, FamilyName: h.FamilyName, NickName: h.NickName,
				DisplayName: h.DisplayName, PreferredLanguage: h.PreferredLanguage, Gender: UserGender(h.Gender)},
			Email: HumanEmailV2{Email: h.Email, IsVerified: h.EmailVerified},
		}
	}
	return out
}

// UserByIDV2 is GetUserByIDResponse.
type UserByIDV2 struct {
	Details gateway.DetailsV2 `json:"details"`
	User    UserV2            `json:"user"`
}

// UserByIDV2Of is the GetUserByIDResponse of u.
func UserByIDV2Of(u *query.User) UserByIDV2 {
	uj := UserV2Of(u)
	return UserByIDV2{uj.Details, uj}
}
