package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/idledger/idledger/idp"
)

// mapUser maps an upstream's JSON object (claims, userinfo, /user, /me)
// onto a User by the kind's mapping; id, when set, names the ID member
// instead (generic OAuth's idAttribute).
func mapUser(m idp.Mapping, raw map[string]any, id string) User {
	if id != "" {
		m.ID = id
	}
	u := User{
		ID:                str(raw, m.ID),
		PreferredUsername: str(raw, m.PreferredUsername),
		DisplayName:       str(raw, m.DisplayName),
		FirstName:         str(raw, m.FirstName),
		LastName:          str(raw, m.LastName),
		NickName:          str(raw, m.NickName),
		Email:             str(raw, m.Email),
		EmailVerified:     boolean(raw, m.EmailVerified),
		Phone:             str(raw, m.Phone),
		PhoneVerified:     boolean(raw, m.PhoneVerified),
		PreferredLanguage: str(raw, m.PreferredLanguage),
		AvatarURL:         str(raw, m.AvatarURL),
		ProfileURL:        str(raw, m.ProfileURL),
		Raw:               raw,
	}
	if u.Email == "" {
		u.Email = str(raw, m.EmailFallback)
	}
	return u
}

// str reads member key as a string; a number is written without an
// exponent (GitHub's numeric IDs).
func str(raw map[string]any, key string) string {
	if key == "" {
		return ""
	}
	switch v := raw[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func boolean(raw map[string]any, key string) bool {
	if key == "" {
		return false
	}
	switch v := raw[key].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// toMap turns a claims value into its JSON object, numbers kept exact.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeObject(b)
}

func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("upstream: not a JSON object: %w", err)
	}
	return m, nil
}

// getJSON GETs url with the access token and decodes the JSON answer into v.
func getJSON(r *http.Request, c *http.Client, v any) error {
	r.Header.Set("Accept", "application/json")
	resp, err := c.Do(r)
	if err != nil {
		return fmt.Errorf("upstream: GET %s: %w", r.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("upstream: GET %s: %w", r.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upstream: GET %s: status %d", r.URL.Redacted(), resp.StatusCode)
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("upstream: GET %s: %w", r.URL.Redacted(), err)
	}
	return nil
}
