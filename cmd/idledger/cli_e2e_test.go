package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/internal/pgtest"
)

// TestCLIAgainstServe runs `serve`, writes through the API, and then drives
// the operator commands against the same database: events list (both
// formats, secrets redacted), replay, verify, and instance add.
func TestCLIAgainstServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	p := startServe(t, dbURL, dataDir)
	base, _ := p.waitHealthy(t, startTimeout)
	pat, err := os.ReadFile(filepath.Join(dataDir, "admin.pat"))
	if err != nil {
		t.Fatalf("admin PAT file: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dataDir, "admin.pat")); st.Mode().Perm() != 0o600 {
		t.Errorf("admin.pat mode %v", st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(dataDir, keyringFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("generated keyring file: %v", err)
	}
	token := strings.TrimSpace(string(pat))
	const secret = "cli-e2e-client-secret-9f8e7d"
	status, body := call(t, "POST", base+"/admin/v1/idps/google", token, "", `{"clientId":"cid","clientSecret":"`+secret+`"}`)
	if status != 200 {
		t.Fatalf("create IdP: %d %s", status, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(body, &created)

	db := []string{"--database-url", dbURL, "--data-dir", dataDir, "--log-format", "json"}
	code, out, errOut := runIdledger(t, append([]string{"events", "list", "--format", "jsonl"}, db...)...)
	if code != 0 || !strings.Contains(out, `"idp.added"`) || !strings.Contains(out, "[encrypted]") {
		t.Fatalf("events list jsonl: exit %d\n%s\n%s", code, out, errOut)
	}
	code, table, _ := runIdledger(t, append([]string{"events", "list", "--format", "table", "--type", "idp."}, db...)...)
	if code != 0 || !strings.Contains(table, "idp.added") || strings.Contains(table, "user.") {
		t.Fatalf("events list table --type idp.: exit %d\n%s", code, table)
	}
	code, replay, errOut := runIdledger(t, append([]string{"events", "replay", "--aggregate", "idp/" + created.ID}, db...)...)
	if code != 0 || !strings.Contains(replay, `"IDP_TYPE_GOOGLE"`) {
		t.Fatalf("events replay: exit %d\n%s\n%s", code, replay, errOut)
	}
	code, verify, errOut := runIdledger(t, append([]string{"events", "verify"}, db...)...)
	if code != 0 {
		t.Fatalf("events verify: exit %d\n%s\n%s", code, verify, errOut)
	}
	// A checkpoint, checked later (after more writes) by verify.
	code, cpLine, errOut := runIdledger(t, append([]string{"events", "checkpoint"}, db...)...)
	if code != 0 || !strings.HasPrefix(cpLine, "idledger-checkpoint v1 tx=") {
		t.Fatalf("events checkpoint: exit %d\n%s\n%s", code, cpLine, errOut)
	}
	dir := t.TempDir()
	cpFile, forged := filepath.Join(dir, "checkpoint"), filepath.Join(dir, "forged")
	if err := os.WriteFile(cpFile, []byte(cpLine), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(forged, []byte(strings.Replace(cpLine, " events=", " events=1", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	status, body = call(t, "POST", base+"/admin/v1/idps/google", token, "", `{"clientId":"later","clientSecret":"`+secret+`"}`)
	var later struct{ ID string }
	if _ = json.Unmarshal(body, &later); status != 200 {
		t.Fatalf("create IdP after the checkpoint: %d %s", status, body)
	}
	if status, body := call(t, "DELETE", base+"/admin/v1/idps/templates/"+later.ID, token, "", ""); status != 200 {
		t.Fatalf("remove IdP after the checkpoint: %d %s", status, body)
	}
	code, cpOut, errOut := runIdledger(t, append([]string{"events", "verify", "--checkpoint", cpFile}, db...)...)
	if code != 0 || !strings.Contains(cpOut, "are unchanged") {
		t.Fatalf("events verify --checkpoint: exit %d\n%s\n%s", code, cpOut, errOut)
	}
	code, cpOut, errOut = runIdledger(t, append([]string{"events", "verify", "--checkpoint", forged}, db...)...)
	if code == 0 || !strings.Contains(errOut, "no longer match the checkpoint") {
		t.Fatalf("events verify with a checkpoint of another log: exit %d\n%s\n%s", code, cpOut, errOut)
	}
	for _, o := range []string{out, table, replay, verify, p.stdout.String(), p.stderr.String()} {
		if strings.Contains(o, secret) || strings.Contains(o, token) {
			t.Fatal("a secret or the admin token appears in command output or logs")
		}
	}

	// Rebuild every projection while serve runs: the read tables come out
	// identical, and the API still answers from them.
	sums := func() string {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var out string
		for _, tbl := range []string{"idps", "users", "orgs", "login_policies", "login_policy_idps", "user_idp_links", "pats", "members"} {
			var sum *string
			if err := conn.QueryRow(context.Background(), "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "+tbl+" t").Scan(&sum); err != nil {
				t.Fatalf("checksum %s: %v", tbl, err)
			}
			if sum != nil {
				out += tbl + "=" + *sum + " "
			}
		}
		return out
	}
	before := sums()
	code, statusOut, errOut := runIdledger(t, append([]string{"projections", "status"}, db...)...)
	if code != 0 || !strings.Contains(statusOut, "idps") {
		t.Fatalf("projections status: exit %d\n%s\n%s", code, statusOut, errOut)
	}
	code, out, errOut = runIdledger(t, append([]string{"projections", "rebuild", "--all"}, db...)...)
	if code != 0 || !strings.Contains(out, "rebuild complete") {
		t.Fatalf("projections rebuild --all: exit %d\n%s\n%s", code, out, errOut)
	}
	if after := sums(); after != before {
		t.Fatalf("tables differ after rebuild:\n%s\n%s", before, after)
	}
	if st, b := call(t, "GET", base+"/v2/idps/"+created.ID, token, "", ""); st != 200 {
		t.Fatalf("GET idp after rebuild: %d %s", st, b)
	}

	// Rotate the generated master key while serve runs: the secret is
	// re-sealed as an event, the keyring holds the new key as current and
	// keeps the old one, and the running serve seals with the new key.
	ringBefore, err := readKeyring(dataDir)
	if err != nil || ringBefore == nil {
		t.Fatalf("keyring: %v", err)
	}
	code, out, errOut = runIdledger(t, append([]string{"keys", "rotate"}, db...)...)
	if code != 0 || !strings.Contains(out, "re-sealed 1 IdPs") {
		t.Fatalf("keys rotate: exit %d\n%s\n%s", code, out, errOut)
	}
	ringAfter, err := readKeyring(dataDir)
	if err != nil || ringAfter.Current == ringBefore.Current || ringAfter.Keys[ringBefore.Current] != ringBefore.Keys[ringBefore.Current] || ringAfter.Rotating {
		t.Fatalf("keys rotate did not make a new current key and keep the old one: %v", err)
	}
	if status, body := call(t, "POST", base+"/admin/v1/idps/google", token, "", `{"clientId":"cid2","clientSecret":"after-rotation"}`); status != 200 {
		t.Fatalf("create IdP after the rotation: %d %s", status, body)
	}
	code, out, errOut = runIdledger(t, append([]string{"keys", "status"}, db...)...)
	if code != 0 || !strings.Contains(out, ringAfter.Current+"  current  2 secrets") || !strings.Contains(out, ringBefore.Current+"  old      0 secrets") {
		t.Fatalf("keys status after the rotation (the running serve must seal with the new key): exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runIdledger(t, append([]string{"keys", "retire", ringAfter.Current}, db...)...)
	if code == 0 || !strings.Contains(errOut, "is the current key") {
		t.Fatalf("keys retire of the current key: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runIdledger(t, append([]string{"keys", "retire", ringBefore.Current}, db...)...)
	if code != 0 || !strings.Contains(out, "retired key "+ringBefore.Current) {
		t.Fatalf("keys retire: exit %d\n%s\n%s", code, out, errOut)
	}
	if k, _ := readKeyring(dataDir); k == nil || len(k.Keys) != 1 {
		t.Fatalf("keyring after retire: %+v", k)
	}
	if st, b := call(t, "GET", base+"/v2/idps/"+created.ID, token, "", ""); st != 200 {
		t.Fatalf("GET idp after retire: %d %s", st, b)
	}
	code, out, _ = runIdledger(t, append([]string{"events", "list", "--format", "jsonl", "--type", "idp.secrets."}, db...)...)
	if code != 0 || !strings.Contains(out, "idp.secrets.resealed") || strings.Contains(out, secret) {
		t.Fatalf("resealed event: exit %d\n%s", code, out)
	}

	patFile := filepath.Join(t.TempDir(), "second.pat")
	code, out, errOut = runIdledger(t, append([]string{"instance", "add", "--domain", "127.0.0.5", "--admin-pat-file", patFile}, db...)...)
	if code != 0 {
		t.Fatalf("instance add: exit %d\n%s\n%s", code, out, errOut)
	}
	second, err := os.ReadFile(patFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := call(t, "GET", base+"/management/v1/orgs/me", strings.TrimSpace(string(second)), "127.0.0.5", ""); st != 200 {
		t.Errorf("second instance's admin on its host: %d", st)
	}
	if st, _ := call(t, "GET", base+"/management/v1/orgs/me", strings.TrimSpace(string(second)), "", ""); st != 401 {
		t.Errorf("second instance's token on the first instance: %d, want 401", st)
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}

func call(t *testing.T, method, url, token, host, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
