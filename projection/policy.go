package projection

// Policies returns the projections of this area. (Placeholder until the area lands.)
func Policies() []*Projection { return nil }
