package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// identityRoutes mounts orgs, users, PATs and members.
func (a *API) identityRoutes(r chi.Router) {
	r.Post("/v2/organizations", a.addOrgV2)
	r.Post("/management/v1/orgs", a.addOrgV1)
	r.Get("/management/v1/orgs/me", a.getMyOrg)
	r.Post("/management/v1/orgs/me/members", a.addOrgMember)
	r.Post("/admin/v1/members", a.addInstanceMember)
	r.Post("/v2/users/human", a.addHuman)
	r.Get("/v2/users/{userId}", a.getUser)
	r.Get("/auth/v1/users/me", a.getMyUser)
	r.Delete("/v2/users/{userId}", a.removeUser)
	r.Post("/management/v1/users/machine", a.addMachine)
	r.Post("/management/v1/users/{userId}/pats", a.addPAT)
	r.Delete("/management/v1/users/{userId}/pats/{tokenId}", a.removePAT)
}

// identityDetails is the neutral form of a command's details.
func identityDetails(d *command.Details) gateway.ObjectDetails { return render.DetailsOf(*d) }

// identityContextOrg is the org that management calls act on.
func identityContextOrg(r *http.Request) string {
	if cl := authz.CallerFrom(r.Context()); cl != nil {
		return cl.OrgID
	}
	return ""
}

// --- orgs -------------------------------------------------------------------

type addOrgV2Request struct {
	Name string `json:"name"`
	// OrganizationID, or the deprecated OrgID, chooses the org's ID;
	// OrganizationID wins when both are sent.
	OrganizationID *string `json:"organizationId"`
	OrgID          *string `json:"orgId"`
	Admins         []struct {
		UserID string    `json:"userId"`
		Human  *struct{} `json:"human"`
		Roles  []string  `json:"roles"`
	} `json:"admins"`
}

func (a *API) addOrgV2(w http.ResponseWriter, r *http.Request) {
	var req addOrgV2Request
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	o := command.AddOrg{Name: req.Name, ID: req.OrganizationID}
	if o.ID == nil {
		o.ID = req.OrgID
	}
	for _, ad := range req.Admins {
		admin, err := render.OrgAdmin(ad.UserID, ad.Human != nil, ad.Roles)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		o.Admins = append(o.Admins, admin)
	}
	d, err := a.cmds.AddOrg(r.Context(), o)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusCreated, render.OrgAddedV2(*d))
}

type addOrgV1Response struct {
	ID      string            `json:"id,omitempty"`
	Details gateway.DetailsV1 `json:"details"`
}

func (a *API) addOrgV1(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddOrg(r.Context(), command.AddOrg{Name: req.Name, V1: true})
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, addOrgV1Response{ID: d.ID, Details: gateway.V1Add(identityDetails(d))})
}

func (a *API) getMyOrg(w http.ResponseWriter, r *http.Request) {
	o, err := a.q.MyOrg(r.Context())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Org render.OrgV1JSON `json:"org"`
	}{render.OrgV1(o)})
}

// --- members ----------------------------------------------------------------

type addMemberRequest struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles"`
}

type identityDetailsV1Response struct {
	Details gateway.DetailsV1 `json:"details"`
}

func (a *API) addInstanceMember(w http.ResponseWriter, r *http.Request) {
	a.addMember(w, r, false)
}

func (a *API) addOrgMember(w http.ResponseWriter, r *http.Request) {
	a.addMember(w, r, true)
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request, org bool) {
	var req addMemberRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var d *command.Details
	var err error
	if org {
		d, err = a.cmds.AddOrgMember(r.Context(), identityContextOrg(r), req.UserID, req.Roles)
	} else {
		d, err = a.cmds.AddInstanceMember(r.Context(), req.UserID, req.Roles)
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	a.invalidateUser(r, req.UserID)
	gateway.WriteJSON(w, http.StatusOK, identityDetailsV1Response{Details: gateway.V1Add(identityDetails(d))})
}

// invalidateUser drops this replica's cached token lookups of a user at
// once; other replicas follow from their event subscription.
func (a *API) invalidateUser(r *http.Request, userID string) {
	if cl := authz.CallerFrom(r.Context()); cl != nil {
		a.q.InvalidateUser(cl.InstanceID, userID)
	}
}

// --- users ------------------------------------------------------------------

type userGender = render.UserGender

type addHumanRequest struct {
	UserID       string `json:"userId"`
	Username     string `json:"username"`
	Organization *struct {
		OrgID     string `json:"orgId"`
		OrgDomain string `json:"orgDomain"`
	} `json:"organization"`
	Profile *struct {
		GivenName         string     `json:"givenName"`
		FamilyName        string     `json:"familyName"`
		NickName          string     `json:"nickName"`
		DisplayName       string     `json:"displayName"`
		PreferredLanguage string     `json:"preferredLanguage"`
		Gender            userGender `json:"gender"`
	} `json:"profile"`
	Email *struct {
		Email      string `json:"email"`
		IsVerified bool   `json:"isVerified"`
	} `json:"email"`
	Password       *passwordJSON       `json:"password"`
	HashedPassword *hashedPasswordJSON `json:"hashedPassword"`
	// IDPLinks are validated and linked by the user IdP-links area.
	IDPLinks []struct {
		IDPID    string `json:"idpId"`
		UserID   string `json:"userId"`
		UserName string `json:"userName"`
	} `json:"idpLinks"`
}

func (a *API) addHuman(w http.ResponseWriter, r *http.Request) {
	var req addHumanRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	h := command.AddHuman{UserID: req.UserID, Username: req.Username,
		ProfileMissing: req.Profile == nil, EmailMissing: req.Email == nil}
	if req.Organization != nil {
		h.OrgID = req.Organization.OrgID
	}
	if p := req.Profile; p != nil {
		h.GivenName, h.FamilyName, h.NickName = p.GivenName, p.FamilyName, p.NickName
		h.DisplayName, h.PreferredLanguage, h.Gender = p.DisplayName, p.PreferredLanguage, int(p.Gender)
	}
	if e := req.Email; e != nil {
		h.Email, h.EmailVerified = e.Email, e.IsVerified
	}
	for _, l := range req.IDPLinks {
		h.IDPLinks = append(h.IDPLinks, command.IDPLink{IDPID: l.IDPID, ExternalUserID: l.UserID, DisplayName: l.UserName})
	}
	h.Password = passwordOf(req.Password, req.HashedPassword)
	d, err := a.cmds.AddHuman(r.Context(), h)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusCreated, render.UserAddedV2Of(d))
}

