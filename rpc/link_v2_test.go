package rpc_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	objectv2 "github.com/idledger/idledger/gen/zitadel/object/v2"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	userv2beta "github.com/idledger/idledger/gen/zitadel/user/v2beta"
	"github.com/idledger/idledger/internal/app/apptest"
)

func linkBody(idp, ext string) map[string]any {
	return map[string]any{"idpLink": map[string]any{"idpId": idp, "userId": ext, "userName": ext + "@idp"}}
}

// linkedHuman creates a human in org A linked to account ext at the IdP.
func (s *userSetup) linkedHuman(t *testing.T, username, ext string) string {
	t.Helper()
	id := s.env.CreateHuman(t, s.orgA, username)
	s.env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+id+"/links", linkBody(s.idp, ext))
	return id
}

func listLinks(t *testing.T, env *apptest.Env, user string) []any {
	t.Helper()
	res, _ := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+user+"/links/_search", map[string]any{})["result"].([]any)
	return res
}

// TestAddIDPLink: the same request to REST and to both services. A link
// is written by REST and by RPC on users of their own; the answers are
// equal but for the date, and REST lists the RPC's link.
func TestAddIDPLink(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	alice := s.linkedHuman(t, "alice", "taken")
	n := 0
	for _, svc := range userServices {
		for _, p := range protocols {
			for _, tc := range []struct {
				name      string
				user      string // "" with write: a new user each for REST and RPC
				idp, ext  string
				noLink    bool
				headers   []string
				write     bool
				restError string // RPC-only request: REST's answer had it a route
			}{
				{name: "linked", idp: s.idp, write: true},
				{name: "no link", user: alice, noLink: true},
				{name: "empty idpId", user: alice, idp: "", ext: "e"},
				{name: "empty user id", user: "", idp: s.idp, ext: "e",
					restError: "invalid AddIDPLinkRequest.UserId: value length must be between 1 and 200 runes, inclusive"},
				{name: "user not found", user: "nope", idp: s.idp, ext: "e"},
				{name: "idp not found", user: alice, idp: "nope", ext: "e"},
				{name: "already linked", user: alice, idp: s.idp, ext: "taken"},
				{name: "no user.write", user: alice, idp: s.idp, ext: "e", headers: s.noRoles},
				{name: "owner of another org", user: alice, idp: s.idp, ext: "e", headers: s.ownerB},
				{name: "unauthenticated", user: alice, idp: s.idp, ext: "e", headers: []string{"Authorization", ""}},
			} {
				t.Run(svcName(svc)+"/"+p.name+"/"+tc.name, func(t *testing.T) {
					n++
					restUser, rpcUser, restExt, rpcExt := tc.user, tc.user, tc.ext, tc.ext
					if tc.write {
						restUser, rpcUser = env.CreateHuman(t, s.orgA, fmt.Sprintf("l%d-rest", n)), env.CreateHuman(t, s.orgA, fmt.Sprintf("l%d-rpc", n))
						restExt, rpcExt = fmt.Sprintf("x%d-rest", n), fmt.Sprintf("x%d-rpc", n)
					}
					body := linkBody(tc.idp, restExt)
					req := &userv2.AddIDPLinkRequest{UserId: rpcUser, IdpLink: &userv2.IDPLink{IdpId: tc.idp, UserId: rpcExt, UserName: rpcExt + "@idp"}}
					if tc.noLink {
						body, req.IdpLink = map[string]any{}, nil
					}
					status, rest := restError(tc.restError)
					if tc.restError == "" {
						status, rest = env.Do(t, "POST", "/v2/users/"+restUser+"/links", body, tc.headers...)
					}
					got, err := userCall[userv2.AddIDPLinkRequest, userv2.AddIDPLinkResponse, userv2beta.AddIDPLinkRequest, userv2beta.AddIDPLinkResponse](
						t, env, p, svc, "AddIDPLink", req, tc.headers...)
					if tc.write {
						rest = adopt(t, rest, got, "details.changeDate")
					}
					sameAsREST(t, p, status, rest, got, err)
					if tc.write {
						l := listLinks(t, env, rpcUser)
						if len(l) != 1 || l[0].(map[string]any)["userId"] != rpcExt || l[0].(map[string]any)["idpId"] != s.idp {
							t.Fatalf("REST lists the RPC user's links as %v", l)
						}
					}
				})
			}
		}
	}
	if l := listLinks(t, env, alice); len(l) != 1 {
		t.Fatalf("alice's links: %v", l)
	}
}

