package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/ui/authbind"
)

// maxLoginName bounds a login name (as the session's user check).
const maxLoginName = 200

// policy is the login policy that applies to a flow: the org's custom one
// (the auth request's org scope, or ?organization=), else the instance's
// default. The IdPs are listed only when the policy allows external IdPs.
func (u *UI) policy(ctx context.Context, orgID string) (*query.LoginPolicy, error) {
	if orgID == "" {
		return u.d.Queries.DefaultLoginPolicy(ctx)
	}
	return u.d.Queries.OrgLoginPolicy(ctx, orgID)
}

// idpButtons are the policy's IdPs, when it allows external IdPs.
func idpButtons(p *query.LoginPolicy) []idpButton {
	if !p.Settings.AllowExternalIDP {
		return nil
	}
	var bs []idpButton
	for _, i := range p.IDPs {
		bs = append(bs, idpButton{ID: i.IDPID, Name: i.Name})
	}
	return bs
}

// again is where "Start again" leads in f.
func again(f *flow) string {
	v := url.Values{}
	if f.AuthRequest != "" {
		v.Set("authRequest", f.AuthRequest)
	} else if f.Org != "" {
		v.Set("organization", f.Org)
	}
	if len(v) == 0 {
		return BasePath + "/login"
	}
	return BasePath + "/login?" + v.Encode()
}

// loginPage is GET /login: ?authRequest=V2_<id> (the OpenID Provider's
// auth request) or, without one, a sign-in to the instance itself,
// optionally in ?organization=<org ID>.
func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	instanceID, ctx, err := u.instance(r)
	if err != nil {
		u.fail(w, r, http.StatusNotFound, "error.unknownHost", "")
		return
	}
	q := r.URL.Query()
	f, err := newFlow(instanceID)
	if err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.internal", "")
		return
	}
	var info AuthRequestInfo
	if _, asked := q["authRequest"]; asked {
		id := q.Get("authRequest")
		if u.d.AuthRequests == nil || id == "" || len(id) > 200 {
			u.fail(w, r, http.StatusNotFound, "error.invalidLink", "")
			return
		}
		if !authbind.Bound(r, u.d.Keys, instanceID, id) {
			// Not started in this browser (a link copied or sent to
			// another one): the same page as an unknown request.
			u.fail(w, r, http.StatusNotFound, "error.invalidLink", "")
			return
		}
		if info, err = u.d.AuthRequests.Get(ctx, instanceID, id); err != nil {
			u.fail(w, r, http.StatusNotFound, "error.invalidLink", "")
			return
		}
		f.AuthRequest, f.Org = id, info.OrgID
		p, err := u.policy(ctx, f.Org)
		if err != nil {
			u.fail(w, r, http.StatusInternalServerError, "error.policy", "")
			return
		}
		// With forceMfa no remembered session is reused: none of them has
		// a second factor (the hosted login offers none).
		if reusable(info.Prompt) && !p.Settings.ForceMFA {
			cb, err := u.reuseSession(ctx, r, instanceID, id, info)
			if err != nil {
				u.failInternal(w, r, err, f)
				return
			}
			if cb != "" {
				http.Redirect(w, r, cb, http.StatusFound)
				return
			}
		}
		if slices.Contains(info.Prompt, promptNone) {
			// No session of this browser fits, and the app asked for no
			// interaction (OIDC Core §3.1.2.6).
			cb, err := u.d.AuthRequests.Fail(ctx, instanceID, id, "login_required", "")
			if err != nil {
				u.failErr(w, r, f, err, http.StatusNotFound, "error.invalidLink")
				return
			}
			http.Redirect(w, r, cb, http.StatusFound)
			return
		}
	} else if org := q.Get("organization"); org != "" {
		ok, err := u.d.Queries.OrgExists(ctx, instanceID, org)
		if err != nil || !ok {
			u.fail(w, r, http.StatusNotFound, "error.invalidLink", "")
			return
		}
		f.Org = org
	}
	p, err := u.policy(ctx, f.Org)
	if err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.policy", "")
		return
	}
	idps := idpButtons(p)
	switch {
	case info.IDPID != "" && nameOf(idps, info.IDPID) != "":
		// The app's IdP scope goes straight to the IdP only when the
		// policy allows it (allowExternalIdp, the IdP listed); otherwise
		// the login page, as ZITADEL's login.
		u.startIntent(w, r, ctx, f, info.IDPID, nameOf(idps, info.IDPID))
		return
	case len(idps) == 1 && !p.Settings.AllowUsernamePassword:
		u.startIntent(w, r, ctx, f, idps[0].ID, idps[0].Name)
		return
	}
	if err := u.save(w, f); err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.internal", "")
		return
	}
	u.render(w, r, http.StatusOK, "login", page{Title: "login.title", CSRF: f.CSRF, LoginName: info.LoginHint,
		Password: p.Settings.AllowUsernamePassword, IDPs: idps})
}

