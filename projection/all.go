package projection

// All returns every inline projection, in the order they apply.
func All() []*Projection {
	var out []*Projection
	for _, group := range [][]*Projection{Identity(), IDPs(), Policies(), Sessions(), Projects()} {
		out = append(out, group...)
	}
	return out
}
