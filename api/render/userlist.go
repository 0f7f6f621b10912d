package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// The v2 lists (users, organizations) and SetPassword: the requests as
// ZITADEL's JSON reads them, the searches and commands they become, and
// the answers. REST decodes its body into these, RPC its message rendered
// as protojson.

// PasswordV2 is zitadel.user.v2.Password.
type PasswordV2 struct {
	Password       string `json:"password"`
	ChangeRequired bool   `json:"changeRequired"`
}

// SetPasswordRequest is zitadel.user.v2.SetPasswordRequest but for the
// user's ID (REST's path parameter).
type SetPasswordRequest struct {
	NewPassword      *PasswordV2 `json:"newPassword"`
	CurrentPassword  *string     `json:"currentPassword"`
	VerificationCode *string     `json:"verificationCode"`
}

// Input is req on user id as the command's input.
func (req *SetPasswordRequest) Input(id string) command.SetPassword {
	in := command.SetPassword{UserID: id, CurrentPassword: req.CurrentPassword, VerificationCode: req.VerificationCode}
	if req.NewPassword != nil {
		in.New = command.Password{Password: req.NewPassword.Password, ChangeRequired: req.NewPassword.ChangeRequired}
	}
	return in
}

type textQueryJSON struct {
	Method gateway.EnumValue[TextMethodDef] `json:"method"`
}

// userSearchQueryJSON is zitadel.user.v2.SearchQuery, plus idledger's
// idpLinkQuery (ZITADEL has no query by link).
type userSearchQueryJSON struct {
	UserNameQuery *struct {
		UserName string `json:"userName"`
		textQueryJSON
	} `json:"userNameQuery"`
	FirstNameQuery *struct {
		FirstName string `json:"firstName"`
		textQueryJSON
	} `json:"firstNameQuery"`
	LastNameQuery *struct {
		LastName string `json:"lastName"`
		textQueryJSON
	} `json:"lastNameQuery"`
	NickNameQuery *struct {
		NickName string `json:"nickName"`
		textQueryJSON
	} `json:"nickNameQuery"`
	DisplayNameQuery *struct {
		DisplayName string `json:"displayName"`
		textQueryJSON
	} `json:"displayNameQuery"`
	EmailQuery *struct {
		EmailAddress string `json:"emailAddress"`
		textQueryJSON
	} `json:"emailQuery"`
	PhoneQuery *struct {
		Number string `json:"number"`
		textQueryJSON
	} `json:"phoneQuery"`
	LoginNameQuery *struct {
		LoginName string `json:"loginName"`
		textQueryJSON
	} `json:"loginNameQuery"`
	StateQuery *struct {
		State userStateEnum `json:"state"`
	} `json:"stateQuery"`
	TypeQuery *struct {
		Type userTypeEnum `json:"type"`
	} `json:"typeQuery"`
	InUserIDsQuery *struct {
		UserIDs []string `json:"userIds"`
	} `json:"inUserIdsQuery"`
	InUserEmailsQuery *struct {
		UserEmails []string `json:"userEmails"`
	} `json:"inUserEmailsQuery"`
	OrganizationIDQuery *struct {
		OrganizationID string `json:"organizationId"`
	} `json:"organizationIdQuery"`
	IDPLinkQuery *struct {
		IDPID          string `json:"idpId"`
		ExternalUserID string `json:"externalUserId"`
	} `json:"idpLinkQuery"`
	OrQuery *struct {
		Queries []userSearchQueryJSON `json:"queries"`
	} `json:"orQuery"`
	AndQuery *struct {
		Queries []userSearchQueryJSON `json:"queries"`
	} `json:"andQuery"`
	NotQuery *struct {
		Query *userSearchQueryJSON `json:"query"`
	} `json:"notQuery"`
}

type userStateDef struct{}

var userStates = gateway.NewEnum("USER_STATE_UNSPECIFIED", "USER_STATE_ACTIVE", "USER_STATE_INACTIVE", "USER_STATE_DELETED",
	"USER_STATE_LOCKED", "USER_STATE_INITIAL")

func (userStateDef) Enum() *gateway.Enum { return userStates }

type userStateEnum = gateway.EnumValue[userStateDef]

type userTypeDef struct{}

var userTypes = gateway.NewEnum("TYPE_UNSPECIFIED", "TYPE_HUMAN", "TYPE_MACHINE")

func (userTypeDef) Enum() *gateway.Enum { return userTypes }

type userTypeEnum = gateway.EnumValue[userTypeDef]

func tf(v string, m gateway.EnumValue[TextMethodDef]) *query.TextFilter {
	return &query.TextFilter{Value: v, Method: query.TextMethod(m)}
}

