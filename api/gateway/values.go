package gateway

import (
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/internal/pbjson"
)

// The protobuf-JSON value types and details shapes live in internal/pbjson,
// which audit and idp use too; these names keep the transport's handlers
// reading gateway.X.
type (
	Int64           = pbjson.Int64
	Uint64          = pbjson.Uint64
	Timestamp       = pbjson.Timestamp
	Duration        = pbjson.Duration
	Enum            = pbjson.Enum
	EnumDef         = pbjson.EnumDef
	ObjectDetails   = pbjson.ObjectDetails
	DetailsV1       = pbjson.DetailsV1
	DetailsV2       = pbjson.DetailsV2
	DetailsResource = pbjson.DetailsResource
	Owner           = pbjson.Owner
	ListDetailsV1   = pbjson.ListDetailsV1
	ListDetailsV2   = pbjson.ListDetailsV2
)

// EnumValue is pbjson.EnumValue.
type EnumValue[D EnumDef] = pbjson.EnumValue[D]

// Owner types of zitadel.object.v3alpha.Owner.
const (
	OwnerTypeSystem   = pbjson.OwnerTypeSystem
	OwnerTypeInstance = pbjson.OwnerTypeInstance
	OwnerTypeOrg      = pbjson.OwnerTypeOrg
)

// Constructors of the details shapes and enum tables.
var (
	NewEnum  = pbjson.NewEnum
	V1Add    = pbjson.V1Add
	V1Change = pbjson.V1Change
	V1Read   = pbjson.V1Read
	V2       = pbjson.V2
	Resource = pbjson.Resource
)

// CheckID checks an ID field as protoc-gen-validate checks ZITADEL's (1 to
// 200 runes); field is the message and field name, "GetIDPByIDRequest.Id".
func CheckID(v, field string) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 200 {
		return errs.InvalidArgument("", "invalid "+field+": value length must be between 1 and 200 runes, inclusive")
	}
	return nil
}
