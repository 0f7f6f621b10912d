package gateway

import (
	"fmt"
	"math"

	"github.com/idledger/idledger/errs"
)

// Limits of a list request.
const (
	DefaultListLimit = 100  // used when a request leaves limit at 0
	MaxListLimit     = 1000 // larger limits are InvalidArgument
)

// ListQuery is the paging of a list request, v1 (zitadel.v1.ListQuery) and
// v2 alike. A negative or non-numeric limit or offset is already rejected by
// Decode.
type ListQuery struct {
	Offset Uint64 `json:"offset,omitempty"`
	Limit  uint32 `json:"limit,omitempty"`
	Asc    bool   `json:"asc,omitempty"`
}

// Page returns the offset and limit to query with: DefaultListLimit when
// the request leaves limit at 0. It returns InvalidArgument when limit
// exceeds MaxListLimit or offset does not fit an int64.
func (q ListQuery) Page() (offset uint64, limit uint32, err error) {
	if q.Limit > MaxListLimit {
		return 0, 0, errs.InvalidArgument("",
			fmt.Sprintf("invalid ListQuery.Limit: value must be less than or equal to %d", MaxListLimit))
	}
	if uint64(q.Offset) > math.MaxInt64 {
		return 0, 0, errs.InvalidArgument("", "invalid ListQuery.Offset: value is too large")
	}
	limit = q.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	return uint64(q.Offset), limit, nil
}
