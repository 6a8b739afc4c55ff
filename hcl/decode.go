package hcl

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// decoder evaluates the attributes of one block into Go values, collecting
// every diagnostic instead of stopping at the first.
type decoder struct {
	ev    *evaluator
	attrs hcl2.Attributes
	diags hcl2.Diagnostics
	// sensitive names the attributes whose value derives from a sensitive
	// variable, in decoding order.
	sensitive []string
}

// content decodes body against the supported attribute names and block
// types. Packer fields that clawimg does not support are reported as such;
// unknown ones get HCL's "did you mean".
func (ev *evaluator) content(body hcl2.Body, what string, attrs []string, blocks []hcl2.BlockHeaderSchema, unsupported []string) (*decoder, *hcl2.BodyContent, hcl2.Diagnostics) {
	schema := &hcl2.BodySchema{Blocks: blocks}
	for _, a := range attrs {
		schema.Attributes = append(schema.Attributes, hcl2.AttributeSchema{Name: a})
	}
	for _, a := range unsupported {
		schema.Attributes = append(schema.Attributes, hcl2.AttributeSchema{Name: a})
	}
	c, diags := body.Content(schema)
	unsupportedField := func(name string, at *hcl2.Range) *hcl2.Diagnostic {
		return &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Unsupported Packer field",
			Detail:   fmt.Sprintf("%s: Packer's %q is not supported by clawimg", what, name),
			Subject:  at,
		}
	}
	for _, name := range unsupported {
		if a, ok := c.Attributes[name]; ok {
			// An empty value (boot_command = [], http_directory = "") asks
			// for nothing: Packer accepts it, and so does clawimg.
			if !emptyValue(a.Expr) {
				diags = append(diags, unsupportedField(name, a.NameRange.Ptr()))
			}
			delete(c.Attributes, name)
		}
	}
	// Packer fields written as blocks (qemu_img_args { ... }): named as
	// unsupported, not "use the equals sign".
	for i, d := range diags {
		if m := blockTypeRe.FindStringSubmatch(d.Detail); d.Summary == "Unsupported block type" && m != nil && slices.Contains(unsupported, m[1]) {
			diags[i] = unsupportedField(m[1], d.Subject)
		}
	}
	return &decoder{ev: ev, attrs: c.Attributes}, c, diags
}

var blockTypeRe = regexp.MustCompile(`Blocks of type "([^"]+)"`)

// emptyValue reports whether an expression is, without any variable, an
// empty list, tuple, map, object or string.
func emptyValue(e hcl2.Expression) bool {
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return false
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString() == ""
	case ty.IsListType(), ty.IsTupleType(), ty.IsSetType(), ty.IsMapType(), ty.IsObjectType():
		return v.LengthInt() == 0
	}
	return false
}

// value evaluates an attribute converted to ty; ok is false when it is
// absent or invalid (the diagnostic is recorded).
func (d *decoder) value(name string, ty cty.Type) (cty.Value, *hcl2.Attribute, bool) {
	a, ok := d.attrs[name]
	if !ok {
		return cty.NilVal, nil, false
	}
	v, diags := d.ev.eval(a.Expr)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, a, false
	}
	v, secret := unmark(v)
	if secret && !slices.Contains(d.sensitive, name) {
		d.sensitive = append(d.sensitive, name)
	}
	if v.IsNull() {
		return cty.NilVal, a, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		detail := fmt.Sprintf("Inappropriate value for attribute %q: %s.", name, err)
		if secret {
			detail = fmt.Sprintf("Inappropriate value for attribute %q: its value, derived from a sensitive variable, is not a %s.", name, ty.FriendlyName())
		}
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   detail,
			Subject:  a.Expr.Range().Ptr(),
		})
		return cty.NilVal, a, false
	}
	if secret {
		d.ev.secrets = append(d.ev.secrets, leafValues(cv)...)
	}
	return cv, a, true
}

func (d *decoder) has(name string) bool { _, ok := d.attrs[name]; return ok }

// olderName reports whether the recipe uses older, Packer's older name
// for name, and says it is an error to set both.
func (d *decoder) olderName(older, name string) bool {
	a, ok := d.attrs[older]
	if ok && d.has(name) {
		d.errorf(a, "Conflicting arguments", "%s is Packer's older name for %s: set one of them.", older, name)
	}
	return ok
}

// onlyWith warns of each of names the recipe sets (to something other
// than an empty value or false) although need, said as with, is not met:
// the build ignores them then, as Packer does.
func (d *decoder) onlyWith(need bool, with string, names ...string) {
	if need {
		return
	}
	for _, name := range names {
		a, ok := d.attrs[name]
		if !ok {
			continue
		}
		v, diags := d.ev.eval(a.Expr)
		if v, _ = unmark(v); !diags.HasErrors() && unset(v) {
			continue
		}
		d.warnf(a, "Argument ignored", "%s is used only with %s.", name, with)
	}
}

// unset is a value that leaves an argument as if it were not there: null,
// unknown, false, "" or empty.
func unset(v cty.Value) bool {
	if v.IsNull() || !v.IsWhollyKnown() {
		return true
	}
	switch ty := v.Type(); {
	case ty == cty.Bool:
		return v.False()
	case ty == cty.String:
		return v.AsString() == ""
	case ty.IsListType(), ty.IsTupleType(), ty.IsSetType(), ty.IsMapType(), ty.IsObjectType():
		return v.LengthInt() == 0
	}
	return false
}

