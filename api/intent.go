package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/upstream"
)

// intentRoutes mounts the IdP intents (authenticated): start and retrieve.
func (a *API) intentRoutes(r chi.Router) {
	r.Post("/v2/idp_intents", a.startIntent)
	r.Post("/v2/idp_intents/{idpIntentId}", a.retrieveIntent)
	r.Post("/v2/idp_intents/{idpIntentId}/login", decodeCall(http.StatusOK, a.decideIntentLogin))
}

// callbackRoutes mounts the upstreams' callbacks. They are not
// authenticated: the browser brings back only what the upstream gave it,
// and the intent (its state, its saved nonce and verifier) is the check.
func (a *API) callbackRoutes(r chi.Router) {
	r.Get("/idps/callback", a.intentCallback)
	r.Post("/idps/callback", a.intentCallback) // Apple's form_post
	r.Get("/idps/jwt", a.intentJWT)
	r.Post("/idps/{idpId}/saml/acs", a.samlACS)
	r.Get("/idps/{idpId}/saml/metadata", a.samlMetadata)
	r.Get("/idps/{idpId}/saml/certificate", a.samlCertificate)
}

// maxSAMLForm bounds the ACS form (ParseForm's own limit is 10 MB).
const maxSAMLForm = 1 << 20

// samlACS is the SAML IdP's POST to the SP: SAMLResponse and RelayState
// (the intent ID). The intent must be one of IdP {idpId}.
func (a *API) samlACS(w http.ResponseWriter, r *http.Request) {
	instanceID, r, ok := a.callbackContext(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSAMLForm)
	if err := r.ParseForm(); err != nil {
		gateway.WriteError(w, r, errs.InvalidArgument("IDP-Form1", "invalid callback form"))
		return
	}
	cb := upstream.Callback{SAMLResponse: r.PostForm.Get("SAMLResponse")}
	a.finishIntent(w, r, command.IntentCallback{InstanceID: instanceID, State: r.PostForm.Get("RelayState"), Callback: cb,
		Origin: a.instanceOrigin(r), IDPID: chi.URLParam(r, "idpId")})
}

// samlServiceProvider resolves the SP of the path's SAML IdP.
func (a *API) samlServiceProvider(w http.ResponseWriter, r *http.Request) (upstream.ServiceProvider, bool) {
	instanceID, r, ok := a.callbackContext(w, r)
	if !ok {
		return nil, false
	}
	sp, err := a.cmds.SAMLServiceProvider(r.Context(), instanceID, chi.URLParam(r, "idpId"), a.instanceOrigin(r))
	if err != nil {
		gateway.WriteError(w, r, err)
		return nil, false
	}
	return sp, true
}

