package hcl

import "testing"

// BenchmarkLoadBuiltin measures what every command that reads a recipe pays
// before doing anything else.
func BenchmarkLoadBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := Load(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
