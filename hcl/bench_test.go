package hcl

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoadBuiltin measures what every command that reads a recipe pays
// before doing anything else.
func BenchmarkLoadBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := Load(context.Background(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkManyLocals: 20k chained locals (each uses the one before) and a
// var file with 100k undeclared variables, the two recipe shapes that used
// to take minutes (N^2 work); ns/op should grow linearly with the count.
func BenchmarkManyLocals(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		dir := writeRecipe(b, map[string]string{"r.pkr.hcl": minimal + chainedLocals(n)})
		b.Run(fmt.Sprintf("locals=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(context.Background(), Options{Path: dir}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{25000, 100000} {
		dir := writeRecipe(b, map[string]string{"r.pkr.hcl": minimal, "v.auto.pkrvars.hcl": undeclaredVars(n)})
		b.Run(fmt.Sprintf("undeclared=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(context.Background(), Options{Path: dir}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func chainedLocals(n int) string {
	var s strings.Builder
	s.WriteString("locals {\n  l0 = 0\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&s, "  l%d = local.l%d + 1\n", i, i-1)
	}
	s.WriteString("}\n")
	return s.String()
}

func undeclaredVars(n int) string {
	var s strings.Builder
	for i := range n {
		fmt.Fprintf(&s, "u%d = %d\n", i, i)
	}
	return s.String()
}
