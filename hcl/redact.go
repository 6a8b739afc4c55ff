package hcl

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Masked replaces a sensitive value wherever clawimg shows one.
const Masked = "<sensitive>"

// Redact replaces every secret in text, raw or JSON-escaped, with Masked.
// Longer secrets go first so one that contains another is masked whole. It is
// for text clawimg does not parse (a build's output, a message written by a
// library); what clawimg renders itself is masked by structure instead.
func Redact(text string, secrets []string) string {
	s := append([]string(nil), secrets...)
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	for _, secret := range s {
		if secret == "" {
			continue
		}
		text = strings.ReplaceAll(text, secret, Masked)
		if esc := jsonEscape(secret); esc != secret {
			text = strings.ReplaceAll(text, esc, Masked)
		}
	}
	return text
}

func jsonEscape(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}

// Redacted returns a copy of the plan fit to show: sensitive variables'
// values are Masked, and so is every field whose value derives from one (the
// fields each block lists in Sensitive): strings become Masked, numbers and
// booleans their zero value. Nothing is found by comparing text, so a secret
// such as "e" or "true" masks exactly what came from it.
func (p *Plan) Redacted() (*Plan, error) {
	b, err := json.Marshal(p) // a deep copy, masked below
	if err != nil {
		return nil, err
	}
	var out Plan
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	for i, v := range out.Variables {
		if v.Sensitive {
			out.Variables[i].Value = json.RawMessage(`"` + Masked + `"`)
		}
	}
	for i := range out.Sources {
		maskFields(&out.Sources[i], out.Sources[i].Sensitive)
	}
	for i := range out.Builds {
		bd := &out.Builds[i]
		maskFields(bd, bd.Sensitive)
		for j := range bd.Provisioners {
			pr := &bd.Provisioners[j]
			maskFields(pr, pr.Sensitive)
			if pr.Shell != nil {
				maskFields(pr.Shell, pr.Sensitive)
			}
			if pr.File != nil {
				maskFields(pr.File, pr.Sensitive)
			}
		}
		for j := range bd.PostProcessors {
			maskFields(&bd.PostProcessors[j], bd.PostProcessors[j].Sensitive)
		}
	}
	out.files, out.secrets = p.files, p.secrets
	return &out, nil
}

// planField is the plan's JSON name for a recipe attribute: the same, but
// for script, which fills scripts as scripts does.
func planField(attr string) string {
	if attr == "script" {
		return "scripts"
	}
	return attr
}

// maskFields masks the fields of the struct ptr points to whose JSON name is
// one of attrs.
func maskFields(ptr any, attrs []string) {
	if len(attrs) == 0 {
		return
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = planField(a)
	}
	v := reflect.ValueOf(ptr).Elem()
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if tag != "" && slices.Contains(names, tag) {
			mask(v.Field(i))
		}
	}
}

// mask replaces every string inside v with Masked and every other scalar
// with its zero value.
func mask(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(Masked)
	case reflect.Pointer:
		if !v.IsNil() {
			mask(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			mask(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			mask(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mask(v.Field(i))
			}
		}
	default:
		v.Set(reflect.Zero(v.Type()))
	}
}