func (q *userSearchQueryJSON) filter() query.UserFilter {
	var f query.UserFilter
	switch {
	case q.UserNameQuery != nil:
		f.UserName = tf(q.UserNameQuery.UserName, q.UserNameQuery.Method)
	case q.FirstNameQuery != nil:
		f.FirstName = tf(q.FirstNameQuery.FirstName, q.FirstNameQuery.Method)
	case q.LastNameQuery != nil:
		f.LastName = tf(q.LastNameQuery.LastName, q.LastNameQuery.Method)
	case q.NickNameQuery != nil:
		f.NickName = tf(q.NickNameQuery.NickName, q.NickNameQuery.Method)
	case q.DisplayNameQuery != nil:
		f.DisplayName = tf(q.DisplayNameQuery.DisplayName, q.DisplayNameQuery.Method)
	case q.EmailQuery != nil:
		f.Email = tf(q.EmailQuery.EmailAddress, q.EmailQuery.Method)
	case q.PhoneQuery != nil:
		f.Phone = tf(q.PhoneQuery.Number, q.PhoneQuery.Method)
	case q.LoginNameQuery != nil:
		f.LoginName = tf(q.LoginNameQuery.LoginName, q.LoginNameQuery.Method)
	case q.StateQuery != nil:
		s := int(q.StateQuery.State)
		f.State = &s
	case q.TypeQuery != nil:
		t := map[int]string{1: "human", 2: "machine"}[int(q.TypeQuery.Type)]
		f.Type = &t
	case q.InUserIDsQuery != nil:
		f.InUserIDs = append([]string{}, q.InUserIDsQuery.UserIDs...)
	case q.InUserEmailsQuery != nil:
		f.InUserEmails = append([]string{}, q.InUserEmailsQuery.UserEmails...)
	case q.OrganizationIDQuery != nil:
		f.OrganizationID = &q.OrganizationIDQuery.OrganizationID
	case q.IDPLinkQuery != nil:
		f.IDPLink = &query.IDPLinkFilter{IDPID: q.IDPLinkQuery.IDPID, ExternalUserID: q.IDPLinkQuery.ExternalUserID}
	case q.OrQuery != nil:
		f.Or = []query.UserFilter{}
		for i := range q.OrQuery.Queries {
			f.Or = append(f.Or, q.OrQuery.Queries[i].filter())
		}
	case q.AndQuery != nil:
		f.And = []query.UserFilter{}
		for i := range q.AndQuery.Queries {
			f.And = append(f.And, q.AndQuery.Queries[i].filter())
		}
	case q.NotQuery != nil && q.NotQuery.Query != nil:
		n := q.NotQuery.Query.filter()
		f.Not = &n
	}
	return f
}

// ListUsersRequest is zitadel.user.v2.ListUsersRequest (with idledger's
// idpLinkQuery).
type ListUsersRequest struct {
	Query         gateway.ListQuery     `json:"query"`
	SortingColumn userSortEnum          `json:"sortingColumn"`
	Queries       []userSearchQueryJSON `json:"queries"`
}

// Search is req as the query's search, or the paging's error.
func (req *ListUsersRequest) Search() (query.UserSearch, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.UserSearch{}, err
	}
	s := query.UserSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc, SortBy: query.UserSortColumns[int(req.SortingColumn)]}
	for i := range req.Queries {
		s.Filters = append(s.Filters, req.Queries[i].filter())
	}
	return s, nil
}

// UserList is zitadel.user.v2.ListUsersResponse.
type UserList struct {
	Details       gateway.ListDetailsV2 `json:"details"`
	SortingColumn string                `json:"sortingColumn,omitempty"`
	Result        []UserV2              `json:"result,omitempty"`
}

// Result is the answer to req: list.
func (req *ListUsersRequest) Result(list *query.UserList) UserList {
	out := make([]UserV2, 0, len(list.Users))
	for _, u := range list.Users {
		out = append(out, UserV2Of(u))
	}
	return UserList{gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)},
		userSortNames[int(req.SortingColumn)], out}
}

var userSortNames = map[int]string{1: "USER_FIELD_NAME_USER_NAME", 2: "USER_FIELD_NAME_FIRST_NAME", 3: "USER_FIELD_NAME_LAST_NAME",
	4: "USER_FIELD_NAME_NICK_NAME", 5: "USER_FIELD_NAME_DISPLAY_NAME", 6: "USER_FIELD_NAME_EMAIL", 7: "USER_FIELD_NAME_STATE",
	8: "USER_FIELD_NAME_TYPE", 9: "USER_FIELD_NAME_CREATION_DATE"}