// TestListIDPLinks: the same search over REST and v2 (v2beta has no
// ListIDPLinks in ZITADEL). The answer's timestamp is when the database
// answered, so it is the one value taken from the RPC answer.
func TestListIDPLinks(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	alice, bob := env.CreateHuman(t, s.orgA, "alice"), env.CreateHuman(t, s.orgA, "bob")
	for _, ext := range []string{"a1", "a2", "a3"} {
		env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links", linkBody(s.idp, ext))
	}
	for _, p := range protocols {
		for _, tc := range []struct {
			name, user string
			query      *objectv2.ListQuery
			headers    []string
			restError  string
		}{
			{name: "links", user: alice},
			{name: "page", user: alice, query: &objectv2.ListQuery{Offset: 1, Limit: 1}},
			{name: "no links", user: bob},
			{name: "unknown user", user: "nope"},
			{name: "limit over 1000", user: alice, query: &objectv2.ListQuery{Limit: 1001}},
			{name: "empty user id", user: "", restError: "invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive"},
			{name: "user id over 200", user: strings.Repeat("x", 201)},
			{name: "no user.read", user: alice, headers: s.noRoles},
			{name: "owner of another org", user: alice, headers: s.ownerB},
			{name: "unauthenticated", user: alice, headers: []string{"Authorization", ""}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				body := map[string]any{}
				if q := tc.query; q != nil {
					body["query"] = map[string]any{"offset": q.Offset, "limit": q.Limit}
				}
				status, rest := restError(tc.restError)
				if tc.restError == "" {
					status, rest = env.Do(t, "POST", "/v2/users/"+tc.user+"/links/_search", body, tc.headers...)
				}
				res, err := call[userv2.ListIDPLinksRequest, userv2.ListIDPLinksResponse](t, env, p, userV2+"ListIDPLinks",
					&userv2.ListIDPLinksRequest{UserId: tc.user, Query: tc.query}, tc.headers...)
				got := answer(res)
				if err == nil {
					rest = adopt(t, rest, got, "details.timestamp")
				}
				sameAsREST(t, p, status, rest, got, err)
				if tc.name == "links" && len(res.GetResult()) != 3 || tc.name == "page" && res.GetResult()[0].GetUserId() != "a2" {
					t.Fatalf("ListIDPLinks answered %v", res)
				}
			})
		}
	}
}

// TestRemoveIDPLink: REST and v2 (v2beta has no RemoveIDPLink in ZITADEL)
// each remove a link of their own; the answers are equal but for the date,
// and REST no longer lists the RPC's link.
func TestRemoveIDPLink(t *testing.T) {
	env := apptest.New(t)
	s := newUserSetup(t, env)
	alice := s.linkedHuman(t, "alice", "kept")
	n := 0
	long := strings.Repeat("x", 201)
	for _, p := range protocols {
		for _, tc := range []struct {
			name           string
			user, idp, ext string
			headers        []string
			write          bool
			restError      string
		}{
			{name: "removed", write: true},
			{name: "no such link", user: alice, idp: s.idp, ext: "nope"},
			{name: "unknown user", user: "nope", idp: s.idp, ext: "kept"},
			{name: "linked user id over 200", user: alice, idp: s.idp, ext: long},
			{name: "empty idp id", user: alice, idp: "", ext: "kept", restError: "invalid RemoveIDPLinkRequest.IdpId: value length must be between 1 and 200 runes, inclusive"},
			{name: "no user.write", user: alice, idp: s.idp, ext: "kept", headers: s.noRoles},
			{name: "owner of another org", user: alice, idp: s.idp, ext: "kept", headers: s.ownerB},
			{name: "unauthenticated", user: alice, idp: s.idp, ext: "kept", headers: []string{"Authorization", ""}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				n++
				restUser, rpcUser, idp, restExt, rpcExt := tc.user, tc.user, tc.idp, tc.ext, tc.ext
				if tc.write {
					restUser, rpcUser, idp = env.CreateHuman(t, s.orgA, fmt.Sprintf("r%d-rest", n)), env.CreateHuman(t, s.orgA, fmt.Sprintf("r%d-rpc", n)), s.idp
					restExt, rpcExt = fmt.Sprintf("y%d-rest", n), fmt.Sprintf("y%d-rpc", n)
					env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+restUser+"/links", linkBody(idp, restExt))
					env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+rpcUser+"/links", linkBody(idp, rpcExt))
				}
				status, rest := restError(tc.restError)
				if tc.restError == "" {
					status, rest = env.Do(t, "DELETE", "/v2/users/"+restUser+"/links/"+idp+"/"+restExt, nil, tc.headers...)
				}
				res, err := call[userv2.RemoveIDPLinkRequest, userv2.RemoveIDPLinkResponse](t, env, p, userV2+"RemoveIDPLink",
					&userv2.RemoveIDPLinkRequest{UserId: rpcUser, IdpId: idp, LinkedUserId: rpcExt}, tc.headers...)
				got := answer(res)
				if tc.write {
					rest = adopt(t, rest, got, "details.changeDate")
				}
				sameAsREST(t, p, status, rest, got, err)
				if tc.write && len(listLinks(t, env, rpcUser)) != 0 {
					t.Fatalf("REST still lists the RPC user's link: %v", listLinks(t, env, rpcUser))
				}
			})
		}
	}
	if l := listLinks(t, env, alice); len(l) != 1 {
		t.Fatalf("alice's links: %v", l)
	}
}

// TestBetaHasNoLinkListOrRemoval: ZITADEL's v2beta UserService has no
// ListIDPLinks and no RemoveIDPLink; neither has ours.
func TestBetaHasNoLinkListOrRemoval(t *testing.T) {
	env := apptest.New(t)
	for _, p := range protocols {
		for _, m := range []string{"ListIDPLinks", "RemoveIDPLink"} {
			_, err := call[userv2.ListIDPLinksRequest, userv2.ListIDPLinksResponse](t, env, p, userBeta+m, &userv2.ListIDPLinksRequest{UserId: env.AdminUserID})
			if !isUnimplemented(err) {
				t.Errorf("%s v2beta %s: %v, want unimplemented", p.name, m, err)
			}
		}
	}
}
