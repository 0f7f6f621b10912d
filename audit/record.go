package audit

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pbjson"
)

// Record is one event in its export form: a line of `events list --format
// jsonl`. The payload is redacted (RedactPayload).
type Record struct {
	Position      int64           `json:"position"`
	TxID          uint64          `json:"txId,omitempty"`
	InstanceID    string          `json:"instanceId"`
	AggregateType string          `json:"aggregateType"`
	AggregateID   string          `json:"aggregateId"`
	Sequence      uint64          `json:"sequence"`
	Type          string          `json:"type"`
	Revision      uint16          `json:"revision"`
	Creator       string          `json:"creator"`
	RequestID     string          `json:"requestId,omitempty"`
	ClientIP      string          `json:"clientIp,omitempty"`
	UserAgent     string          `json:"userAgent,omitempty"`
	ResourceOwner string          `json:"resourceOwner"`
	CreatedAt     string          `json:"createdAt"` // RFC 3339, UTC (FormatTime)
	Hash          string          `json:"hash,omitempty"`
	Payload       json.RawMessage `json:"payload"`
}

// NewRecord returns e's export form, with its payload redacted.
func NewRecord(e *eventstore.Event) Record {
	p := RedactPayload(e.Payload)
	if len(p) == 0 {
		p = json.RawMessage("{}")
	}
	return Record{
		Position: e.Position, TxID: e.TxID, InstanceID: e.InstanceID,
		AggregateType: e.AggregateType, AggregateID: e.AggregateID, Sequence: e.Sequence,
		Type: e.Type, Revision: e.Revision, Creator: e.Creator, RequestID: e.RequestID,
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, ResourceOwner: e.ResourceOwner,
		CreatedAt: FormatTime(e.CreatedAt), Hash: hex.EncodeToString(e.Hash), Payload: p,
	}
}

// FormatTime is the one time format of audit output, the API's: RFC 3339 in
// UTC with 0, 3, 6 or 9 fractional digits.
func FormatTime(t time.Time) string { return pbjson.Timestamp(t).String() }

const summaryMax = 100

// Summary is a one-line digest of a redacted payload: its scalar leaves as
// path=value, in key order, cut at summaryMax runes.
func Summary(payload json.RawMessage) string {
	var v any
	if err := json.Unmarshal(RedactPayload(payload), &v); err != nil {
		return ""
	}
	var parts []string
	flatten("", v, func(path string, val any) {
		parts = append(parts, path+"="+scalarText(val))
	})
	s := strings.Join(parts, " ")
	if utf8.RuneCountInString(s) > summaryMax {
		r := []rune(s)
		s = string(r[:summaryMax-1]) + "…"
	}
	return s
}

// flatten calls leaf for every scalar (and empty container) under v, in
// sorted key order, with dotted paths and [i] for list items.
func flatten(path string, v any, leaf func(path string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			if path != "" {
				leaf(path, x)
			}
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, x[k], leaf)
		}
	case []any:
		if len(x) == 0 {
			leaf(path, x)
			return
		}
		for i, item := range x {
			flatten(fmt.Sprintf("%s[%d]", path, i), item, leaf)
		}
	default:
		leaf(path, v)
	}
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" || strings.ContainsAny(x, " \t\n\"=") {
			return fmt.Sprintf("%q", x)
		}
		return x
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