// The prompt values (OIDC Core §3.1.2.1).
const (
	promptNone = "none"
)

// reusable reports whether the request's prompt lets a session of the
// browser finish it without asking: none, or no prompt; login,
// select_account and create always ask.
func reusable(prompt []string) bool {
	if slices.Contains(prompt, promptNone) {
		return true
	}
	return !slices.ContainsFunc(prompt, func(p string) bool { return p == "login" || p == "select_account" || p == "create" })
}

func nameOf(idps []idpButton, id string) string {
	for _, b := range idps {
		if b.ID == id {
			return b.Name
		}
	}
	return ""
}

// loginName is POST /login: it remembers the login name and asks for the
// password. It does not look the name up: an unknown name and a wrong
// password read the same, on the password page.
func (u *UI) loginName(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	p, err := u.policy(ctx, f.Org)
	if err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.policy", again(f))
		return
	}
	if !p.Settings.AllowUsernamePassword {
		u.fail(w, r, http.StatusForbidden, "login.noMethod", again(f))
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("loginName"))
	if name == "" || len(name) > maxLoginName {
		u.render(w, r, http.StatusBadRequest, "login", page{Title: "login.title", CSRF: f.CSRF, Error: "login.required",
			Password: true, IDPs: idpButtons(p)})
		return
	}
	if !p.Settings.IgnoreUnknownUsernames {
		// ZITADEL's default: an unknown login name is said at once; with
		// ignoreUnknownUsernames it goes on to the password page and fails
		// there like a wrong password.
		ids, err := u.d.Queries.UserIDsByLoginName(ctx, f.Instance, name)
		if err != nil {
			u.failInternal(w, r, err, f)
			return
		}
		if len(ids) == 0 {
			u.render(w, r, http.StatusOK, "login", page{Title: "login.title", CSRF: f.CSRF, LoginName: name,
				Error: "login.unknownUser", Password: true, IDPs: idpButtons(p)})
			return
		}
	}
	f.LoginName = name
	if err := u.save(w, f); err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.internal", "")
		return
	}
	u.render(w, r, http.StatusOK, "password", page{Title: "password.title", CSRF: f.CSRF, LoginName: name, Again: again(f)})
}

// password is POST /password: a session with the user and password checks
// (the failed-attempt limits are the session command's).
func (u *UI) password(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	if f.LoginName == "" {
		u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		return
	}
	s, err := u.passwordSession(ctx, f.LoginName, r.PostForm.Get("password"))
	if err != nil {
		if serverSide(err) {
			u.failInternal(w, r, err, f)
			return
		}
		u.render(w, r, http.StatusOK, "password", page{Title: "password.title", CSRF: f.CSRF, LoginName: f.LoginName,
			Error: "password.invalid", Again: again(f)})
		return
	}
	u.signedIn(w, r, ctx, f, s.ID, s.Token, true)
}

// passwordSession is a new session with the user and password checks.
func (u *UI) passwordSession(ctx context.Context, loginName, password string) (*command.SessionChanged, error) {
	return u.d.Commands.CreateSession(ctx, command.CreateSession{Checks: command.SessionChecks{
		User: &command.UserCheck{LoginName: loginName}, Password: &command.PasswordCheck{Password: password}}})
}

// intentSession is a new session with the user and IdP intent checks (the
// intent is used up).
func (u *UI) intentSession(ctx context.Context, userID, intentID, intentToken string) (*command.SessionChanged, error) {
	return u.d.Commands.CreateSession(ctx, command.CreateSession{Checks: command.SessionChecks{
		User: &command.UserCheck{UserID: userID}, Intent: &command.IntentCheck{ID: intentID, Token: intentToken}}})
}

// serverSide reports an error that is not the user's input.
func serverSide(err error) bool {
	switch errs.KindOf(err) {
	case errs.KindInternal, errs.KindUnavailable, errs.KindUnknown, errs.KindAborted, errs.KindDeadlineExceeded:
		return true
	}
	return false
}

