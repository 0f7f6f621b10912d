package projection

// IDPs returns the projections of this area. (Placeholder until the area lands.)
func IDPs() []*Projection { return nil }
