package idp

import (
	"encoding/json"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, in := range []string{`"+/+/"`, `"-_-_"`, `"+/8"`, `"-_8="`} {
		var b Bytes
		if err := json.Unmarshal([]byte(in), &b); err != nil || len(b) == 0 {
			t.Errorf("Bytes %s: %x, %v", in, b, err)
		}
	}
	out, _ := json.Marshal(Bytes{0xfb, 0xff})
	if string(out) != `"+/8="` {
		t.Errorf("Bytes marshal = %s, want standard padded base64", out)
	}
}

func TestEnumParse(t *testing.T) {
	var f SAMLNameIDFormat
	for in, want := range map[string]SAMLNameIDFormat{
		`"SAML_NAME_ID_FORMAT_TRANSIENT"`: SAMLNameIDFormatTransient, `3`: SAMLNameIDFormatTransient, `0`: 0, `null`: 0,
	} {
		if err := json.Unmarshal([]byte(in), &f); err != nil || f != want {
			t.Errorf("%s: %v, %v", in, f, err)
		}
	}
	for _, bad := range []string{`"3"`, `1.5`, `-1`, `4`, `"saml_name_id_format_transient"`, `true`} {
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	var b SAMLBinding
	for in, want := range map[string]SAMLBinding{
		`"SAML_BINDING_POST"`: SAMLBindingPost, `2`: SAMLBindingRedirect, `0`: "", `"SAML_BINDING_UNSPECIFIED"`: "",
		`"` + string(SAMLBindingArtifact) + `"`: SAMLBindingArtifact,
	} {
		if err := json.Unmarshal([]byte(in), &b); err != nil || b != want {
			t.Errorf("binding %s: %q, %v", in, b, err)
		}
	}
	if SAMLBinding("urn:other").EnumName() != "" || SAMLBindingRedirect.EnumName() != "SAML_BINDING_REDIRECT" {
		t.Error("SAMLBinding.EnumName")
	}
}
