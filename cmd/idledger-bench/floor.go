package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/gen/zitadel/idp/v2/idpv2connect"
)

// floorPath is the http_floor scenario's route: the bench server answers
// it before idledger's handler, with no middleware, no authentication and
// no query, the bytes of a get_idp answer. It is the floor of what any
// HTTP read costs in this process (the load generator's client, net/http's
// server, the loopback socket), so its ratio to the raw select bounds the
// ratio any HTTP scenario can reach against a one-statement baseline.
const floorPath = "/_bench/http_floor"

// floorBody is what floorPath answers (set by httpFloor before it runs).
var floorBody atomic.Pointer[[]byte]

// withFloor serves floorPath itself and the rest with next.
func withFloor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != floorPath {
			next.ServeHTTP(w, r)
			return
		}
		body := floorBody.Load()
		if body == nil {
			http.Error(w, "http_floor: no body captured", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*body)
	})
}

// httpFloor GETs floorPath, after capturing a get_idp answer as its body.
func httpFloor(b *bench) op {
	body, captureErr := b.c.do(context.Background(), "GET", "/v2/idps/"+b.fx.idps[0], "", nil)
	if captureErr == nil {
		floorBody.Store(&body)
	}
	return func(ctx context.Context, w *worker) error {
		if captureErr != nil {
			return fmt.Errorf("http_floor: capture a get_idp answer: %w", captureErr)
		}
		return w.timed(func() error {
			out, err := b.c.do(ctx, "GET", floorPath, "", nil)
			if err == nil && len(out) != len(body) {
				err = fmt.Errorf("http_floor: %d bytes, want %d", len(out), len(body))
			}
			return err
		})
	}
}

// grpcFloor is http_floor over gRPC: GetIDPByID on a server of its own
// (the same http.Server settings and h2c as the bench server's) whose only
// handler is connect-go's for the IdP service, answering the message of a
// get_idp_grpc call. Against http_floor (grpc_vs_rest) it is the ratio that
// the transports themselves allow, before any of idledger's code runs.
func grpcFloor(b *bench) op {
	resp, captureErr := b.rpc.idp.GetIDPByID(context.Background(), request(b.rpc, &idpv2.GetIDPByIDRequest{Id: b.fx.idps[0]}))
	var c *rpcClient
	if captureErr == nil {
		var url string
		url, captureErr = startFloorRPC(resp.Msg)
		c = newRPCClient(url, b.rpc.host, b.rpc.token)
	}
	return func(ctx context.Context, w *worker) error {
		if captureErr != nil {
			return fmt.Errorf("grpc_floor: %w", captureErr)
		}
		return w.timed(func() error {
			_, err := c.idp.GetIDPByID(ctx, request(c, &idpv2.GetIDPByIDRequest{Id: "floor"}))
			return err
		})
	}
}

// floorIDPService answers GetIDPByID with one message.
type floorIDPService struct {
	idpv2connect.UnimplementedIdentityProviderServiceHandler
	resp *idpv2.GetIDPByIDResponse
}

func (s floorIDPService) GetIDPByID(context.Context, *connect.Request[idpv2.GetIDPByIDRequest]) (*connect.Response[idpv2.GetIDPByIDResponse], error) {
	return connect.NewResponse(s.resp), nil
}

// floorRPC is the gRPC floor's server, started once per process and left
// to the process's end (it holds no database and no files).
var floorRPC struct {
	once sync.Once
	url  string
	err  error
}

func startFloorRPC(resp *idpv2.GetIDPByIDResponse) (string, error) {
	floorRPC.once.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			floorRPC.err = err
			return
		}
		mux := http.NewServeMux()
		mux.Handle(idpv2connect.NewIdentityProviderServiceHandler(floorIDPService{resp: resp}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
		hs.Protocols = new(http.Protocols)
		hs.Protocols.SetHTTP1(true)
		hs.Protocols.SetUnencryptedHTTP2(true)
		go func() { _ = hs.Serve(ln) }()
		floorRPC.url = "http://" + ln.Addr().String()
	})
	return floorRPC.url, floorRPC.err
}
