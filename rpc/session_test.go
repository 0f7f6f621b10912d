package rpc_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	objectv2 "github.com/idledger/idledger/gen/zitadel/object/v2"
	sessionv2 "github.com/idledger/idledger/gen/zitadel/session/v2"
	"github.com/idledger/idledger/internal/app/apptest"
)

const sessionSvc = "/zitadel.session.v2.SessionService/"

// sessionVolatile are the fields in which two equal session writes or two
// sessions differ: IDs, tokens, sequences and dates.
var sessionVolatile = []string{"session_id", "session_token", "id", "sequence", "creation_date", "change_date",
	"verified_at", "expiration_date"}

// sessionEnv is an org with a human "alice" with a password.
type sessionEnv struct {
	*apptest.Env
	user, nobody string
}

const sessionPW = "Secr3t!pass"

func newSessionEnv(t *testing.T) sessionEnv {
	env := apptest.New(t)
	org := env.CreateOrg(t, "Sess")
	u := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": "alice",
		"profile": map[string]any{"givenName": "Alice", "familyName": "L"}, "email": map[string]any{"email": "alice@example.com"},
		"password": map[string]any{"password": sessionPW, "changeRequired": false}})
	_, nobody := env.CreateMachineWithPAT(t, org)
	return sessionEnv{Env: env, user: u["userId"].(string), nobody: nobody}
}

// restSession creates a password session of alice over REST: its ID and
// token.
func (e sessionEnv) restSession(t *testing.T) (id, token string) {
	c := e.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": sessionPW}}})
	return c["sessionId"].(string), c["sessionToken"].(string)
}

// TestCreateSession: the same create over REST and RPC (two sessions of
// alice: equal but for IDs, tokens and dates), and REST reads the RPC's
// session with the RPC's token.
func TestCreateSession(t *testing.T) {
	e := newSessionEnv(t)
	for _, p := range protocols {
		for _, tc := range []struct {
			name, login string
			headers     []string
		}{
			{"created", "alice", nil},
			{"unknown user", "nobody", nil},
			{"no session.write", "alice", as(e.nobody)},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				body := map[string]any{"checks": map[string]any{
					"user": map[string]any{"loginName": tc.login}, "password": map[string]any{"password": sessionPW}},
					"lifetime": "3600s", "metadata": map[string]any{"k": "dg=="},
					"userAgent": map[string]any{"ip": "1.2.3.4", "header": map[string]any{"accept": map[string]any{"values": []string{"a", "b"}}}}}
				req := &sessionv2.CreateSessionRequest{
					Checks: &sessionv2.Checks{User: &sessionv2.CheckUser{Search: &sessionv2.CheckUser_LoginName{LoginName: tc.login}},
						Password: &sessionv2.CheckPassword{Password: sessionPW}},
					Lifetime: durationpb.New(3600e9), Metadata: map[string][]byte{"k": []byte("v")},
					UserAgent: &sessionv2.UserAgent{Ip: proto.String("1.2.3.4"),
						Header: map[string]*sessionv2.UserAgent_HeaderValues{"accept": {Values: []string{"a", "b"}}}}}
				got, err := both[sessionv2.CreateSessionRequest, sessionv2.CreateSessionResponse](t, e.Env, p, sessionSvc+"CreateSession",
					"POST", "/v2/sessions", body, req, sessionVolatile, tc.headers...)
				if tc.name != "created" {
					return
				}
				if err != nil || got.GetSessionToken() == "" {
					t.Fatalf("CreateSession: %v %v", got, err)
				}
				s := e.MustDo(t, http.StatusOK, "GET", "/v2/sessions/"+got.GetSessionId()+"?sessionToken="+got.GetSessionToken(), nil)
				if f := fmt.Sprint(s["session"]); !contains(f, e.user, "1.2.3.4", "password") {
					t.Fatalf("REST reads the RPC's session as %v", s)
				}
			})
		}
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestGetSession: the same session read over REST and RPC.
func TestGetSession(t *testing.T) {
	e := newSessionEnv(t)
	id, tok := e.restSession(t)
	for _, p := range protocols {
		for _, tc := range []struct{ name, id, token string }{
			{"found", id, tok},
			{"wrong token", id, "x" + tok},
			{"not found", "nope", ""},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				req := &sessionv2.GetSessionRequest{SessionId: tc.id}
				path := "/v2/sessions/" + tc.id
				if tc.token != "" {
					req.SessionToken = proto.String(tc.token)
					path += "?sessionToken=" + tc.token
				}
				both[sessionv2.GetSessionRequest, sessionv2.GetSessionResponse](t, e.Env, p, sessionSvc+"GetSession", "GET", path, nil, req, nil)
			})
		}
	}
}

