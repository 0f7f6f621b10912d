package upstream

import "testing"

func TestLDAPTruthy(t *testing.T) {
	for _, v := range []string{"true", "TRUE", "True", "t", "1", "yes", "Yes", "y", "on", "ON", "verified", " true "} {
		if !ldapTruthy(v) {
			t.Errorf("%q is not truthy", v)
		}
	}
	for _, v := range []string{"", "false", "0", "no", "off", "n", "f", "unverified", "2", "truth"} {
		if ldapTruthy(v) {
			t.Errorf("%q is truthy", v)
		}
	}
}

func TestLDAPFilter(t *testing.T) {
	got, err := ldapFilter([]string{"inetOrgPerson", "x*"}, []string{"uid", "mail", "2.5.4.3", "cn;lang-de"}, "a*)(b\\\x00")
	if err != nil {
		t.Fatal(err)
	}
	want := `(&(objectClass=inetOrgPerson)(objectClass=x\2a)(|(uid=a\2a\29\28b\5c\00)(mail=a\2a\29\28b\5c\00)(2.5.4.3=a\2a\29\28b\5c\00)(cn;lang-de=a\2a\29\28b\5c\00)))`
	if got != want {
		t.Errorf("filter = %s\nwant     %s", got, want)
	}
	for _, bad := range []string{"", "uid=x", "uid)", "(uid", "u id", "*", "1.", "-uid"} {
		if _, err := ldapFilter(nil, []string{bad}, "alice"); err == nil {
			t.Errorf("userFilter %q accepted", bad)
		}
	}
	if _, err := ldapFilter(nil, nil, "alice"); err == nil {
		t.Error("no userFilters accepted")
	}
}
