package audit_test

import (
	"testing"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/errs"
)

// FuzzListFilter: any command-line values give a filter or InvalidArgument,
// never a panic or another error kind.
func FuzzListFilter(f *testing.F) {
	for _, s := range [][4]string{
		{"2024-11-05T10:32:11Z", "2024-11-06T00:00:00.123456789+02:00", "idp.", "12"},
		{"", "", "user.human.externalidp.added", ""},
		{"2024-02-30T00:00:00Z", "yesterday", "IDP.*", "-1"},
		{"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "*", "999999999999999999999"},
		{" 2024-01-01T00:00:00Z ", "2023-01-01T00:00:00Z", "idp._%", "1000"},
		{"2024-01-01T00:00:00.1234567891Z", "", "login_policy.idp*", "0"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, since, until, typ, pos string) {
		o := audit.ListOptions{Since: since, Until: until, Types: []string{typ}, AfterPosition: pos}
		flt, err := o.Search()
		if err != nil {
			if errs.KindOf(err) != errs.KindInvalidArgument {
				t.Fatalf("error kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Since.Before(flt.Until) {
			t.Fatalf("accepted since %v >= until %v", flt.Since, flt.Until)
		}
		if flt.AfterPosition < 0 {
			t.Fatalf("accepted position %d", flt.AfterPosition)
		}
		for _, p := range flt.TypePrefixes {
			if p == "" {
				t.Fatal("empty type prefix accepted")
			}
		}
	})
}
