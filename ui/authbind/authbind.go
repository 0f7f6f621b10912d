// Package authbind binds an auth request to the browser that started it:
// when the OpenID Provider sends a browser to the hosted login with
// ?authRequest=V2_…, it adds the request's ID to a cookie of this browser
// (a short list of the latest IDs, sealed with the instance's keyring, so
// only the server reads or changes it); the hosted login takes up only an
// auth request whose ID is in the browser's cookie. A login link copied
// to another browser is refused.
//
// The cookie is HttpOnly, SameSite=Lax, Secure under --external-secure,
// and on Path "/" (the OP's /oauth/v2/authorize adds to it, the hosted
// login reads it).
//
// Imports: the standard library, secretbox and ui/sealed.
package authbind

import (
	"net/http"
	"slices"
	"time"

	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui/sealed"
)

const (
	// Cookie is the cookie's name.
	Cookie = "idledger_authreq"
	// Lifetime bounds how long a bound auth request can be taken up (the
	// auth request itself expires sooner).
	Lifetime = time.Hour
	// maxIDs is how many auth requests one browser has in flight (tabs).
	maxIDs = 5
	// maxID is the longest ID bound; a longer one is not an auth request.
	maxID = 200
)

type bound struct {
	IDs     []string `json:"ids"`
	Expires int64    `json:"exp"`
}

func aad(instanceID string) secretbox.AAD {
	return secretbox.AAD{InstanceID: instanceID, IDPID: "hosted-login", Field: "authreq"}
}

// read is the cookie's list for instanceID; empty when it is missing,
// does not open (another instance's, tampered, an old key) or is expired.
func read(r *http.Request, keys *secretbox.Keyring, instanceID string) []string {
	var b bound
	if !sealed.Read(r, Cookie, keys, aad(instanceID), &b) || time.Now().Unix() > b.Expires {
		return nil
	}
	return b.IDs
}

// Bind adds auth request id of instanceID to the browser's cookie (the
// latest maxIDs are kept) by setting it on h.
func Bind(h http.Header, r *http.Request, keys *secretbox.Keyring, instanceID, id string, secure bool) error {
	if id == "" || len(id) > maxID {
		return nil
	}
	ids := slices.DeleteFunc(read(r, keys, instanceID), func(s string) bool { return s == id })
	ids = append(ids, id)
	if len(ids) > maxIDs {
		ids = ids[len(ids)-maxIDs:]
	}
	v, err := sealed.Value(keys, aad(instanceID), bound{IDs: ids, Expires: time.Now().Add(Lifetime).Unix()})
	if err != nil {
		return err
	}
	c := &http.Cookie{Name: Cookie, Value: v, Path: "/",
		MaxAge: int(Lifetime / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	h.Add("Set-Cookie", c.String())
	return nil
}

// Bound reports whether auth request id of instanceID was started by this
// browser (its ID is in the browser's cookie).
func Bound(r *http.Request, keys *secretbox.Keyring, instanceID, id string) bool {
	return id != "" && slices.Contains(read(r, keys, instanceID), id)
}
