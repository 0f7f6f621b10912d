package rpc_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	orgv2 "github.com/idledger/idledger/gen/zitadel/org/v2"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	userv2beta "github.com/idledger/idledger/gen/zitadel/user/v2beta"
	"github.com/idledger/idledger/internal/app/apptest"
)

// reqOf is the request message of REST body (ZITADEL's JSON is the
// message's protojson): the same request to both transports.
func reqOf[M any, P message[M]](t *testing.T, body string) P {
	t.Helper()
	m := P(new(M))
	if err := protojson.Unmarshal([]byte(body), m); err != nil {
		t.Fatalf("%s is no %T: %v", body, m, err)
	}
	return m
}

// TestListUsers: the same search over REST and both services.
func TestListUsers(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	alice := env.CreateHuman(t, s.orgA, "alice")
	env.CreateHuman(t, s.orgA, "bob")
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct {
				name, body string
				headers    []string
				want       int
			}{
				{"by org, email and type", fmt.Sprintf(`{"sortingColumn":"USER_FIELD_NAME_USER_NAME","queries":[
					{"organizationIdQuery":{"organizationId":%q}},{"typeQuery":{"type":"TYPE_HUMAN"}},
					{"orQuery":{"queries":[{"emailQuery":{"emailAddress":"ALICE@example.com","method":"TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}},
					{"userNameQuery":{"userName":"nobody"}}]}}]}`, s.orgA), nil, 1},
				{"page", fmt.Sprintf(`{"query":{"offset":"1","limit":1,"asc":true},"queries":[{"organizationIdQuery":{"organizationId":%q}}]}`, s.orgA), nil, 1},
				{"limit over 1000", `{"query":{"limit":1001}}`, nil, -1},
				{"no user.read", `{}`, s.noRoles, -1},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					status, raw := env.Do(t, "POST", "/v2/users", tc.body, tc.headers...)
					got, err := userCall[userv2.ListUsersRequest, userv2.ListUsersResponse, userv2beta.ListUsersRequest, userv2beta.ListUsersResponse](
						t, env, p, svc, "ListUsers", reqOf[userv2.ListUsersRequest](t, tc.body), tc.headers...)
					sameAsRESTBut(t, p, status, raw, got, err, []string{"timestamp"})
					if tc.want >= 0 && (err != nil || strings.Count(fmt.Sprint(got), "user_id:") != tc.want) {
						t.Fatalf("ListUsers: %v %v", got, err)
					}
					if tc.name == "by org, email and type" && !strings.Contains(fmt.Sprint(got), alice) {
						t.Fatalf("ListUsers: %v", got)
					}
				})
			}
		}
	}
}

// TestSetPassword: REST and RPC each set the password of a user of their
// own; the answers agree but for the dates, and the RPC's new password
// opens a session over REST.
func TestSetPassword(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "pw")
	const old, next = "Secr3t!pass", "N3w!password"
	human := func(name string) string {
		return env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
			"organization": map[string]any{"orgId": org}, "username": name,
			"profile": map[string]any{"givenName": "G", "familyName": "F"}, "email": map[string]any{"email": name + "@example.com"},
			"password": map[string]any{"password": old}})["userId"].(string)
	}
	n := 0
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct{ name, current, password string }{
				{"set", old, next},
				{"wrong current password", "nope", next},
				{"too weak", old, "short"},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					n++
					restUser, rpcUser := human(fmt.Sprintf("rest%d", n)), human(fmt.Sprintf("rpc%d", n))
					body := fmt.Sprintf(`{"newPassword":{"password":%q,"changeRequired":true},"currentPassword":%q}`, tc.password, tc.current)
					status, raw := env.Do(t, "POST", "/v2/users/"+restUser+"/password", body)
					req := reqOf[userv2.SetPasswordRequest](t, body)
					req.UserId = rpcUser
					got, err := userCall[userv2.SetPasswordRequest, userv2.SetPasswordResponse, userv2beta.SetPasswordRequest, userv2beta.SetPasswordResponse](
						t, env, p, svc, "SetPassword", req)
					sameAsRESTBut(t, p, status, raw, got, err, []string{"sequence", "change_date"})
					if err != nil {
						return
					}
					env.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
						"user": map[string]any{"userId": rpcUser}, "password": map[string]any{"password": next}}})
				})
			}
		}
	}
}

// TestListOrganizations: the same search over REST and org v2.
func TestListOrganizations(t *testing.T) {
	e := newIdentityEnv(t)
	for _, p := range protocols {
		for _, tc := range []struct {
			name, body string
			headers    []string
		}{
			{"by name", `{"sortingColumn":"ORGANIZATION_FIELD_NAME_NAME","queries":[{"nameQuery":{"name":"OTHER","method":"TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]}`, nil},
			{"page", `{"query":{"offset":"1","limit":1},"sortingColumn":"ORGANIZATION_FIELD_NAME_NAME"}`, nil},
			{"limit over 1000", `{"query":{"limit":1001}}`, nil},
			{"no role", `{}`, as(e.nobody)},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				got, err := both[orgv2.ListOrganizationsRequest, orgv2.ListOrganizationsResponse](t, e.Env, p,
					"/zitadel.org.v2.OrganizationService/ListOrganizations", "POST", "/v2/organizations/_search", tc.body,
					reqOf[orgv2.ListOrganizationsRequest](t, tc.body), []string{"timestamp"}, tc.headers...)
				if tc.name == "by name" && (err != nil || len(got.GetResult()) != 1 || got.GetResult()[0].GetId() != e.other) {
					t.Fatalf("ListOrganizations: %v %v", got, err)
				}
			})
		}
	}
}