// samlMetadata is the SP metadata to register at the SAML IdP.
func (a *API) samlMetadata(w http.ResponseWriter, r *http.Request) {
	sp, ok := a.samlServiceProvider(w, r)
	if !ok {
		return
	}
	b, err := sp.Metadata()
	if err != nil {
		gateway.WriteError(w, r, errs.Internal("SAML-Meta1", err))
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// samlCertificate is the SP certificate (PEM), as ZITADEL's idp.crt.
func (a *API) samlCertificate(w http.ResponseWriter, r *http.Request) {
	sp, ok := a.samlServiceProvider(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="idp.crt"`)
	_, _ = w.Write(sp.Certificate())
}

func (a *API) startIntent(w http.ResponseWriter, r *http.Request) {
	var body render.StartIntentRequest
	if err := gateway.Decode(r, &body); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := a.cmds.StartIntent(r.Context(), body.Input(a.instanceOrigin(r)))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.StartIntentV2Of(s))
}

func (a *API) retrieveIntent(w http.ResponseWriter, r *http.Request) {
	var body render.RetrieveIntentRequest
	if err := gateway.Decode(r, &body); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	b, err := a.cmds.RetrieveIntentEncoded(r.Context(), chi.URLParam(r, "idpIntentId"), body.IDPIntentToken, a.intentAnswers, encodeRetrieveIntent)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteEncoded(w, http.StatusOK, b)
}

// encodeRetrieveIntent is the body of a retrieve, as WriteJSON writes it.
func encodeRetrieveIntent(info command.IntentInfo) ([]byte, error) {
	b, err := gateway.EncodeJSON(render.RetrieveIntentV2Of(info))
	if err != nil {
		return nil, errs.Internal("IDP-IntE1", err)
	}
	return b, nil
}

// intentAnswerBudget bounds the retrieve answers cached (a few KiB each:
// the upstream's tokens and the user's claims): about 2,000 intents.
const intentAnswerBudget = 8 << 20

// decideIntentLogin is idledger's POST /v2/idp_intents/{id}/login (ZITADEL
// has no such route, and no RPC method: its login UIs decide themselves):
// the server's decision of what a succeeded intent leads to in an org.
func (a *API) decideIntentLogin(r *http.Request, req *render.IntentLoginRequest) (any, error) {
	d, err := a.cmds.DecideIntentLogin(r.Context(), req.Input(chi.URLParam(r, "idpIntentId")))
	if err != nil {
		return nil, err
	}
	if d.UpdateErr != nil {
		// The login goes on (as ZITADEL's login UI, typescript PR #482);
		// the failed update is logged here, once.
		a.log.Warn().Err(d.UpdateErr).Str("userId", d.UserID).Str("idpId", d.Intent.IDPID).Msg("idp login: auto-update failed")
	}
	return render.IntentLoginV2Of(d), nil
}

// instanceOrigin is the instance's origin as the client addressed it:
// http://<host> or, behind TLS (--external-secure), https://<host>.
func (a *API) instanceOrigin(r *http.Request) string { return gateway.Origin(r, a.externalSecure) }

// callbackContext resolves the instance from the Host and records the
// callback's IP and user agent on the events it causes.
func (a *API) callbackContext(w http.ResponseWriter, r *http.Request) (string, *http.Request, bool) {
	instanceID, err := a.q.InstanceByHost(r.Context(), RequestHost(r))
	if err != nil {
		gateway.WriteError(w, r, err)
		return "", r, false
	}
	ctx := command.WithMetadata(r.Context(), command.Metadata{
		RequestID: gateway.RequestIDFrom(r.Context()), ClientIP: a.clientIP(r), UserAgent: a.userAgent(r),
	})
	return instanceID, r.WithContext(ctx), true
}

func (a *API) intentCallback(w http.ResponseWriter, r *http.Request) {
	instanceID, r, ok := a.callbackContext(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		gateway.WriteError(w, r, errs.InvalidArgument("IDP-Form1", "invalid callback form"))
		return
	}
	cb := upstream.Callback{Code: r.Form.Get("code"), Error: r.Form.Get("error"),
		ErrorDescription: r.Form.Get("error_description"), AppleUser: r.Form.Get("user")}
	a.finishIntent(w, r, command.IntentCallback{InstanceID: instanceID, State: r.Form.Get("state"), Callback: cb,
		Origin: a.instanceOrigin(r)})
}

// intentJWT is the JWT IdP's return: the proxy in front of the JWT
// endpoint sends the browser here with the user's JWT in the IdP's header.
func (a *API) intentJWT(w http.ResponseWriter, r *http.Request) {
	instanceID, r, ok := a.callbackContext(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	id := q.Get("authRequestID")
	header, err := a.cmds.IntentJWTHeader(r.Context(), instanceID, id)
	if err != nil {
		writeCallbackError(w, r, err)
		return
	}
	cb := upstream.Callback{JWT: r.Header.Get(header), UserAgentID: q.Get("userAgentID")}
	a.finishIntent(w, r, command.IntentCallback{InstanceID: instanceID, State: id, Callback: cb, Origin: a.instanceOrigin(r)})
}

func (a *API) finishIntent(w http.ResponseWriter, r *http.Request, in command.IntentCallback) {
	to, err := a.cmds.FinishIntent(r.Context(), in)
	if err != nil {
		writeCallbackError(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// writeCallbackError answers a callback that cannot redirect: 400 as
// ZITADEL's (an unknown intent too), in the standard error body rather
// than ZITADEL's plain text; Internal and Unavailable keep their status.
func writeCallbackError(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errs.As(err); ok && e.Kind != errs.KindInternal && e.Kind != errs.KindUnavailable {
		err = errs.InvalidArgument(e.ID, e.Message)
	}
	gateway.WriteError(w, r, err)
}
