package ui

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui/sealed"
)

// The browser's signed-in sessions: the hosted login remembers each
// session it finished a login with (ID and current token, per user, the
// newest first) in a sealed cookie that is HttpOnly, SameSite=Lax, Secure
// under --external-secure and scoped to BasePath, so that a later auth
// request of the same browser can reuse one (single sign-on, prompt=none)
// without asking again. Whether a session may be reused is decided anew
// on every request: it must still be valid, its user fit the request, and
// its last check be recent enough for max_age.

const (
	sessionsCookie   = "idledger_sessions"
	sessionsLifetime = 14 * 24 * time.Hour
	maxRemembered    = 5
)

// remembered is one session of the browser.
type remembered struct {
	ID     string `json:"id"`
	Token  string `json:"t"`
	UserID string `json:"u"`
}

type rememberedSet struct {
	Instance string       `json:"in"`
	Sessions []remembered `json:"s"`
}

func sessionsAAD(instanceID string) secretbox.AAD {
	return secretbox.AAD{InstanceID: instanceID, IDPID: "hosted-login", Field: "sessions"}
}

// rememberedSessions opens the cookie of instanceID; a missing, tampered
// or foreign one is no sessions.
func (u *UI) rememberedSessions(r *http.Request, instanceID string) []remembered {
	var set rememberedSet
	if !sealed.Read(r, sessionsCookie, u.d.Keys, sessionsAAD(instanceID), &set) || set.Instance != instanceID {
		return nil
	}
	return set.Sessions
}

// remember adds the session to the browser's, replacing the user's
// earlier one.
func (u *UI) remember(w http.ResponseWriter, r *http.Request, instanceID string, s remembered) error {
	list := slices.DeleteFunc(u.rememberedSessions(r, instanceID), func(o remembered) bool {
		return o.UserID == s.UserID || o.ID == s.ID
	})
	list = append([]remembered{s}, list...)
	if len(list) > maxRemembered {
		list = list[:maxRemembered]
	}
	v, err := sealed.Value(u.d.Keys, sessionsAAD(instanceID), rememberedSet{Instance: instanceID, Sessions: list})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionsCookie, Value: v,
		Path: BasePath, MaxAge: int(sessionsLifetime / time.Second), HttpOnly: true, Secure: u.d.ExternalSecure,
		SameSite: http.SameSiteLaxMode})
	return nil
}

// forgetSessions ends the cookie (the logout page).
func (u *UI) forgetSessions(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionsCookie, Value: "", Path: BasePath, MaxAge: -1, HttpOnly: true,
		Secure: u.d.ExternalSecure, SameSite: http.SameSiteLaxMode})
}

// lastCheck is when the session's user last proved a factor (as the
// command that links a session computes the ID token's auth_time).
func lastCheck(s *query.Session) time.Time {
	t := s.Created
	for _, at := range []time.Time{s.PasswordCheckedAt, s.IntentCheckedAt} {
		if at.After(t) {
			t = at
		}
	}
	return t
}

// fits reports whether session s may finish auth request info: a user,
// not expired, the hinted user and the requested org if any, and a last
// check within max_age before the request.
func fits(s *query.Session, info AuthRequestInfo, now time.Time) bool {
	switch {
	case s.UserID == "":
		return false
	case !s.Expiration.IsZero() && !now.Before(s.Expiration):
		return false
	case info.HintUserID != "" && s.UserID != info.HintUserID:
		return false
	case info.OrgID != "" && s.UserOrgID != info.OrgID:
		return false
	case info.MaxAge != nil && lastCheck(s).Before(info.Created.Add(-*info.MaxAge)):
		return false
	}
	return true
}

// reuseSession finishes auth request id with the first of the browser's
// sessions that fits it, and answers the callback URL; "" when none does.
// An error is a server-side failure.
func (u *UI) reuseSession(ctx context.Context, r *http.Request, instanceID, id string, info AuthRequestInfo) (string, error) {
	for _, rs := range u.rememberedSessions(r, instanceID) {
		s, err := u.d.Queries.SessionByID(ctx, rs.ID, rs.Token)
		if err != nil {
			if serverSide(err) {
				return "", err
			}
			continue
		}
		if !fits(s, info, time.Now()) {
			continue
		}
		cb, err := u.d.AuthRequests.LinkSession(ctx, instanceID, id, rs.ID, rs.Token)
		if err == nil {
			return cb, nil
		}
		if serverSide(err) {
			return "", err
		}
	}
	return "", nil
}