// port checks that the attribute name's value n is a TCP port.
func (d *decoder) port(name string, n int) {
	if a, ok := d.attrs[name]; ok && (n < 1 || n > 65535) {
		d.errorf(a, "Invalid value", "%s must be a port (1-65535), not %d.", name, n)
	}
}

// portRange checks that min..max, decoded from the attributes names (the
// first two are the range's own), is a range of TCP ports.
func (d *decoder) portRange(min, max int, names ...string) {
	if min < 1 || max > 65535 || min > max {
		d.errorf(attrOf(d, names...), "Invalid value", "%s..%s must be a range of ports (1-65535), not %d..%d.", names[0], names[1], min, max)
	}
}

// errorf reports an invalid attribute. The detail of one whose value derives
// from a sensitive variable is replaced: details quote values.
func (d *decoder) errorf(a *hcl2.Attribute, summary, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	if slices.Contains(d.sensitive, a.Name) {
		detail = fmt.Sprintf("The value of %s is not valid here; it derives from a sensitive variable, so it is not shown.", a.Name)
	}
	d.diags = append(d.diags, &hcl2.Diagnostic{
		Severity: hcl2.DiagError, Summary: summary,
		Detail: detail, Subject: a.Expr.Range().Ptr(),
	})
}

// warnf adds a warning about attribute a.
func (d *decoder) warnf(a *hcl2.Attribute, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl2.Diagnostic{
		Severity: hcl2.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: a.Expr.Range().Ptr(),
	})
}

func (d *decoder) str(name string, dst *string) {
	if v, _, ok := d.value(name, cty.String); ok {
		*dst = v.AsString()
	}
}

func (d *decoder) boolean(name string, dst *bool) {
	if v, _, ok := d.value(name, cty.Bool); ok {
		*dst = v.True()
	}
}

func (d *decoder) integer(name string, dst *int) {
	v, a, ok := d.value(name, cty.Number)
	if !ok {
		return
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil {
		d.errorf(a, "Incorrect attribute value type", "Inappropriate value for attribute %q: a whole number is required.", name)
		return
	}
	*dst = n
}

func (d *decoder) strList(name string, dst *[]string) {
	if v, _, ok := d.value(name, cty.List(cty.String)); ok {
		*dst = nil
		for _, e := range v.AsValueSlice() {
			*dst = append(*dst, e.AsString())
		}
	}
}

func (d *decoder) intList(name string, dst *[]int) {
	v, a, ok := d.value(name, cty.List(cty.Number))
	if !ok {
		return
	}
	var out []int
	if err := gocty.FromCtyValue(v, &out); err != nil {
		d.errorf(a, "Incorrect attribute value type", "Inappropriate value for attribute %q: whole numbers are required.", name)
		return
	}
	*dst = out
}

func (d *decoder) strMap(name string, dst *map[string]string) {
	if v, _, ok := d.value(name, cty.Map(cty.String)); ok {
		m := map[string]string{}
		for k, e := range v.AsValueMap() {
			m[k] = e.AsString()
		}
		*dst = m
	}
}

func (d *decoder) strLists(name string, dst *[][]string) {
	if v, _, ok := d.value(name, cty.List(cty.List(cty.String))); ok {
		*dst = nil
		for _, row := range v.AsValueSlice() {
			var r []string
			for _, e := range row.AsValueSlice() {
				r = append(r, e.AsString())
			}
			*dst = append(*dst, r)
		}
	}
}

// duration decodes a Go/Packer duration such as "5m" or "1h30m".
func (d *decoder) duration(name string, dst *Duration) {
	v, a, ok := d.value(name, cty.String)
	if !ok {
		return
	}
	dur, err := time.ParseDuration(v.AsString())
	if err != nil || dur < 0 {
		d.errorf(a, "Invalid duration", "%q for %s is not a duration such as \"30s\", \"5m\" or \"1h30m\".", v.AsString(), name)
		return
	}
	*dst = Duration(dur)
}

// size decodes a disk size the way Packer's qemu builder does: a number is
// MiB, a string may carry a K, M, G or T suffix (binary units).
func (d *decoder) size(name string, dst *int64) {
	v, a, ok := d.value(name, cty.String)
	if !ok {
		return
	}
	n, err := ParseSize(v.AsString(), 1<<20)
	if err != nil {
		d.errorf(a, "Invalid size", "%s: %v.", name, err)
		return
	}
	*dst = n
}

// sizes reads a list of sizes, each as size reads one.
func (d *decoder) sizes(name string, dst *[]int64) {
	var list []string
	d.strList(name, &list)
	for _, s := range list {
		n, err := ParseSize(s, 1<<20)
		if err != nil {
			d.errorf(d.attrs[name], "Invalid size", "%s: %v.", name, err)
			return
		}
		*dst = append(*dst, n)
	}
}

// ParseSize parses "16G", "512M" or "40960" into bytes. A bare number is in
// units of unit bytes (Packer's disk_size is in MiB); suffixes are binary.
func ParseSize(s string, unit int64) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	mult := unit
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult, t = int64(1)<<(10*(i+1)), t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size such as \"16G\" or \"512M\"", s)
	}
	return int64(f * float64(mult)), nil
}

// oneOf checks that a decoded string is one of the allowed values.
func (d *decoder) oneOf(name, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	if a, ok := d.attrs[name]; ok {
		sort.Strings(allowed)
		d.errorf(a, "Invalid value", "%s must be one of %s, not %q.", name, quoteList(allowed), got)
	}
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}