type userSortDef struct{}

var userSorts = gateway.NewEnum("USER_FIELD_NAME_UNSPECIFIED", "USER_FIELD_NAME_USER_NAME", "USER_FIELD_NAME_FIRST_NAME",
	"USER_FIELD_NAME_LAST_NAME", "USER_FIELD_NAME_NICK_NAME", "USER_FIELD_NAME_DISPLAY_NAME", "USER_FIELD_NAME_EMAIL",
	"USER_FIELD_NAME_STATE", "USER_FIELD_NAME_TYPE", "USER_FIELD_NAME_CREATION_DATE")

func (userSortDef) Enum() *gateway.Enum { return userSorts }

type userSortEnum = gateway.EnumValue[userSortDef]

type orgSortDef struct{}

var orgSorts = gateway.NewEnum("ORGANIZATION_FIELD_NAME_UNSPECIFIED", "ORGANIZATION_FIELD_NAME_NAME")

func (orgSortDef) Enum() *gateway.Enum { return orgSorts }

type orgSortEnum = gateway.EnumValue[orgSortDef]

type orgStateDef struct{}

var orgStates = gateway.NewEnum("ORGANIZATION_STATE_UNSPECIFIED", "ORGANIZATION_STATE_ACTIVE", "ORGANIZATION_STATE_INACTIVE",
	"ORGANIZATION_STATE_REMOVED")

func (orgStateDef) Enum() *gateway.Enum { return orgStates }

type orgStateEnum = gateway.EnumValue[orgStateDef]

// ListOrgsRequest is zitadel.org.v2.ListOrganizationsRequest.
type ListOrgsRequest struct {
	Query         gateway.ListQuery `json:"query"`
	SortingColumn orgSortEnum       `json:"sortingColumn"`
	Queries       []struct {
		NameQuery *struct {
			Name string `json:"name"`
			textQueryJSON
		} `json:"nameQuery"`
		DomainQuery *struct {
			Domain string `json:"domain"`
			textQueryJSON
		} `json:"domainQuery"`
		StateQuery *struct {
			State orgStateEnum `json:"state"`
		} `json:"stateQuery"`
		IDQuery *struct {
			ID string `json:"id"`
		} `json:"idQuery"`
		DefaultQuery *struct{} `json:"defaultQuery"`
	} `json:"queries"`
}

// Search is req as the query's search, or the paging's error.
func (req *ListOrgsRequest) Search() (query.OrgSearch, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.OrgSearch{}, err
	}
	s := query.OrgSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc, SortName: req.SortingColumn == 1}
	for _, q := range req.Queries {
		var f query.OrgFilter
		switch {
		case q.NameQuery != nil:
			f.Name = tf(q.NameQuery.Name, q.NameQuery.Method)
		case q.DomainQuery != nil:
			f.Domain = tf(q.DomainQuery.Domain, q.DomainQuery.Method)
		case q.StateQuery != nil:
			st := int(q.StateQuery.State)
			f.State = &st
		case q.IDQuery != nil:
			f.ID = &q.IDQuery.ID
		case q.DefaultQuery != nil:
			f.Default = true
		default:
			continue
		}
		s.Filters = append(s.Filters, f)
	}
	return s, nil
}

type orgV2 struct {
	ID      string            `json:"id,omitempty"`
	Details gateway.DetailsV2 `json:"details"`
	State   string            `json:"state,omitempty"`
	Name    string            `json:"name,omitempty"`
}

// OrgList is zitadel.org.v2.ListOrganizationsResponse.
type OrgList struct {
	Details       gateway.ListDetailsV2 `json:"details"`
	SortingColumn string                `json:"sortingColumn,omitempty"`
	Result        []orgV2               `json:"result,omitempty"`
}

// Result is the answer to req: list.
func (req *ListOrgsRequest) Result(list *query.OrgList) OrgList {
	out := make([]orgV2, 0, len(list.Orgs))
	for _, o := range list.Orgs {
		st := "ORGANIZATION_STATE_ACTIVE"
		if !o.Active {
			st = "ORGANIZATION_STATE_REMOVED"
		}
		out = append(out, orgV2{ID: o.ID, State: st, Name: o.Name, Details: gateway.V2(gateway.ObjectDetails{
			Sequence: o.Sequence, Created: o.Created, Changed: o.Changed, ResourceOwner: o.ID})})
	}
	sortName := ""
	if req.SortingColumn == 1 {
		sortName = "ORGANIZATION_FIELD_NAME_NAME"
	}
	return OrgList{gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)}, sortName, out}
}
