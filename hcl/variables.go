package hcl

import (
	"fmt"
	"sort"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// variable is a declared input variable while it is being resolved.
type variable struct {
	name        string
	typ         cty.Type
	defaults    *typeexpr.Defaults // optional(type, default) attributes
	description string
	sensitive   bool
	decl        hcl2.Range
	validations []validation

	hasValue bool
	value    cty.Value
	source   string     // where the value came from, for inspect
	valueRng hcl2.Range // where the value was written, for diagnostics
}

type validation struct {
	condition hcl2.Expression
	message   hcl2.Expression
}

var variableSchema = &hcl2.BodySchema{
	Attributes: []hcl2.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
	Blocks: []hcl2.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl2.BodySchema{
	Attributes: []hcl2.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "error_message", Required: true},
	},
}

// declareVariables reads every variable block; defaults become the first
// candidate value.
func (ev *evaluator) declareVariables(blocks []*hcl2.Block) {
	// Defaults may call functions but may not refer to other variables.
	defaultCtx := &hcl2.EvalContext{Functions: ev.funcs}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := ev.vars[name]; ok {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("Variable %q was already declared at %s.", name, prev.decl),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		if !hclsyntax.ValidIdentifier(name) {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Invalid variable name",
				Detail:   "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		v := &variable{name: name, typ: cty.DynamicPseudoType, decl: b.DefRange}
		c, diags := b.Body.Content(variableSchema)
		ev.diags = append(ev.diags, diags...)
		if a, ok := c.Attributes["type"]; ok {
			ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
			ev.diags = append(ev.diags, diags...)
			if !diags.HasErrors() {
				v.typ, v.defaults = ty, defaults
			}
		}
		d := &decoder{ev: ev, attrs: c.Attributes}
		d.str("description", &v.description)
		d.boolean("sensitive", &v.sensitive)
		ev.diags = append(ev.diags, d.diags...)
		if a, ok := c.Attributes["default"]; ok {
			val, diags := a.Expr.Value(defaultCtx)
			ev.diags = append(ev.diags, diags...)
			if !diags.HasErrors() {
				v.set(val, "default", a.Expr.Range())
			}
		}
		for _, vb := range c.Blocks {
			vc, diags := vb.Body.Content(validationSchema)
			ev.diags = append(ev.diags, diags...)
			if cond, ok := vc.Attributes["condition"]; ok {
				if msg, ok := vc.Attributes["error_message"]; ok {
					v.validations = append(v.validations, validation{cond.Expr, msg.Expr})
				}
			}
		}
		ev.vars[name] = v
		ev.order = append(ev.order, name)
	}
}

func (v *variable) set(val cty.Value, source string, rng hcl2.Range) {
	v.hasValue, v.value, v.source, v.valueRng = true, val, source, rng
}

// assignVariables applies values in Packer's order of precedence, later
// winning: environment (Packer's PKR_VAR_x, then CLAWIMG_VAR_x), then
// *.auto.pkrvars files in lexical order, then -var and -var-file options in
// the order given.
func (ev *evaluator) assignVariables(autoVarFiles []string, args []VarArg, env map[string]string) {
	for _, name := range ev.order {
		for _, prefix := range []string{PackerEnvPrefix, EnvPrefix} {
			if raw, ok := env[prefix+name]; ok {
				ev.assignRaw(name, raw, "env "+prefix+name)
			}
		}
	}
	for _, f := range autoVarFiles {
		ev.assignFile(f, "file "+f)
	}
	for _, a := range args {
		if a.File {
			ev.assignFile(a.Value, "-var-file "+a.Value)
			continue
		}
		name, raw, ok := strings.Cut(a.Value, "=")
		if !ok || name == "" {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The given -var option %q is not correctly specified: it must be NAME=VALUE.", a.Value),
			})
			continue
		}
		if _, ok := ev.vars[name]; !ok {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Undefined -var variable",
				Detail:   fmt.Sprintf("A %q variable was passed with -var but is not declared in the recipe.%s", name, suggest(name, ev.order)),
			})
			continue
		}
		ev.assignRaw(name, raw, "-var")
	}
}

// assignRaw sets a variable from command-line or environment text: taken
// literally for a string (or untyped) variable, parsed as an HCL expression
// otherwise, as Packer does.
func (ev *evaluator) assignRaw(name, raw, source string) {
	v := ev.vars[name]
	fname := fmt.Sprintf("<value for var.%s>", name)
	rng := hcl2.Range{Filename: fname, Start: hcl2.InitialPos, End: hcl2.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}}
	if ev.extra == nil {
		ev.extra = map[string]*hcl2.File{}
	}
	ev.extra[fname] = &hcl2.File{Bytes: []byte(raw)}
	if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
		v.set(cty.StringVal(raw), source, rng)
		return
	}
	tokens, _ := hclsyntax.LexExpression([]byte(raw), fname, hcl2.InitialPos)
	if diags := checkNesting(tokens); diags.HasErrors() {
		ev.diags = append(ev.diags, diags...)
		return
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), fname, hcl2.InitialPos)
	if !diags.HasErrors() && len(expr.Variables()) > 0 {
		// A bare word such as abc for a number: report the type mismatch,
		// not "variables not allowed".
		v.set(cty.StringVal(raw), source, rng)
		return
	}
	ev.diags = append(ev.diags, diags...)
	if diags.HasErrors() {
		return
	}
	val, diags := expr.Value(&hcl2.EvalContext{Functions: ev.funcs})
	ev.diags = append(ev.diags, diags...)
	if !diags.HasErrors() {
		v.set(val, source, rng)
	}
}

