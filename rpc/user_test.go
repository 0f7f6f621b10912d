package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	objectv2 "github.com/idledger/idledger/gen/zitadel/object/v2"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	userv2beta "github.com/idledger/idledger/gen/zitadel/user/v2beta"
	"github.com/idledger/idledger/internal/app/apptest"
)

// addHuman calls AddHumanUser on svc.
func addHuman(t *testing.T, env *apptest.Env, p protocol, svc string, req *userv2.AddHumanUserRequest, headers ...string) (proto.Message, error) {
	return userCall[userv2.AddHumanUserRequest, userv2.AddHumanUserResponse, userv2beta.AddHumanUserRequest, userv2beta.AddHumanUserResponse](
		t, env, p, svc, "AddHumanUser", req, headers...)
}

func getUser(t *testing.T, env *apptest.Env, p protocol, svc, id string, headers ...string) (proto.Message, error) {
	return userCall[userv2.GetUserByIDRequest, userv2.GetUserByIDResponse, userv2beta.GetUserByIDRequest, userv2beta.GetUserByIDResponse](
		t, env, p, svc, "GetUserByID", &userv2.GetUserByIDRequest{UserId: id}, headers...)
}

// TestAddHumanUser: the same request to REST and to both services over
// every protocol. A write goes to REST and RPC under different user names;
// the answers are equal but for the user ID and the dates, and REST reads
// the RPC's user. A password, which REST does not read (it stores none), is
// not read over RPC either, and shows nowhere: in no answer, log line or
// event.
func TestAddHumanUser(t *testing.T) {
	env, logs := apptest.NewLogged(t)
	s := newUserSetup(t, env)
	env.CreateHuman(t, s.orgA, "taken")
	const secret = "Pa55-w0rd-N3ver-Sh0wn!"

	n := 0
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct {
				name    string
				edit    func(body map[string]any, req *userv2.AddHumanUserRequest)
				headers []string
				write   bool
			}{
				{"created", nil, nil, true},
				{"with password", func(b map[string]any, r *userv2.AddHumanUserRequest) {
					b["password"] = map[string]any{"password": secret, "changeRequired": true}
					r.PasswordType = &userv2.AddHumanUserRequest_Password{Password: &userv2.Password{Password: secret, ChangeRequired: true}}
				}, nil, true},
				{"gender and language", func(b map[string]any, r *userv2.AddHumanUserRequest) {
					b["profile"].(map[string]any)["gender"] = "GENDER_DIVERSE"
					b["profile"].(map[string]any)["preferredLanguage"] = "de"
					r.Profile.Gender, r.Profile.PreferredLanguage = userv2.Gender_GENDER_DIVERSE.Enum(), proto.String("de")
				}, nil, true},
				{"no profile", func(b map[string]any, r *userv2.AddHumanUserRequest) { delete(b, "profile"); r.Profile = nil }, nil, false},
				{"bad email", func(b map[string]any, r *userv2.AddHumanUserRequest) {
					b["email"] = map[string]any{"email": "no address"}
					r.Email = &userv2.SetHumanEmail{Email: "no address"}
				}, nil, false},
				{"no organization", func(b map[string]any, r *userv2.AddHumanUserRequest) { delete(b, "organization"); r.Organization = nil }, nil, false},
				{"unknown org", func(b map[string]any, r *userv2.AddHumanUserRequest) {
					b["organization"] = map[string]any{"orgId": "nope"}
					r.Organization = &objectv2.Organization{Org: &objectv2.Organization_OrgId{OrgId: "nope"}}
				}, nil, false},
				{"user name taken", func(b map[string]any, r *userv2.AddHumanUserRequest) {
					b["username"] = "taken"
					r.Username = proto.String("taken")
				}, nil, false},
				{"no user.write", nil, s.noRoles, false},
				{"owner of another org", nil, s.ownerB, false},
				{"unauthenticated", nil, []string{"Authorization", ""}, false},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					n++
					request := func(username string) (map[string]any, *userv2.AddHumanUserRequest) {
						body := map[string]any{"organization": map[string]any{"orgId": s.orgA}, "username": username,
							"profile": map[string]any{"givenName": "Given", "familyName": "Family"},
							"email":   map[string]any{"email": username + "@example.com", "isVerified": true}}
						req := &userv2.AddHumanUserRequest{Username: proto.String(username),
							Organization: &objectv2.Organization{Org: &objectv2.Organization_OrgId{OrgId: s.orgA}},
							Profile:      &userv2.SetHumanProfile{GivenName: "Given", FamilyName: "Family"},
							Email:        &userv2.SetHumanEmail{Email: username + "@example.com", Verification: &userv2.SetHumanEmail_IsVerified{IsVerified: true}}}
						if tc.edit != nil {
							tc.edit(body, req)
						}
						return body, req
					}
					name := fmt.Sprintf("u%d", n)
					restName, rpcName := name, name
					if tc.write {
						restName, rpcName = name+"-rest", name+"-rpc"
					}
					body, _ := request(restName)
					status, rest := env.Do(t, "POST", "/v2/users/human", body, tc.headers...)
					_, req := request(rpcName)
					got, err := addHuman(t, env, p, svc, req, tc.headers...)
					var restID struct{ UserID string }
					if tc.write {
						if status != http.StatusCreated || json.Unmarshal(rest, &restID) != nil {
							t.Fatalf("REST %d %s", status, rest)
						}
						rest = adopt(t, rest, got, "userId", "details.changeDate", "details.creationDate")
					}
					sameAsREST(t, p, status, rest, got, err)
					if strings.Contains(string(rest), secret) || strings.Contains(fmt.Sprint(got), secret) {
						t.Fatalf("an answer shows the password: %s / %v", rest, got)
					}
					if !tc.write {
						return
					}
					// REST reads both users alike, but for what differs by
					// construction.
					id := got.(interface{ GetUserId() string }).GetUserId()
					a, b := readUser(t, env, restID.UserID), readUser(t, env, id)
					if b["username"] != rpcName || strings.ReplaceAll(a["rest"], restName, rpcName) != b["rest"] {
						t.Fatalf("REST reads the RPC's user as %v, the REST's as %v", b, a)
					}
				})
			}
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the log shows the password")
	}
	var inEvents int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'`, secret).Scan(&inEvents); err != nil || inEvents != 0 {
		t.Fatalf("%d events hold the password (%v)", inEvents, err)
	}
}