// failErr answers the error page for err: the internal one when it is not
// the user's doing, else message with status.
func (u *UI) failErr(w http.ResponseWriter, r *http.Request, f *flow, err error, status int, message string) {
	if serverSide(err) {
		u.failInternal(w, r, err, f)
		return
	}
	u.fail(w, r, status, message, again(f))
}

func (u *UI) failInternal(w http.ResponseWriter, r *http.Request, err error, f *flow) {
	u.d.Log.Error().Err(err).Str("request_id", gateway.RequestIDFrom(r.Context())).Msg("hosted login")
	u.fail(w, r, http.StatusInternalServerError, "error.internal", again(f))
}

// signedIn ends a flow with a checked session: the auth request is
// finished with it and the browser goes back to the app; without an auth
// request, the page says who is signed in. local is a password login (an
// IdP login otherwise): when the applicable policy forces a second factor
// for it (forceMfa; for IdP logins unless forceMfaLocalOnly), which the
// hosted login does not offer, the session is terminated and the page
// says so.
func (u *UI) signedIn(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow, sessionID, token string, local bool) {
	p, err := u.policy(ctx, f.Org)
	if err != nil {
		u.failInternal(w, r, err, f)
		return
	}
	if p.Settings.ForceMFA && (local || !p.Settings.ForceMFALocalOnly) {
		if _, err := u.d.Commands.DeleteSession(ctx, sessionID, token); err != nil {
			u.failInternal(w, r, err, f)
			return
		}
		u.clear(w)
		u.fail(w, r, http.StatusForbidden, "login.mfaRequired", again(f))
		return
	}
	u.clear(w)
	s, err := u.d.Queries.SessionByID(ctx, sessionID, token)
	if err != nil {
		u.failInternal(w, r, err, f)
		return
	}
	if err := u.remember(w, r, f.Instance, remembered{ID: sessionID, Token: token, UserID: s.UserID}); err != nil {
		u.failInternal(w, r, err, f)
		return
	}
	if f.AuthRequest != "" {
		if u.d.AuthRequests == nil {
			u.fail(w, r, http.StatusNotFound, "error.invalidLink", "")
			return
		}
		cb, err := u.d.AuthRequests.LinkSession(ctx, f.Instance, f.AuthRequest, sessionID, token)
		if err != nil {
			u.fail(w, r, http.StatusBadRequest, "error.invalidLink", "")
			return
		}
		u.render(w, r, http.StatusOK, "redirect", page{Title: "redirect.title", Link: cb, LinkText: "redirect.app", Refresh: true})
		return
	}
	u.render(w, r, http.StatusOK, "signedin", page{Title: "signedin.title", LoginName: s.LoginName})
}

// clear ends the flow cookie.
func (u *UI) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: BasePath, MaxAge: -1, HttpOnly: true,
		Secure: u.d.ExternalSecure, SameSite: http.SameSiteLaxMode})
}

// startIDP is POST /idp: one of the policy's IdP buttons.
func (u *UI) startIDP(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	p, err := u.policy(ctx, f.Org)
	if err != nil {
		u.fail(w, r, http.StatusInternalServerError, "error.policy", again(f))
		return
	}
	id := r.PostForm.Get("idpId")
	name := nameOf(idpButtons(p), id)
	if name == "" {
		u.fail(w, r, http.StatusBadRequest, "error.idpRefused", again(f))
		return
	}
	u.startIntent(w, r, ctx, f, id, name)
}