// assignFile sets variables from a .pkrvars.hcl file.
func (ev *evaluator) assignFile(path, source string) {
	f := ev.parse(path)
	if f == nil {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	ev.diags = append(ev.diags, diags...)
	ctx := &hcl2.EvalContext{Functions: ev.funcs}
	for _, a := range sortedAttrs(attrs) {
		v, ok := ev.vars[a.Name]
		if !ok {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagWarning,
				Summary:  "Undefined variable",
				Detail:   fmt.Sprintf("A %q variable was set but was not declared in the recipe.%s", a.Name, suggest(a.Name, ev.order)),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		val, diags := a.Expr.Value(ctx)
		ev.diags = append(ev.diags, diags...)
		if !diags.HasErrors() {
			v.set(val, source, a.Expr.Range())
		}
	}
}

// validateVariables converts every value to its type, reports unset
// variables, runs validation blocks, and publishes var.* for expressions.
func (ev *evaluator) validateVariables() {
	vals := map[string]cty.Value{}
	for _, name := range ev.order {
		v := ev.vars[name]
		if !v.hasValue {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  fmt.Sprintf("Unset variable %q", name),
				Detail:   fmt.Sprintf("A used variable must be set or have a default value: set it with -var %s=VALUE, a -var-file, or %s%s.", name, EnvPrefix, name),
				Subject:  v.decl.Ptr(),
			})
			vals[name] = cty.DynamicVal
			continue
		}
		val := v.value
		if v.defaults != nil {
			val = v.defaults.Apply(val)
		}
		cv, err := convert.Convert(val, v.typ)
		if err != nil {
			detail := fmt.Sprintf("The value for var.%s (from %s) is not compatible with the variable's type constraint: %s.", name, v.source, err)
			if v.sensitive {
				detail = fmt.Sprintf("The sensitive value for var.%s (from %s) is not compatible with its type constraint %s.", name, v.source, typeexpr.TypeString(v.typ))
			}
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   detail,
				Subject:  v.valueRng.Ptr(),
			})
			vals[name] = cty.DynamicVal
			v.hasValue = false
			continue
		}
		v.value = cv
		vals[name] = cv
		if v.sensitive {
			vals[name] = cv.Mark(sensitiveMark{})
		}
	}
	ev.ctx.Variables["var"] = cty.ObjectVal(vals)
	for _, name := range ev.order {
		v := ev.vars[name]
		if !v.hasValue {
			continue
		}
		for _, val := range v.validations {
			ev.runValidation(v, val)
		}
	}
}

func (ev *evaluator) runValidation(v *variable, val validation) {
	ok, diags := val.condition.Value(ev.ctx)
	ev.diags = append(ev.diags, diags...)
	if diags.HasErrors() {
		return
	}
	ok, _ = unmark(ok)
	ok, err := convert.Convert(ok, cty.Bool)
	if err != nil || ok.IsNull() || !ok.IsKnown() {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Invalid validation result",
			Detail:   "The condition must give true or false.",
			Subject:  val.condition.Range().Ptr(),
		})
		return
	}
	if ok.True() {
		return
	}
	msg := "the value is not valid"
	if m, diags := val.message.Value(ev.ctx); !diags.HasErrors() && m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
		if m, secret := unmark(m); !secret {
			msg = m.AsString()
		} else {
			msg = "the value is not valid (the rule's message uses a sensitive value and is not shown)"
		}
	}
	ev.diags = append(ev.diags, &hcl2.Diagnostic{
		Severity: hcl2.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   fmt.Sprintf("%s (var.%s from %s; this was checked by the validation rule at %s).", strings.TrimSuffix(msg, "."), v.name, v.source, val.condition.Range()),
		Subject:  v.valueRng.Ptr(),
	})
}

// planVariables renders the resolved variables, sorted by name.
func (ev *evaluator) planVariables() []Variable {
	names := append([]string(nil), ev.order...)
	sort.Strings(names)
	out := make([]Variable, 0, len(names))
	for _, name := range names {
		v := ev.vars[name]
		pv := Variable{
			Name: name, Type: typeexpr.TypeString(v.typ), Description: v.description,
			Sensitive: v.sensitive, Source: v.source, Value: []byte("null"),
		}
		if v.hasValue && v.value.IsWhollyKnown() {
			if b, err := ctyjson.Marshal(v.value, v.value.Type()); err == nil {
				pv.Value = b
			}
		}
		out = append(out, pv)
	}
	return out
}
