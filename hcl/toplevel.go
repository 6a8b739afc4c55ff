package hcl

import (
	"fmt"
	"sort"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// rootSchema lists the top-level blocks of a recipe. Packer blocks that
// clawimg does not support are in it so they can be named as such.
var rootSchema = &hcl2.BodySchema{
	Blocks: []hcl2.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "local", LabelNames: []string{"name"}},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "build"},
		{Type: "packer"},
		{Type: "variables"},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "hcp_packer_registry"},
	},
}

type topBlocks struct {
	variables, sources, builds, data []*hcl2.Block
	locals                           []*hcl2.Attribute
}

// topLevel sorts the blocks of every file by kind.
func (ev *evaluator) topLevel(files []*hcl2.File) topBlocks {
	var top topBlocks
	for _, f := range files {
		c, diags := f.Body.Content(rootSchema)
		ev.diags = append(ev.diags, diags...)
		for _, b := range c.Blocks {
			switch b.Type {
			case "variable":
				top.variables = append(top.variables, b)
			case "source":
				top.sources = append(top.sources, b)
			case "build":
				top.builds = append(top.builds, b)
			case "data":
				top.data = append(top.data, b)
			case "locals":
				attrs, diags := b.Body.JustAttributes()
				ev.diags = append(ev.diags, diags...)
				for _, a := range sortedAttrs(attrs) {
					top.locals = append(top.locals, a)
				}
			case "local":
				top.locals = append(top.locals, ev.singleLocal(b)...)
			case "packer":
				ev.diags = append(ev.diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagWarning,
					Summary:  "Packer block ignored",
					Detail:   "clawimg has the qemu builder and its provisioners built in; required_version and required_plugins do not apply.",
					Subject:  b.DefRange.Ptr(),
				})
			default:
				ev.diags = append(ev.diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagError,
					Summary:  "Unsupported Packer block",
					Detail:   fmt.Sprintf("Packer's %q block is not supported by clawimg.", b.Type),
					Subject:  b.DefRange.Ptr(),
				})
			}
		}
	}
	return top
}

// singleLocal reads Packer's `local "name" { expression = ... }` form.
func (ev *evaluator) singleLocal(b *hcl2.Block) []*hcl2.Attribute {
	c, diags := b.Body.Content(&hcl2.BodySchema{Attributes: []hcl2.AttributeSchema{
		{Name: "expression", Required: true}, {Name: "sensitive"},
	}})
	ev.diags = append(ev.diags, diags...)
	a, ok := c.Attributes["expression"]
	if !ok {
		return nil
	}
	return []*hcl2.Attribute{{Name: b.Labels[0], Expr: a.Expr, Range: a.Range, NameRange: b.LabelRanges[0]}}
}

// sortedAttrs orders attributes by position, so diagnostics come in file order.
func sortedAttrs(attrs hcl2.Attributes) []*hcl2.Attribute {
	out := make([]*hcl2.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}