// startIntent starts the IdP login (command StartIntent) with the way back
// into the hosted login, remembers the intent in the flow, and sends the
// browser to the IdP: a page that goes on at once (a meta refresh, so that
// the CSP's form-action need not name every IdP), or SAML's POST form.
func (u *UI) startIntent(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow, idpID, name string) {
	origin := gateway.Origin(r, u.d.ExternalSecure)
	s, err := u.d.Commands.StartIntent(ctx, command.StartIntentInput{IDPID: idpID, Origin: origin,
		URLs: &command.IntentURLs{Success: origin + BasePath + "/idp/success", Failure: origin + BasePath + "/idp/failure"}})
	if err != nil {
		if serverSide(err) {
			u.d.Log.Warn().Err(err).Str("idp", idpID).Msg("hosted login: IdP start")
			u.fail(w, r, http.StatusBadGateway, "error.idpUnavailable", again(f))
			return
		}
		u.fail(w, r, http.StatusBadRequest, "error.idpFailed", again(f))
		return
	}
	f.IDPID, f.IntentID, f.IntentToken = idpID, s.Details.ID, ""
	if err := u.save(w, f); err != nil {
		u.failInternal(w, r, err, f)
		return
	}
	if s.Form != nil {
		target, err := url.Parse(s.Form.URL)
		if err != nil || target.Host == "" {
			u.fail(w, r, http.StatusBadGateway, "error.idpUnavailable", again(f))
			return
		}
		u.render(w, r, http.StatusOK, "formpost", page{Title: "redirect.title", Form: s.Form, Name: name},
			target.Scheme+"://"+target.Host)
		return
	}
	u.render(w, r, http.StatusOK, "redirect", page{Title: "redirect.title", Link: s.AuthURL, LinkText: "redirect.idp",
		Name: name, Refresh: true})
}

// idpSuccess is the IdP's way back (the intent's success URL): the server
// decides (DecideIntentLogin) and the page shows the outcome.
func (u *UI) idpSuccess(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	q := r.URL.Query()
	id, token := q.Get("id"), q.Get("token")
	if f.IntentID == "" || id != f.IntentID || token == "" || len(token) > 200 {
		u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		return
	}
	d, err := u.d.Commands.DecideIntentLogin(ctx, command.DecideLoginInput{IntentID: id, IntentToken: token, OrgID: f.Org})
	if err != nil {
		u.failErr(w, r, f, err, http.StatusBadRequest, "error.idpFailed")
		return
	}
	if d.UpdateErr != nil {
		u.d.Log.Warn().Err(d.UpdateErr).Msg("hosted login: profile update from the IdP failed")
	}
	switch d.Outcome {
	case command.LoginSignedIn:
		s, err := u.intentSession(ctx, d.UserID, id, token)
		if err != nil {
			u.failErr(w, r, f, err, http.StatusBadRequest, "error.idpFailed")
			return
		}
		u.signedIn(w, r, ctx, f, s.ID, s.Token, false)
		return
	case command.LoginChoose, command.LoginOfferLinking, command.LoginOfferRegistration:
		f.IntentToken, f.Org = token, d.OrgID
		f.Choose, f.Candidates = nil, nil
		if d.Outcome == command.LoginChoose {
			f.Choose, f.Candidates = d.Candidates.UserIDs, d.Candidates.LoginNames
		}
		if err := u.save(w, f); err != nil {
			u.failInternal(w, r, err, f)
			return
		}
		if d.Outcome == command.LoginOfferRegistration {
			u.render(w, r, http.StatusOK, "register", page{Title: "register.title", CSRF: f.CSRF, Prefill: prefill(d.Intent)})
			return
		}
		u.render(w, r, http.StatusOK, "link", page{Title: "link.title", CSRF: f.CSRF, Candidates: d.Candidates.LoginNames})
		return
	}
	msg := "error.idpRefused"
	if d.Refusal != nil && d.Refusal.ID == "EVENT-fJe2a" {
		msg = "error.idpOtherOrg"
	}
	u.fail(w, r, http.StatusForbidden, msg, again(f))
}

// prefill is the registration form from the IdP's claims.
func prefill(in command.IntentInfo) registration {
	username := in.User.PreferredUsername
	if username == "" {
		username = in.User.Email
	}
	return registration{Username: username, GivenName: in.User.FirstName, FamilyName: in.User.LastName, Email: in.User.Email}
}

// idpFailure is the intent's failure URL: the IdP said no, or the
// callback did not verify.
func (u *UI) idpFailure(w http.ResponseWriter, r *http.Request, _ context.Context, f *flow) {
	u.fail(w, r, http.StatusBadRequest, "error.idpFailed", again(f))
}

// intentInFlow is the flow's returned intent, or false.
func intentInFlow(f *flow) bool { return f.IntentID != "" && f.IntentToken != "" }

