package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
)

func rememberUI(t *testing.T, secure bool) *UI {
	t.Helper()
	keys, err := secretbox.NewKeyring(make([]byte, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(Deps{Keys: keys, ExternalSecure: secure})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRememberedSessionsCookie: the browser's sessions are sealed in an
// HttpOnly, SameSite=Lax cookie on BasePath (Secure under
// --external-secure) that opens only for its instance and untampered;
// the newest session comes first, one per user, at most maxRemembered.
func TestRememberedSessionsCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		u := rememberUI(t, secure)
		var cookie *http.Cookie
		for i, user := range []string{"u1", "u2", "u1", "u3", "u4", "u5", "u6"} {
			req := httptest.NewRequest(http.MethodGet, BasePath+"/login", nil)
			if cookie != nil {
				req.AddCookie(cookie)
			}
			rec := httptest.NewRecorder()
			if err := u.remember(rec, req, "inst", remembered{ID: "s" + string(rune('0'+i)), Token: "tok-secret", UserID: user}); err != nil {
				t.Fatal(err)
			}
			cookie = rec.Result().Cookies()[0]
		}
		if cookie.Name != sessionsCookie || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != BasePath ||
			cookie.Secure != secure {
			t.Fatalf("secure=%v: cookie %+v", secure, cookie)
		}
		if strings.Contains(cookie.Value, "tok-secret") {
			t.Fatal("the session token is readable in the cookie")
		}
		req := httptest.NewRequest(http.MethodGet, BasePath+"/login", nil)
		req.AddCookie(cookie)
		var users []string
		for _, s := range u.rememberedSessions(req, "inst") {
			users = append(users, s.UserID)
		}
		if got := strings.Join(users, ","); got != "u6,u5,u4,u3,u1" {
			t.Fatalf("remembered %s", got)
		}
		if got := u.rememberedSessions(req, "other"); got != nil {
			t.Fatalf("another instance opened it: %v", got)
		}
		bad := httptest.NewRequest(http.MethodGet, BasePath+"/login", nil)
		bad.AddCookie(&http.Cookie{Name: sessionsCookie, Value: cookie.Value[:len(cookie.Value)-4] + "AAAA"})
		if got := u.rememberedSessions(bad, "inst"); got != nil {
			t.Fatalf("a tampered cookie opened: %v", got)
		}
	}
}

// TestFits: which session may finish an auth request.
func TestFits(t *testing.T) {
	now := time.Now()
	created := now.Add(-time.Minute)
	hour, zero := time.Hour, time.Duration(0)
	s := &query.Session{UserID: "u", UserOrgID: "o", Created: now.Add(-2 * time.Hour), PasswordCheckedAt: now.Add(-30 * time.Minute)}
	for name, c := range map[string]struct {
		s    *query.Session
		info AuthRequestInfo
		want bool
	}{
		"plain":              {s, AuthRequestInfo{Created: created}, true},
		"no user":            {&query.Session{Created: now}, AuthRequestInfo{Created: created}, false},
		"expired":            {&query.Session{UserID: "u", Created: now, Expiration: now.Add(-time.Second)}, AuthRequestInfo{Created: created}, false},
		"hinted user":        {s, AuthRequestInfo{HintUserID: "u", Created: created}, true},
		"another user":       {s, AuthRequestInfo{HintUserID: "v", Created: created}, false},
		"its org":            {s, AuthRequestInfo{OrgID: "o", Created: created}, true},
		"another org":        {s, AuthRequestInfo{OrgID: "p", Created: created}, false},
		"within max_age":     {s, AuthRequestInfo{MaxAge: &hour, Created: created}, true},
		"max_age 0":          {s, AuthRequestInfo{MaxAge: &zero, Created: created}, false},
		"checked after 0":    {&query.Session{UserID: "u", Created: now}, AuthRequestInfo{MaxAge: &zero, Created: created}, true},
		"older than max_age": {&query.Session{UserID: "u", Created: now.Add(-3 * time.Hour)}, AuthRequestInfo{MaxAge: &hour, Created: created}, false},
	} {
		if got := fits(c.s, c.info, now); got != c.want {
			t.Errorf("%s: fits = %v, want %v", name, got, c.want)
		}
	}
}
