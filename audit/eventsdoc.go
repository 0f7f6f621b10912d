package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/idp"
)

// EventsDocPath is where the generated event reference lives, relative to
// the repository root.
const EventsDocPath = "docs/events.md"

//go:generate go test -run TestEventsDoc -update .

// fieldNotes explain payload fields whose Go type alone says too little,
// keyed by "<payload type>.<json name>".
var fieldNotes = map[string]string{
	"IDPAddedPayload.kind":             "the IdP kind's path segment: " + kindPaths(),
	"IDPAddedPayload.ownerType":        "`system` (the instance owns the IdP) or `org`",
	"IDPAddedPayload.options":          "provider options: isLinkingAllowed, isCreationAllowed, isAutoCreation, isAutoUpdate, autoLinking",
	"IDPAddedPayload.config":           "the kind's configuration as in its add request; secret fields hold sealed text (see below)",
	"IDPChangedPayload.kind":           "the IdP kind's path segment; it never changes",
	"IDPChangedPayload.options":        "the new provider options (full replacement)",
	"IDPChangedPayload.config":         "the new configuration (full replacement); secret fields hold sealed text",
	"PATAddedPayload.tokenHash":        "hex SHA-256 of the token; the token itself is never stored",
	"IDPLinkPayload.userId":            "the user's ID at the IdP (not the idledger user ID)",
	"IDPLinkPayload.displayName":       "the user's name at the IdP",
	"LoginPolicyAddedPayload.settings": "the AddCustomLoginPolicyRequest fields other than idps, as sent",
	"LoginPolicyIDPPayload.ownerType":  "`system` or `org`: who owns the linked IdP",
	"MemberPayload.roles":              "role names, e.g. IAM_OWNER, ORG_OWNER",
}

func kindPaths() string {
	var paths []string
	for _, k := range idp.Kinds() {
		paths = append(paths, "`"+k.Path+"`")
	}
	return strings.Join(paths, ", ")
}

// EventsDoc renders docs/events.md from events.Catalog(): every event type
// with its aggregate, description and payload fields (JSON names and types),
// plus the envelope every event carries and the secret fields of each IdP
// kind. A test keeps the file equal to this output.
func EventsDoc() []byte {
	var b bytes.Buffer
	b.WriteString(`# Events

<!-- Generated from events.Catalog() by "go generate ./audit" (go test ./audit -run TestEventsDoc -update).
     Do not edit by hand: a test fails when this file and the code differ. -->

Every change in idledger is an event in the append-only log. This file lists every event type, the
aggregate it belongs to, what it means and the fields of its JSON payload. ` + "`idledger events list`" + `,
` + "`POST /admin/v1/events/_search`" + ` and ` + "`GET /admin/v1/events/_stream`" + ` show these payloads with
every secret replaced by ` + "`\"[encrypted]\"`" + `.

## Envelope

Every event, whatever its type, records:

| field (jsonl export) | type | meaning |
|---|---|---|
| ` + "`position`" + ` | integer | global identity of the event; unique, but not the commit order |
| ` + "`txId`" + ` | integer | the appending transaction; readers order by (txId, position), the gap-free order |
| ` + "`instanceId`" + ` | string | the instance (tenant) |
| ` + "`aggregateType`, `aggregateId`" + ` | string | the aggregate the event belongs to |
| ` + "`sequence`" + ` | integer | 1-based, contiguous per aggregate |
| ` + "`type`" + ` | string | the event type, ` + "`<aggregate>.<thing>.<verb>`" + ` |
| ` + "`revision`" + ` | integer | payload schema version |
| ` + "`creator`" + ` | string | user ID of the caller, or ` + "`system`" + ` |
| ` + "`requestId`" + ` | string | the request's X-Request-Id |
| ` + "`clientIp`" + ` | string | the client's address (X-Forwarded-For only from trusted proxies; can be switched off) |
| ` + "`userAgent`" + ` | string | the client's User-Agent (can be switched off) |
| ` + "`resourceOwner`" + ` | string | the instance ID or org ID owning the aggregate |
| ` + "`createdAt`" + ` | timestamp | when the event was written (RFC 3339, UTC) |
| ` + "`hash`" + ` | hex | SHA-256 over the event's content and the previous event's hash in the aggregate |
| ` + "`payload`" + ` | object | the type's payload, below |

## Aggregates

| aggregate | event types |
|---|---|
`)
	byAgg := map[string][]events.EventInfo{}
	var aggs []string
	for _, info := range events.Catalog() {
		if !slices.Contains(aggs, info.Aggregate) {
			aggs = append(aggs, info.Aggregate)
		}
		byAgg[info.Aggregate] = append(byAgg[info.Aggregate], info)
	}
	for _, a := range aggs {
		var names []string
		for _, info := range byAgg[a] {
			names = append(names, "`"+info.Type+"`")
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", a, strings.Join(names, ", "))
	}
	for _, a := range aggs {
		fmt.Fprintf(&b, "\n## Aggregate `%s`\n", a)
		for _, info := range byAgg[a] {
			fmt.Fprintf(&b, "\n### `%s`\n\n%s.\n\n", info.Type, upperFirst(info.Doc))
			writePayload(&b, info.Payload)
		}
	}
	b.WriteString("\n## Sealed IdP secrets\n\n" +
		"These config fields never hold plaintext in an event: they hold `v1:<keyId>:<nonce>:<ciphertext>`, " +
		"AES-256-GCM bound to (instance, IdP, field). Output shows them as `\"[encrypted]\"`.\n\n" +
		"| kind | secret fields |\n|---|---|\n")
	for _, k := range idp.Kinds() {
		var fields []string
		for _, s := range idp.Secrets(k.New()) {
			fields = append(fields, "`"+s.Field+"`")
		}
		if len(fields) == 0 {
			fields = []string{"none"}
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", k.Path, strings.Join(fields, ", "))
	}
	return b.Bytes()
}

func writePayload(b *bytes.Buffer, payload any) {
	if payload == nil {
		b.WriteString("No payload (`{}`).\n")
		return
	}
	t := reflect.TypeOf(payload)
	rows := payloadRows(t, "")
	if len(rows) == 0 {
		b.WriteString("No payload fields (`{}`).\n")
		return
	}
	fmt.Fprintf(b, "Payload (`%s`):\n\n| field | type | required | notes |\n|---|---|---|---|\n", t.Name())
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", r.name, r.typ, r.required, fieldNotes[t.Name()+"."+r.name])
	}
}

type payloadRow struct{ name, typ, required string }

// payloadRows lists the JSON fields of struct t in declaration order; nested
// structs are expanded with dotted names.
func payloadRows(t reflect.Type, prefix string) []payloadRow {
	var rows []payloadRow
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		required := "yes"
		if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
			required = "no"
		}
		ft := sf.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			rows = append(rows, payloadRow{prefix + name, "object", required})
			rows = append(rows, payloadRows(ft, prefix+name+".")...)
			continue
		}
		rows = append(rows, payloadRow{prefix + name, jsonTypeName(ft), required})
	}
	return rows
}

func jsonTypeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "timestamp (RFC 3339)"
	case t == reflect.TypeFor[json.RawMessage]():
		return "object"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonTypeName(t.Elem())
	case reflect.Map:
		return "object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return t.Kind().String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
