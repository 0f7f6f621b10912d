package gateway

import "testing"

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{
		"client_id": "clientId", "clientId": "clientId", "is_id_token_mapping": "isIdTokenMapping",
		"root_ca": "rootCa", "name": "name", "avatar_url_attribute": "avatarUrlAttribute", "a__b": "aB",
	} {
		if got := camelKey(in); got != want {
			t.Errorf("camelKey(%q) = %q, want %q", in, got, want)
		}
	}
}
