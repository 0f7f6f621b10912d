package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui/sealed"
)

// The login flow: what the pages remember between requests, sealed with the
// instance's keyring (so only the server reads or changes it) in a cookie
// that is HttpOnly, SameSite=Lax, Secure under --external-secure and
// scoped to BasePath. It binds the flow (its auth request, its intent) to
// the browser that started it; its CSRF token is the one every form
// carries (a synchronizer token kept in the sealed cookie).

const (
	flowCookie   = "idledger_login"
	flowLifetime = time.Hour
	maxForm      = 64 << 10
)

// flow is the cookie's content.
type flow struct {
	Instance    string `json:"in"`
	CSRF        string `json:"cs"`
	AuthRequest string `json:"ar,omitempty"`
	Org         string `json:"org,omitempty"`
	LoginName   string `json:"ln,omitempty"`
	// The IdP login in progress: the intent the browser went to, and once
	// back, its token (for the session check after linking or registering).
	IDPID       string `json:"idp,omitempty"`
	IntentID    string `json:"ii,omitempty"`
	IntentToken string `json:"it,omitempty"`
	// CHOOSE: the matching users (the one signed in to must be among
	// them) and their masked login names (for the page again).
	Choose     []string `json:"ch,omitempty"`
	Candidates []string `json:"cn,omitempty"`
	Expires    int64    `json:"exp"`
}

func flowAAD(instanceID string) secretbox.AAD {
	return secretbox.AAD{InstanceID: instanceID, IDPID: "hosted-login", Field: "flow"}
}

// newFlow starts a flow for instanceID with a fresh CSRF token.
func newFlow(instanceID string) (*flow, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return &flow{Instance: instanceID, CSRF: base64.RawURLEncoding.EncodeToString(b),
		Expires: time.Now().Add(flowLifetime).Unix()}, nil
}

// save seals f into the flow cookie.
func (u *UI) save(w http.ResponseWriter, f *flow) error {
	v, err := sealed.Value(u.d.Keys, flowAAD(f.Instance), f)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: v,
		Path: BasePath, MaxAge: int(flowLifetime / time.Second), HttpOnly: true, Secure: u.d.ExternalSecure,
		SameSite: http.SameSiteLaxMode})
	return nil
}

var (
	errNoFlow      = errors.New("ui: no login flow")
	errFlowExpired = errors.New("ui: login flow expired")
)

// load opens the flow cookie of instanceID: errNoFlow when it is missing or
// does not open (another instance's, tampered, an old key), errFlowExpired
// when it is too old.
func (u *UI) load(r *http.Request, instanceID string) (*flow, error) {
	var f flow
	if !sealed.Read(r, flowCookie, u.d.Keys, flowAAD(instanceID), &f) || f.Instance != instanceID || f.CSRF == "" {
		return nil, errNoFlow
	}
	if time.Now().Unix() > f.Expires {
		return nil, errFlowExpired
	}
	return &f, nil
}

// handler is a page that runs in a flow.
type handler func(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow)

// withFlow runs a form POST: the instance, the flow cookie and the form's
// CSRF token must all be there and agree, else 403 (a form sent from
// another site, replayed without its token, or from another browser).
func (u *UI) withFlow(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		instanceID, ctx, err := u.instance(r)
		if err != nil {
			u.fail(w, r, http.StatusNotFound, "error.unknownHost", "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			u.fail(w, r, http.StatusBadRequest, "error.csrf", "")
			return
		}
		f, err := u.load(r, instanceID)
		if errors.Is(err, errFlowExpired) {
			u.fail(w, r, http.StatusBadRequest, "error.flow", "")
			return
		}
		token := r.PostForm.Get("csrf")
		if err != nil || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(f.CSRF)) != 1 {
			u.fail(w, r, http.StatusForbidden, "error.csrf", "")
			return
		}
		h(w, r, ctx, f)
	}
}

// withFlowGet runs a GET inside a flow (the IdP's return): the cookie must
// be there; the handler checks that the request belongs to it.
func (u *UI) withFlowGet(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		instanceID, ctx, err := u.instance(r)
		if err != nil {
			u.fail(w, r, http.StatusNotFound, "error.unknownHost", "")
			return
		}
		f, err := u.load(r, instanceID)
		if err != nil {
			u.fail(w, r, http.StatusBadRequest, "error.flow", "")
			return
		}
		h(w, r, ctx, f)
	}
}
