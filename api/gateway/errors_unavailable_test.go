package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/idledger/idledger/errs"
)

// TestDatabaseUnavailableIs503 checks that every way a database outage
// surfaces, raw or wrapped in errs.Internal, is answered 503 with the
// standard body and no cause, while other internal errors stay 500.
func TestDatabaseUnavailableIs503(t *testing.T) {
	unavailable := map[string]error{
		"connect error":      &pgconn.ConnectError{},
		"admin shutdown":     &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
		"crash shutdown":     &pgconn.PgError{Code: "57P02"},
		"cannot connect now": &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"},
		"connection failure": &pgconn.PgError{Code: "08006"},
		"too many conns":     &pgconn.PgError{Code: "53300"},
		"statement timeout":  &pgconn.PgError{Code: "57014"},
		"net error":          &net.OpError{Op: "dial", Net: "unix", Err: syscall.ENOENT},
		"refused":            fmt.Errorf("dial: %w", syscall.ECONNREFUSED),
		"unexpected EOF":     fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF),
		"conn closed":        errors.New("conn closed"),
		"closed pool":        errors.New("closed pool"),
	}
	for name, cause := range unavailable {
		for _, err := range []error{cause, errs.Internal("QUERY-Test1", fmt.Errorf("lookup: %w", cause))} {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
			var body errorBody
			if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
				body.Code != 14 || body.Message != "database is not reachable (GATEWAY-Db503)" ||
				len(body.Details) != 1 || body.Details[0].ID != "GATEWAY-Db503" {
				t.Errorf("%s (%T): %d %s", name, err, rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "QUERY-Test1") || strings.Contains(rec.Body.String(), "lookup") {
				t.Errorf("%s: the body leaks the cause: %s", name, rec.Body)
			}
		}
	}
	for name, err := range map[string]error{
		"unique violation": errs.Internal("X-1", &pgconn.PgError{Code: "23505"}),
		"plain bug":        errors.New("nil map"),
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s: %d, want 500", name, rec.Code)
		}
	}
	// A deadline (the request timeout) stays 503 "service unavailable".
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), errs.Internal("X-2", context.DeadlineExceeded))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":14`) {
		t.Errorf("deadline: %d %s", rec.Code, rec.Body)
	}
}
