package hcl

import (
	"context"
	"fmt"
	"slices"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates local values in dependency order, so a local may use
// any other declared local regardless of where it is written. Cycles are
// reported with the chain that forms them.
func (ev *evaluator) evalLocals(ctx context.Context, attrs []*hcl2.Attribute) {
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
		if ctx.Err() != nil { // Load has returned: stop here
			vals[name] = cty.DynamicVal
			state[name] = 2
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
		v, diags := ev.evalIn(ev.localsContext(a.Expr, vals), a.Expr)
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

// localsContext is the recipe's context with local.* holding only the locals
// expr names: giving every local the object of all locals so far would make
// evaluating N locals take N^2 steps (20k locals took a minute).
func (ev *evaluator) localsContext(expr hcl2.Expression, vals map[string]cty.Value) *hcl2.EvalContext {
	refs := map[string]cty.Value{}
	for _, t := range expr.Variables() {
		if t.RootName() != "local" {
			continue
		}
		name, ok := "", len(t) >= 2
		if ok {
			switch step := t[1].(type) {
			case hcl2.TraverseAttr:
				name = step.Name
			case hcl2.TraverseIndex:
				ok = step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull()
				if ok {
					name = step.Key.AsString()
				}
			default:
				ok = false
			}
		}
		if !ok { // the whole object, e.g. keys(local)
			refs = vals
			break
		}
		if v, found := vals[name]; found {
			refs[name] = v
		}
	}
	ctx := ev.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(refs)}
	return ctx
}
