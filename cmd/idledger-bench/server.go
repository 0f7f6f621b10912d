package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/migrations"
	"github.com/idledger/idledger/projection"
)

// server is the in-process idledger the scenarios drive.
type server struct {
	url   string
	host  string // Host header selecting the bench's instance
	token string
	reg   *projection.Registry
	store *eventstore.Postgres
	close func()
}

// startServer migrates the database and serves the whole application, wired
// by app.New exactly as `idledger serve` wires it, on a loopback port. On an
// empty store it bootstraps the first instance; on a store that has one it
// adds an instance of its own, so a shared database is never disturbed.
func startServer(ctx context.Context, pool *pgxpool.Pool, logf func(string, ...any)) (*server, error) {
	if _, err := migrations.Apply(ctx, pool); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// The access log is part of a request's cost: keep it, formatted as JSON
	// like `serve` does off a terminal, but thrown away.
	log := zerolog.New(io.Discard).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	a, err := app.New(ctx, app.Options{Pool: pool, Log: log})
	if err != nil {
		return nil, err
	}
	host := "127.0.0.1"
	inst, err := a.Bootstrap(ctx, "localhost", nil, "")
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if inst == nil {
		host = "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".localhost"
		logf("the database has an instance already; benchmarking in a new instance %s", host)
		if inst, err = a.AddInstance(ctx, host, ""); err != nil {
			return nil, fmt.Errorf("add bench instance: %w", err)
		}
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done, err := a.Start(bg)
	if err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		<-done
		return nil, fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: withFloor(a.Handler()), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	// HTTP/1.1 and h2c, as serve listens: the gRPC scenarios need HTTP/2.
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetUnencryptedHTTP2(true)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	return &server{
		url: "http://" + ln.Addr().String(), host: host, token: inst.AdminPAT,
		reg: a.Registry(), store: a.Store(),
		close: func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			if err := hs.Shutdown(sctx); err != nil {
				_ = hs.Close()
			}
			if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
				logf("http server: %v", err)
			}
			cancel()
			<-done
		},
	}, nil
}