// userV2JSON is the v2 User message of u.
func userV2JSON(u *query.User) render.UserV2 { return render.UserV2Of(u) }

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	userID := chi.URLParam(r, "userId")
	if err := gateway.CheckID(userID, "GetUserByIDRequest.UserId"); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	u, err := a.q.UserByID(r.Context(), userID)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.UserByIDV2Of(u))
}

// userV1 is zitadel.user.v1.User.
type userV1 struct {
	ID                 string            `json:"id,omitempty"`
	Details            gateway.DetailsV1 `json:"details"`
	State              string            `json:"state,omitempty"`
	UserName           string            `json:"userName,omitempty"`
	LoginNames         []string          `json:"loginNames,omitempty"`
	PreferredLoginName string            `json:"preferredLoginName,omitempty"`
	Human              *humanV1          `json:"human,omitempty"`
	Machine            *render.Machine   `json:"machine,omitempty"`
}

type humanV1 struct {
	Profile struct {
		FirstName         string     `json:"firstName,omitempty"`
		LastName          string     `json:"lastName,omitempty"`
		NickName          string     `json:"nickName,omitempty"`
		DisplayName       string     `json:"displayName,omitempty"`
		PreferredLanguage string     `json:"preferredLanguage,omitempty"`
		Gender            userGender `json:"gender,omitzero"`
	} `json:"profile"`
	Email struct {
		Email           string `json:"email,omitempty"`
		IsEmailVerified bool   `json:"isEmailVerified,omitempty"`
	} `json:"email"`
	Phone struct{} `json:"phone"`
}

// getMyUser is auth GetMyUser: the caller's own user, in the v1 shape.
func (a *API) getMyUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.q.MyUser(r.Context())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	v2 := userV2JSON(u)
	out := userV1{ID: u.ID, State: v2.State, UserName: u.Username, LoginNames: v2.LoginNames,
		PreferredLoginName: v2.PreferredLoginName, Machine: render.MachineOf(u.Machine),
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: u.Sequence, Created: u.Created, Changed: u.Changed, ResourceOwner: u.OrgID})}
	if h := u.Human; h != nil {
		out.Human = &humanV1{}
		p := &out.Human.Profile
		p.FirstName, p.LastName, p.NickName, p.DisplayName = h.GivenName, h.FamilyName, h.NickName, h.DisplayName
		p.PreferredLanguage, p.Gender = h.PreferredLanguage, userGender(h.Gender)
		out.Human.Email.Email, out.Human.Email.IsEmailVerified = h.Email, h.EmailVerified
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		User userV1 `json:"user"`
	}{out})
}

func (a *API) removeUser(w http.ResponseWriter, r *http.Request) {
	userID := chi.URLParam(r, "userId")
	if err := gateway.CheckID(userID, "DeleteUserRequest.UserId"); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.RemoveUser(r.Context(), userID)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	a.invalidateUser(r, userID)
	gateway.WriteJSON(w, http.StatusOK, render.DetailsV2Body{Details: gateway.V2(identityDetails(d))})
}

type addMachineRequest struct {
	UserID          *string                `json:"userId"`
	UserName        string                 `json:"userName"`
	Name            string                 `json:"name"`
	Description     string                 `json:"description"`
	AccessTokenType render.AccessTokenType `json:"accessTokenType"`
}

type userAddedV1Response struct {
	UserID  string            `json:"userId,omitempty"`
	Details gateway.DetailsV1 `json:"details"`
}

func (a *API) addMachine(w http.ResponseWriter, r *http.Request) {
	var req addMachineRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddMachine(r.Context(), command.AddMachine{OrgID: identityContextOrg(r), UserID: req.UserID,
		Username: req.UserName, Name: req.Name, Description: req.Description, AccessTokenType: int(req.AccessTokenType)})
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, userAddedV1Response{UserID: d.ID, Details: gateway.V1Add(identityDetails(d))})
}

// --- personal access tokens -------------------------------------------------

type addPATResponse struct {
	TokenID string            `json:"tokenId,omitempty"`
	Token   string            `json:"token,omitempty"`
	Details gateway.DetailsV1 `json:"details"`
}

func (a *API) addPAT(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpirationDate gateway.Timestamp `json:"expirationDate"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	pat, err := a.cmds.AddPAT(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), req.ExpirationDate.Time())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, addPATResponse{TokenID: pat.TokenID, Token: pat.Token,
		Details: gateway.V1Add(identityDetails(pat.Details))})
}

func (a *API) removePAT(w http.ResponseWriter, r *http.Request) {
	userID := chi.URLParam(r, "userId")
	d, err := a.cmds.RemovePAT(r.Context(), identityContextOrg(r), userID, chi.URLParam(r, "tokenId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	a.invalidateUser(r, userID)
	gateway.WriteJSON(w, http.StatusOK, identityDetailsV1Response{Details: gateway.V1Change(identityDetails(d))})
}
