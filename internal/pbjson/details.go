package pbjson

import "time"

// ObjectDetails is the neutral form of an object's details that queries and
// commands hand to the API layer. The dates come from the aggregate's first
// and last events, never from a clock read at response time.
type ObjectDetails struct {
	Sequence      uint64    // sequence of the aggregate's last event
	Created       time.Time // creation time of its first event
	Changed       time.Time // creation time of its last event
	ResourceOwner string    // instance ID or org ID
	ID            string    // aggregate ID; used by Resource only
}

// DetailsV1 is zitadel.v1.ObjectDetails (/admin/v1, /management/v1).
type DetailsV1 struct {
	Sequence      Uint64    `json:"sequence,omitempty"`
	CreationDate  Timestamp `json:"creationDate,omitzero"`
	ChangeDate    Timestamp `json:"changeDate,omitzero"`
	ResourceOwner string    `json:"resourceOwner,omitempty"`
}

// V1Add returns the details of an add response. As ZITADEL's
// AddToDetailsPb does, creationDate is the date of the event just written
// (d.Changed), and changeDate is left out.
func V1Add(d ObjectDetails) DetailsV1 {
	return DetailsV1{
		Sequence:      Uint64(d.Sequence),
		CreationDate:  Timestamp(d.Changed),
		ResourceOwner: d.ResourceOwner,
	}
}

// V1Change returns the details of a change or remove response: sequence,
// changeDate and resourceOwner.
func V1Change(d ObjectDetails) DetailsV1 {
	return DetailsV1{
		Sequence:      Uint64(d.Sequence),
		ChangeDate:    Timestamp(d.Changed),
		ResourceOwner: d.ResourceOwner,
	}
}

// V1Read returns the details of a read response, with all four fields.
func V1Read(d ObjectDetails) DetailsV1 {
	return DetailsV1{
		Sequence:      Uint64(d.Sequence),
		CreationDate:  Timestamp(d.Created),
		ChangeDate:    Timestamp(d.Changed),
		ResourceOwner: d.ResourceOwner,
	}
}

// DetailsV2 is zitadel.object.v2.Details (/v2, /v3alpha).
type DetailsV2 struct {
	Sequence      Uint64    `json:"sequence,omitempty"`
	ChangeDate    Timestamp `json:"changeDate,omitzero"`
	ResourceOwner string    `json:"resourceOwner,omitempty"`
	CreationDate  Timestamp `json:"creationDate,omitzero"`
}

// V2 returns v2 details; creationDate is left out when d.Created is zero.
func V2(d ObjectDetails) DetailsV2 {
	return DetailsV2{
		Sequence:      Uint64(d.Sequence),
		ChangeDate:    Timestamp(d.Changed),
		ResourceOwner: d.ResourceOwner,
		CreationDate:  Timestamp(d.Created),
	}
}

// Owner types of zitadel.object.v3alpha.Owner.
const (
	OwnerTypeSystem   = "OWNER_TYPE_SYSTEM"
	OwnerTypeInstance = "OWNER_TYPE_INSTANCE"
	OwnerTypeOrg      = "OWNER_TYPE_ORG"
)

// DetailsResource is zitadel.resources.object.v3alpha.Details
// (/resources/v3alpha). It has no sequence.
type DetailsResource struct {
	ID      string    `json:"id,omitempty"`
	Created Timestamp `json:"created,omitzero"`
	Changed Timestamp `json:"changed,omitzero"`
	Owner   Owner     `json:"owner,omitzero"`
}

// Owner is zitadel.object.v3alpha.Owner.
type Owner struct {
	Type string `json:"type,omitempty"` // one of the OwnerType constants
	ID   string `json:"id,omitempty"`
}

// Resource returns resource details owned by d.ResourceOwner, whose type is
// one of the OwnerType constants.
func Resource(d ObjectDetails, ownerType string) DetailsResource {
	return DetailsResource{
		ID:      d.ID,
		Created: Timestamp(d.Created),
		Changed: Timestamp(d.Changed),
		Owner:   Owner{Type: ownerType, ID: d.ResourceOwner},
	}
}

// ListDetailsV1 is zitadel.v1.ListDetails.
type ListDetailsV1 struct {
	TotalResult       Uint64    `json:"totalResult,omitempty"`
	ProcessedSequence Uint64    `json:"processedSequence,omitempty"`
	ViewTimestamp     Timestamp `json:"viewTimestamp,omitzero"`
}

// ListDetailsV2 is zitadel.object.v2.ListDetails; its date is "timestamp".
type ListDetailsV2 struct {
	TotalResult       Uint64    `json:"totalResult,omitempty"`
	ProcessedSequence Uint64    `json:"processedSequence,omitempty"`
	Timestamp         Timestamp `json:"timestamp,omitzero"`
}
