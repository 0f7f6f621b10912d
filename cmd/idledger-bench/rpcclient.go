package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"

	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/gen/zitadel/idp/v2/idpv2connect"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	"github.com/idledger/idledger/gen/zitadel/user/v2/userv2connect"
)

// rpcClient calls the server over gRPC with connect-go's generated
// clients, on cleartext HTTP/2 with prior knowledge (h2c), as a gRPC client
// in another process would: every worker's calls are streams on one
// connection, the way grpc-go and connect clients share a channel.
type rpcClient struct {
	host  string
	token string
	idp   idpv2connect.IdentityProviderServiceClient
	user  userv2connect.UserServiceClient
}

func newRPCClient(base, host, token string) *rpcClient {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols:          &p,
		DialContext:        (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	return &rpcClient{
		host: host, token: token,
		idp:  idpv2connect.NewIdentityProviderServiceClient(hc, base, connect.WithGRPC()),
		user: userv2connect.NewUserServiceClient(hc, base, connect.WithGRPC()),
	}
}

// request wraps msg with the caller's token and the instance's host.
func request[T any](c *rpcClient, msg *T) *connect.Request[T] {
	r := connect.NewRequest(msg)
	r.Header().Set("Authorization", "Bearer "+c.token)
	r.Header().Set("Host", c.host) // connect sends it as :authority
	return r
}

func (c *rpcClient) getIDP(ctx context.Context, id string) error {
	_, err := c.idp.GetIDPByID(ctx, request(c, &idpv2.GetIDPByIDRequest{Id: id}))
	return err
}

func (c *rpcClient) addIDPLink(ctx context.Context, userID, idpID, externalID string) error {
	_, err := c.user.AddIDPLink(ctx, request(c, &userv2.AddIDPLinkRequest{
		UserId:  userID,
		IdpLink: &userv2.IDPLink{IdpId: idpID, UserId: externalID, UserName: linkUserName(externalID)},
	}))
	return err
}
