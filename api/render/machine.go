package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
)

// The management v1 shapes of machine users' keys (zitadel.authn.v1),
// rendered once for every transport.

// KeyTypeDef is zitadel.authn.v1.KeyType.
type KeyTypeDef struct{}

var keyTypeEnum = gateway.NewEnum("KEY_TYPE_UNSPECIFIED", "KEY_TYPE_JSON")

// Enum is the enum's table.
func (KeyTypeDef) Enum() *gateway.Enum { return keyTypeEnum }

// MachineKeyV1 is zitadel.authn.v1.Key: never a private or public key.
type MachineKeyV1 struct {
	ID             string                        `json:"id"`
	Details        gateway.DetailsV1             `json:"details"`
	Type           gateway.EnumValue[KeyTypeDef] `json:"type"`
	ExpirationDate gateway.Timestamp             `json:"expirationDate"`
}

// MachineKeyListV1Of renders a page of keys as ListMachineKeysResponse;
// the view timestamp is the newest key's change.
func MachineKeyListV1Of(l *command.MachineKeyList) ListV1[MachineKeyV1] {
	out := ListV1[MachineKeyV1]{Details: gateway.ListDetailsV1{TotalResult: gateway.Uint64(l.Total)}}
	for _, k := range l.Keys {
		d := k.Details
		out.Result = append(out.Result, MachineKeyV1{ID: k.KeyID, Details: gateway.V1Read(DetailsOf(d)),
			Type: gateway.EnumValue[KeyTypeDef](k.Type), ExpirationDate: gateway.Timestamp(k.Expiration)})
		if t := gateway.Timestamp(d.Changed); t.Time().After(out.Details.ViewTimestamp.Time()) {
			out.Details.ViewTimestamp = t
		}
	}
	return out
}

// AppKeyV1Of renders an app key as zitadel.authn.v1.Key.
func AppKeyV1Of(k *command.AppKey) MachineKeyV1 {
	return MachineKeyV1{ID: k.KeyID, Details: gateway.V1Read(DetailsOf(k.Details)),
		Type: gateway.EnumValue[KeyTypeDef](k.Type), ExpirationDate: gateway.Timestamp(k.Expiration)}
}

// AppKeyListV1Of renders a page of app keys as ListAppKeysResponse; the
// view timestamp is the newest key's change.
func AppKeyListV1Of(l *command.AppKeyList) ListV1[MachineKeyV1] {
	out := ListV1[MachineKeyV1]{Details: gateway.ListDetailsV1{TotalResult: gateway.Uint64(l.Total)}}
	for _, k := range l.Keys {
		out.Result = append(out.Result, AppKeyV1Of(k))
		if t := gateway.Timestamp(k.Details.Changed); t.Time().After(out.Details.ViewTimestamp.Time()) {
			out.Details.ViewTimestamp = t
		}
	}
	return out
}
