package hcl

import (
	"encoding/json"
	"sort"
	"strings"
)

// Masked replaces a sensitive value wherever clawimg shows one.
const Masked = "<sensitive>"

// Redact replaces every secret in text, raw or JSON-escaped, with Masked.
// Longer secrets go first so one that contains another is masked whole.
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
// values are Masked, and every secret is masked wherever it was interpolated.
func (p *Plan) Redacted() (*Plan, error) {
	secrets := p.SensitiveValues()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	var out Plan
	if err := json.Unmarshal([]byte(Redact(b.String(), secrets)), &out); err != nil {
		return nil, err
	}
	for i, v := range out.Variables {
		if v.Sensitive {
			out.Variables[i].Value = json.RawMessage(`"` + Masked + `"`)
		}
	}
	out.files = p.files
	return &out, nil
}
