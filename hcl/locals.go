package hcl

import (
	"fmt"
	"slices"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates local values in dependency order, so a local may use
// any other declared local regardless of where it is written. Cycles are
// reported with the chain that forms them.
func (ev *evaluator) evalLocals(attrs []*hcl2.Attribute) {
	ev.locals = map[string]*hcl2.Attribute{}
	var order []string
	for _, a := range attrs {
		if prev, ok := ev.locals[a.Name]; ok {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Duplicate local value",
				Detail:   fmt.Sprintf("Local %q was already defined at %s.", a.Name, prev.NameRange),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		ev.locals[a.Name] = a
		order = append(order, a.Name)
	}
	vals := map[string]cty.Value{}
	state := map[string]int{} // 0 new, 1 in progress, 2 done
	var visit func(name string, stack []string)
	visit = func(name string, stack []string) {
		switch state[name] {
		case 2:
			return
		case 1:
			i := slices.Index(stack, name)
			chain := append(append([]string(nil), stack[i:]...), name)
			a := ev.locals[name]
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Cyclic reference in locals",
				Detail:   fmt.Sprintf("local.%s refers to itself through %s.", name, "local."+strings.Join(chain, " -> local.")),
				Subject:  a.Expr.Range().Ptr(),
			})
			for _, n := range chain {
				vals[n] = cty.DynamicVal
				state[n] = 2
			}
			return
		}
		state[name] = 1
		a := ev.locals[name]
		for _, t := range a.Expr.Variables() {
			if t.RootName() != "local" || len(t) < 2 {
				continue
			}
			if dep, ok := t[1].(hcl2.TraverseAttr); ok {
				if _, declared := ev.locals[dep.Name]; declared {
					visit(dep.Name, append(stack, name))
				}
			}
		}
		if state[name] == 2 { // part of a cycle, already reported
			return
		}
		ev.ctx.Variables["local"] = cty.ObjectVal(vals)
		v, diags := ev.eval(a.Expr)
		ev.diags = append(ev.diags, diags...)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		vals[name] = v
		state[name] = 2
	}
	for _, name := range order {
		visit(name, nil)
	}
	ev.ctx.Variables["local"] = cty.ObjectVal(vals)
}
