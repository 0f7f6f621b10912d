package rpc_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"connectrpc.com/connect"

	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/internal/app/apptest"
)

const getIDPByID = "/zitadel.idp.v2.IdentityProviderService/GetIDPByID"

func TestGetIDPByID(t *testing.T) {
	env := apptest.New(t)
	id := addOIDC(t, env)

	for _, p := range protocols {
		for _, tc := range []struct {
			name, id string
			headers  []string
		}{
			{"found", id, nil},
			{"not found", "nope", nil},
			{"empty id", "", nil},
			{"unauthenticated", id, []string{"Authorization", ""}},
			{"bad token", id, []string{"Authorization", "Bearer nope"}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				status, body := env.Do(t, "GET", "/v2/idps/"+tc.id, nil, tc.headers...)
				if tc.id == "" {
					// REST has no route for an empty ID; the request message
					// check answers it, as ZITADEL's validation does.
					status, body = http.StatusBadRequest, []byte(`{"code":3,"message":"invalid GetIDPByIDRequest.Id: value length must be between 1 and 200 runes, inclusive"}`)
				}
				got, err := call[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](t, env, p, getIDPByID, &idpv2.GetIDPByIDRequest{Id: tc.id}, tc.headers...)
				var msg *idpv2.GetIDPByIDResponse = got
				if msg == nil {
					msg = &idpv2.GetIDPByIDResponse{}
				}
				sameAsREST(t, p, status, body, msg, err)
				if tc.name == "found" && (msg.GetIdp().GetName() != "OIDC" || msg.GetIdp().GetConfig().GetOidc().GetIssuer() != "https://issuer.example") {
					t.Fatalf("GetIDPByID answered %v", msg)
				}
			})
		}
	}
}

func TestUnservedMethodIsUnimplemented(t *testing.T) {
	env := apptest.New(t)
	for _, p := range protocols {
		_, err := call[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](t, env, p, "/zitadel.idp.v2.IdentityProviderService/Nope", &idpv2.GetIDPByIDRequest{Id: "x"})
		if connect.CodeOf(err) != connect.CodeUnimplemented {
			t.Errorf("%s: %v, want unimplemented", p.name, err)
		}
	}
}

// TestGetIDPByIDReadsItsWrites: GetIDPByID's cached messages are served only
// for the row version just read, so each acknowledged write shows in the
// next call of every protocol (the first call of a version fills the cache,
// the others are answered from it, concurrently), the same as REST.
func TestGetIDPByIDReadsItsWrites(t *testing.T) {
	env := apptest.New(t)
	id := addOIDC(t, env)
	for i := range 4 {
		issuer := fmt.Sprintf("https://issuer%d.example", i)
		env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/idps/generic_oidc/"+id,
			map[string]any{"name": fmt.Sprintf("OIDC %d", i), "issuer": issuer, "clientId": "c", "scopes": []string{"openid"}})
		status, body := env.Do(t, "GET", "/v2/idps/"+id, nil)
		for range 2 {
			got := make([]*idpv2.GetIDPByIDResponse, len(protocols))
			errs := make([]error, len(protocols))
			var wg sync.WaitGroup
			for n, p := range protocols {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[n], errs[n] = call[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](t, env, p, getIDPByID, &idpv2.GetIDPByIDRequest{Id: id})
				}()
			}
			wg.Wait()
			for n, p := range protocols {
				if errs[n] != nil || got[n].GetIdp().GetConfig().GetOidc().GetIssuer() != issuer {
					t.Fatalf("after write %d, %s: %v %v", i, p.name, got[n], errs[n])
				}
				sameAsREST(t, p, status, body, got[n], errs[n])
			}
		}
	}
}

// BenchmarkGetIDPByID is one GetIDPByID over gRPC (h2c), client and server
// in this process.
func BenchmarkGetIDPByID(b *testing.B) {
	env := apptest.New(b)
	id := env.MustDo(b, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc",
		map[string]any{"name": "OIDC", "issuer": "https://issuer.example", "clientId": "c", "clientSecret": "s", "scopes": []string{"openid"}})["id"].(string)
	c := connect.NewClient[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](h2c, env.URL+getIDPByID, connect.WithGRPC())
	b.ReportAllocs()
	for b.Loop() {
		r := connect.NewRequest(&idpv2.GetIDPByIDRequest{Id: id})
		r.Header().Set("Authorization", "Bearer "+env.AdminPAT)
		if _, err := c.CallUnary(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}
