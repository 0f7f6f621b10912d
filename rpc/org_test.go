package rpc_test

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	orgv2 "github.com/idledger/idledger/gen/zitadel/org/v2"
	orgv2beta "github.com/idledger/idledger/gen/zitadel/org/v2beta"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	userv2beta "github.com/idledger/idledger/gen/zitadel/user/v2beta"
	"github.com/idledger/idledger/internal/app/apptest"
)

const (
	addOrganization    = "/zitadel.org.v2.OrganizationService/AddOrganization"
	createOrganization = "/zitadel.org.v2beta.OrganizationService/CreateOrganization"
)

// orgCase is one org creation, sent as REST's body and as both RPCs.
type orgCase struct {
	name    string
	org     string // the org's name
	id      *string
	admins  []string // existing users; "human" for a user to create
	roles   []string
	headers []string
}

func (c orgCase) rest() map[string]any {
	body := map[string]any{"name": c.org}
	if c.id != nil {
		body["orgId"] = *c.id
	}
	var admins []any
	for _, a := range c.admins {
		if a == "human" {
			admins = append(admins, map[string]any{"human": map[string]any{}})
		} else {
			admins = append(admins, map[string]any{"userId": a, "roles": c.roles})
		}
	}
	if admins != nil {
		body["admins"] = admins
	}
	return body
}

func (c orgCase) v2() *orgv2.AddOrganizationRequest {
	req := &orgv2.AddOrganizationRequest{Name: c.org, OrgId: c.id}
	for _, a := range c.admins {
		ad := &orgv2.AddOrganizationRequest_Admin{Roles: c.roles, UserType: &orgv2.AddOrganizationRequest_Admin_UserId{UserId: a}}
		if a == "human" {
			ad = &orgv2.AddOrganizationRequest_Admin{UserType: &orgv2.AddOrganizationRequest_Admin_Human{Human: &userv2.AddHumanUserRequest{}}}
		}
		req.Admins = append(req.Admins, ad)
	}
	return req
}

func (c orgCase) v2beta() *orgv2beta.CreateOrganizationRequest {
	req := &orgv2beta.CreateOrganizationRequest{Name: c.org, Id: c.id}
	for _, a := range c.admins {
		ad := &orgv2beta.CreateOrganizationRequest_Admin{Roles: c.roles, UserType: &orgv2beta.CreateOrganizationRequest_Admin_UserId{UserId: a}}
		if a == "human" {
			ad = &orgv2beta.CreateOrganizationRequest_Admin{UserType: &orgv2beta.CreateOrganizationRequest_Admin_Human{Human: &userv2beta.AddHumanUserRequest{}}}
		}
		req.Admins = append(req.Admins, ad)
	}
	return req
}

// betaNames is a REST v2 error body with org v2beta's message names.
func betaNames(body []byte) []byte {
	s := strings.NewReplacer("AddOrganizationRequest.OrganizationId", "CreateOrganizationRequest.Id", "AddOrganizationRequest", "CreateOrganizationRequest").Replace(string(body))
	return []byte(s)
}

func ptr(s string) *string { return &s }

// myOrgName reads org id's name through REST.
func myOrgName(t *testing.T, env *apptest.Env, id string) string {
	t.Helper()
	m := env.MustDo(t, http.StatusOK, "GET", "/management/v1/orgs/me", nil, "x-zitadel-orgid", id)
	return m["org"].(map[string]any)["name"].(string)
}