// idpLink is POST /idp/link (CHOOSE or OFFER_LINKING): the user proves an
// existing account with login name and password, links the IdP's account
// to it (as that user: their own link), and signs in with the intent.
func (u *UI) idpLink(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	if !intentInFlow(f) {
		u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("loginName"))
	retryWith := func(msg string) {
		u.render(w, r, http.StatusOK, "link", page{Title: "link.title", CSRF: f.CSRF, LoginName: name, Error: msg,
			Candidates: f.Candidates})
	}
	retry := func() { retryWith("password.invalid") }
	if name == "" || len(name) > maxLoginName {
		retry()
		return
	}
	s, err := u.passwordSession(ctx, name, r.PostForm.Get("password"))
	if err != nil {
		if serverSide(err) {
			u.failInternal(w, r, err, f)
			return
		}
		retry()
		return
	}
	sess, err := u.d.Queries.SessionByID(ctx, s.ID, s.Token)
	if err != nil {
		u.failInternal(w, r, err, f)
		return
	}
	if len(f.Choose) > 0 && !slices.Contains(f.Choose, sess.UserID) {
		// CHOOSE: only one of the matching accounts may be linked.
		retryWith("link.notCandidate")
		return
	}
	in, err := u.d.Commands.RetrieveIntent(ctx, f.IntentID, f.IntentToken)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		return
	}
	self := u.as(r, f.Instance, sess.UserID)
	_, err = u.d.Commands.AddIDPLink(self, sess.UserID, f.Org, command.IDPLink{IDPID: in.IDPID,
		ExternalUserID: in.User.ID, DisplayName: in.UserName}, command.LinkNames{UserID: "userId", Message: "IDPLink"})
	if err != nil {
		u.failErr(w, r, f, err, http.StatusBadRequest, "error.idpOtherOrg")
		return
	}
	set, err := u.d.Commands.SetSession(ctx, command.SetSession{SessionID: s.ID, SessionToken: s.Token,
		Checks: command.SessionChecks{Intent: &command.IntentCheck{ID: f.IntentID, Token: f.IntentToken}}})
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, "error.idpFailed", again(f))
		return
	}
	u.signedIn(w, r, ctx, f, s.ID, set.Token, false)
}

// idpRegister is POST /idp/register (OFFER_REGISTRATION): a human user
// from the form, linked to the IdP's account, whose capability is the
// intent (RegisterUserFromIntent), then a session with the intent.
func (u *UI) idpRegister(w http.ResponseWriter, r *http.Request, ctx context.Context, f *flow) {
	if !intentInFlow(f) {
		u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		return
	}
	form := registration{Username: strings.TrimSpace(r.PostForm.Get("username")),
		GivenName: strings.TrimSpace(r.PostForm.Get("givenName")), FamilyName: strings.TrimSpace(r.PostForm.Get("familyName")),
		Email: strings.TrimSpace(r.PostForm.Get("email"))}
	created, err := u.d.Commands.RegisterUserFromIntent(ctx, command.RegisterFromIntent{IntentID: f.IntentID,
		IntentToken: f.IntentToken, OrgID: f.Org, Username: form.Username, GivenName: form.GivenName,
		FamilyName: form.FamilyName, Email: form.Email})
	if err != nil {
		switch k := errs.KindOf(err); {
		case serverSide(err):
			u.failInternal(w, r, err, f)
		case errors.Is(err, command.ErrRegistrationNotAllowed):
			u.fail(w, r, http.StatusForbidden, "register.unavailable", again(f))
		case k == errs.KindPermissionDenied || k == errs.KindFailedPrecondition:
			// The intent is no longer good (used, expired, the IdP gone).
			u.fail(w, r, http.StatusBadRequest, "error.flow", again(f))
		default:
			u.render(w, r, http.StatusOK, "register", page{Title: "register.title", CSRF: f.CSRF, Prefill: form, Error: "register.failed"})
		}
		return
	}
	s, err := u.intentSession(ctx, created.ID, f.IntentID, f.IntentToken)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, "error.idpFailed", again(f))
		return
	}
	u.signedIn(w, r, ctx, f, s.ID, s.Token, false)
}

// logoutPage is the end-session confirmation: ?post_logout_redirect= is
// where "Back to the app" leads (the OpenID Provider has checked it); a
// value that is not an absolute http(s) URL is not offered.
func (u *UI) logoutPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := u.instance(r); err != nil {
		u.fail(w, r, http.StatusNotFound, "error.unknownHost", "")
		return
	}
	// Signed out: no session of this browser is reused any more.
	u.forgetSessions(w)
	link := r.URL.Query().Get("post_logout_redirect")
	if t, err := url.Parse(link); err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" || len(link) > 2048 {
		link = ""
	}
	u.render(w, r, http.StatusOK, "logout", page{Title: "logout.title", Link: link})
}
