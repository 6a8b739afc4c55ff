package hcl

import (
	"github.com/zclconf/go-cty/cty"
)

// sensitiveMark marks every value that derives from a sensitive variable.
// go-cty carries marks through operators and functions (upper(), substr(),
// base64encode(), interpolation...), so whatever a recipe computes from a
// secret is known to be secret without comparing any text.
type sensitiveMark struct{}

// unmark returns v without marks, and whether any part of it was sensitive.
func unmark(v cty.Value) (cty.Value, bool) {
	u, marks := v.UnmarkDeep()
	_, secret := marks[sensitiveMark{}]
	return u, secret
}

// leafValues returns every non-empty string inside an unmarked, known value,
// for masking what a build prints (its output is text that clawimg does not
// parse, so there only text substitution can work).
func leafValues(v cty.Value) []string {
	var out []string
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.String && e.AsString() != "" {
			out = append(out, e.AsString())
		}
		return true, nil
	})
	return out
}