// TestSetSession: REST and RPC each set a session of their own; the
// answers agree but for the tokens and dates, and REST reads the RPC's
// session with its new token.
func TestSetSession(t *testing.T) {
	e := newSessionEnv(t)
	for _, p := range protocols {
		for _, tc := range []struct {
			name    string
			token   func(string) string
			headers []string
		}{
			{"set", func(s string) string { return s }, nil},
			{"wrong token", func(s string) string { return "x" + s }, nil},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				restID, restTok := e.restSession(t)
				rpcID, rpcTok := e.restSession(t)
				status, raw := e.Do(t, "PATCH", "/v2/sessions/"+restID, map[string]any{"sessionToken": tc.token(restTok), "lifetime": "60s",
					"metadata": map[string]any{"m": "dg=="}}, tc.headers...)
				got, err := call[sessionv2.SetSessionRequest, sessionv2.SetSessionResponse](t, e.Env, p, sessionSvc+"SetSession",
					&sessionv2.SetSessionRequest{SessionId: rpcID, SessionToken: tc.token(rpcTok), Lifetime: durationpb.New(60e9),
						Metadata: map[string][]byte{"m": []byte("v")}}, tc.headers...)
				sameAsRESTBut(t, p, status, raw, answer(got), err, sessionVolatile)
				if err != nil {
					return
				}
				s := e.MustDo(t, http.StatusOK, "GET", "/v2/sessions/"+rpcID+"?sessionToken="+got.GetSessionToken(), nil)
				if !contains(fmt.Sprint(s), "m:dg==") {
					t.Fatalf("REST reads the RPC's set session as %v", s)
				}
			})
		}
	}
}

// TestDeleteSession: REST and RPC each delete a session of their own;
// REST no longer finds the RPC's.
func TestDeleteSession(t *testing.T) {
	e := newSessionEnv(t)
	for _, p := range protocols {
		for _, tc := range []struct{ name string }{{"deleted"}, {"not found"}} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				restID, restTok := e.restSession(t)
				rpcID, rpcTok := e.restSession(t)
				if tc.name == "not found" {
					restID, rpcID = "nope", "nope"
				}
				status, raw := e.Do(t, "DELETE", "/v2/sessions/"+restID, map[string]any{"sessionToken": restTok})
				got, err := call[sessionv2.DeleteSessionRequest, sessionv2.DeleteSessionResponse](t, e.Env, p, sessionSvc+"DeleteSession",
					&sessionv2.DeleteSessionRequest{SessionId: rpcID, SessionToken: proto.String(rpcTok)})
				sameAsRESTBut(t, p, status, raw, answer(got), err, sessionVolatile)
				if err == nil {
					e.MustDo(t, http.StatusNotFound, "GET", "/v2/sessions/"+rpcID, nil)
				}
			})
		}
	}
}

// TestListSessions: the same search over REST and RPC.
func TestListSessions(t *testing.T) {
	e := newSessionEnv(t)
	id, _ := e.restSession(t)
	e.restSession(t)
	for _, p := range protocols {
		for _, tc := range []struct {
			name string
			body map[string]any
			req  *sessionv2.ListSessionsRequest
		}{
			{"by id and user", map[string]any{"queries": []any{
				map[string]any{"idsQuery": map[string]any{"ids": []string{id}}}, map[string]any{"userIdQuery": map[string]any{"id": e.user}}}},
				&sessionv2.ListSessionsRequest{Queries: []*sessionv2.SearchQuery{
					{Query: &sessionv2.SearchQuery_IdsQuery{IdsQuery: &sessionv2.IDsQuery{Ids: []string{id}}}},
					{Query: &sessionv2.SearchQuery_UserIdQuery{UserIdQuery: &sessionv2.UserIDQuery{Id: e.user}}}}}},
			{"page", map[string]any{"query": map[string]any{"offset": "1", "limit": 1, "asc": true}},
				&sessionv2.ListSessionsRequest{Query: &objectv2.ListQuery{Offset: 1, Limit: 1, Asc: true}}},
			{"limit over 1000", map[string]any{"query": map[string]any{"limit": 1001}},
				&sessionv2.ListSessionsRequest{Query: &objectv2.ListQuery{Limit: 1001}}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				got, err := both[sessionv2.ListSessionsRequest, sessionv2.ListSessionsResponse](t, e.Env, p, sessionSvc+"ListSessions",
					"POST", "/v2/sessions/search", tc.body, tc.req, []string{"timestamp"})
				if err == nil && len(got.GetSessions()) != 1 {
					t.Fatalf("ListSessions: %v", got)
				}
			})
		}
	}
}