func TestAddOrganization(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "acme")
	admin := env.CreateHuman(t, org, "admin")
	_, noRoles := env.CreateMachineWithPAT(t, org)
	taken := env.CreateOrg(t, "taken")

	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			// Writes: REST and each RPC create an org of the same shape.
			for _, c := range []orgCase{
				{name: "generated ID", org: "gen-" + p.name},
				{name: "chosen ID", org: "chosen-" + p.name, id: ptr("id-" + p.name), admins: []string{admin}, roles: []string{"ORG_OWNER"}},
				{name: "default roles", org: "def-" + p.name, admins: []string{admin}},
			} {
				restCase := c
				if c.id != nil {
					restCase.id = ptr(*c.id + "-rest")
				}
				status, body := env.Do(t, "POST", "/v2/organizations", restCase.rest())
				if status != http.StatusCreated {
					t.Fatalf("%s: REST %d %s", c.name, status, body)
				}
				got, err := call[orgv2.AddOrganizationRequest, orgv2.AddOrganizationResponse](t, env, p, addOrganization, c.v2())
				if err != nil {
					t.Fatalf("%s: v2: %v", c.name, err)
				}
				// The org ID and resource owner differ; the shape is REST's.
				rest := &orgv2.AddOrganizationResponse{}
				if err := protojson.Unmarshal(body, rest); err != nil {
					t.Fatal(err)
				}
				cmp := proto.Clone(got).(*orgv2.AddOrganizationResponse)
				for _, m := range []*orgv2.AddOrganizationResponse{rest, cmp} {
					m.OrganizationId, m.Details.ResourceOwner = "", ""
				}
				sameAsREST(t, p, status, masked(rest), mustUnmask(t, cmp), nil)
				if myOrgName(t, env, got.GetOrganizationId()) != c.org || got.GetDetails().GetResourceOwner() != got.GetOrganizationId() {
					t.Fatalf("%s: v2 created %v", c.name, got)
				}

				beta := c
				beta.org += "-beta"
				if c.id != nil {
					beta.id = ptr(*c.id + "-beta")
				}
				bgot, err := call[orgv2beta.CreateOrganizationRequest, orgv2beta.CreateOrganizationResponse](t, env, p, createOrganization, beta.v2beta())
				if err != nil {
					t.Fatalf("%s: v2beta: %v", c.name, err)
				}
				if bgot.GetId() == "" || bgot.GetCreationDate() == nil || myOrgName(t, env, bgot.GetId()) != beta.org ||
					(beta.id != nil && bgot.GetId() != *beta.id) || len(bgot.GetOrganizationAdmins()) != len(c.admins) {
					t.Fatalf("%s: v2beta created %v", c.name, bgot)
				}
				for _, a := range bgot.GetOrganizationAdmins() {
					if a.GetAssignedAdmin().GetUserId() != admin {
						t.Fatalf("%s: v2beta admins %v", c.name, bgot)
					}
				}
			}

			// Errors: REST's answer, under each version's names.
			for _, c := range []orgCase{
				{name: "empty name", org: ""},
				{name: "long name", org: strings.Repeat("n", 201)},
				{name: "empty ID", org: "x", id: ptr("")},
				{name: "taken ID", org: "x", id: ptr(taken)},
				{name: "admin without user", org: "x", admins: []string{""}},
				{name: "human admin", org: "x", admins: []string{"human"}},
				{name: "unknown admin", org: "x", admins: []string{"404404"}},
				{name: "not an org role", org: "x", admins: []string{admin}, roles: []string{"IAM_OWNER"}},
				{name: "permission denied", org: "x", headers: []string{"Authorization", "Bearer " + noRoles}},
				{name: "unauthenticated", org: "x", headers: []string{"Authorization", ""}},
			} {
				status, body := env.DoAs(t, patOf(env, c.headers), "POST", "/v2/organizations", c.rest())
				if status == http.StatusCreated {
					t.Fatalf("%s: REST created %s", c.name, body)
				}
				got, err := call[orgv2.AddOrganizationRequest, orgv2.AddOrganizationResponse](t, env, p, addOrganization, c.v2(), c.headers...)
				sameAsREST(t, p, status, body, orEmpty(got), err)
				bgot, err := call[orgv2beta.CreateOrganizationRequest, orgv2beta.CreateOrganizationResponse](t, env, p, createOrganization, c.v2beta(), c.headers...)
				sameAsREST(t, p, status, betaNames(body), orEmpty(bgot), err)
			}
		})
	}
}