// readUser is REST's GetUserByID of id: its user name, and the answer
// without the IDs and dates ("rest").
func readUser(t *testing.T, env *apptest.Env, id string) map[string]string {
	t.Helper()
	m := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+id, nil)
	u := m["user"].(map[string]any)
	out := map[string]string{"username": fmt.Sprint(u["username"])}
	delete(m, "details")
	delete(u, "userId")
	delete(u, "details")
	b, _ := json.Marshal(m)
	out["rest"] = string(b)
	return out
}

// TestGetUserByID: the same read over REST and both services.
func TestGetUserByID(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	alice := env.CreateHuman(t, s.orgA, "alice")
	env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links",
		map[string]any{"idpLink": map[string]any{"idpId": s.idp, "userId": "ext", "userName": "ext@idp"}})
	machine, _ := env.CreateMachineWithPAT(t, s.orgA)
	long := strings.Repeat("x", 201)
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct {
				name, id string
				headers  []string
			}{
				{"human", alice, nil},
				{"machine", machine, nil},
				{"not found", "nope", nil},
				{"empty id", "", nil},
				{"id over 200", long, nil},
				{"no user.read", alice, s.noRoles},
				{"owner of another org", alice, s.ownerB},
				{"bad token", alice, []string{"Authorization", "Bearer nope"}},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					status, body := env.Do(t, "GET", "/v2/users/"+tc.id, nil, tc.headers...)
					if tc.id == "" {
						status, body = restError("invalid GetUserByIDRequest.UserId: value length must be between 1 and 200 runes, inclusive")
					}
					got, err := getUser(t, env, p, svc, tc.id, tc.headers...)
					sameAsREST(t, p, status, body, got, err)
					if tc.name == "human" && !strings.Contains(fmt.Sprint(got), "alice@example.com") {
						t.Fatalf("GetUserByID answered %v", got)
					}
				})
			}
		}
	}
}

// TestDeleteUser: REST and RPC each delete a user of their own; the
// answers are equal but for the dates, and REST no longer finds the RPC's
// user.
func TestDeleteUser(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	victim := env.CreateHuman(t, s.orgA, "victim")
	n := 0
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct {
				name    string
				id      func() (rest, rpc string)
				headers []string
				write   bool
			}{
				{"deleted", func() (string, string) {
					n++
					return env.CreateHuman(t, s.orgA, fmt.Sprintf("d%d-rest", n)), env.CreateHuman(t, s.orgA, fmt.Sprintf("d%d-rpc", n))
				}, nil, true},
				{"not found", func() (string, string) { return "nope", "nope" }, nil, false},
				{"empty id", func() (string, string) { return "", "" }, nil, false},
				{"no user.write", func() (string, string) { return victim, victim }, s.noRoles, false},
				{"owner of another org", func() (string, string) { return victim, victim }, s.ownerB, false},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					restID, rpcID := tc.id()
					status, body := env.Do(t, "DELETE", "/v2/users/"+restID, nil, tc.headers...)
					if restID == "" {
						status, body = restError("invalid DeleteUserRequest.UserId: value length must be between 1 and 200 runes, inclusive")
					}
					got, err := userCall[userv2.DeleteUserRequest, userv2.DeleteUserResponse, userv2beta.DeleteUserRequest, userv2beta.DeleteUserResponse](
						t, env, p, svc, "DeleteUser", &userv2.DeleteUserRequest{UserId: rpcID}, tc.headers...)
					if tc.write {
						body = adopt(t, body, got, "details.changeDate", "details.creationDate")
					}
					sameAsREST(t, p, status, body, got, err)
					if tc.write {
						env.MustDo(t, http.StatusNotFound, "GET", "/v2/users/"+rpcID, nil)
					}
				})
			}
		}
	}
	env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+victim, nil)
}
