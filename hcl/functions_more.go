package hcl

import (
	"fmt"
	"regexp"
	"strings"

	yaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// PackerVersion is what packer.version says: the Packer release whose
// recipe language clawimg follows.
const PackerVersion = "1.11.2"

// addFileFuncs adds Packer's yamldecode and yamlencode (go-cty-yaml, as
// Packer's) and fileset.
func addFileFuncs(fns map[string]function.Function, files fileReader, root string) {
	fns["yamldecode"] = yaml.YAMLDecodeFunc
	fns["yamlencode"] = yaml.YAMLEncodeFunc
	fns["fileset"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "pattern", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			re, err := globRegexp(args[1].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			var out []cty.Value
			dir := join(root, args[0].AsString())
			if _, err := files.Stat(dir); err != nil {
				return cty.SetValEmpty(cty.String), nil // as Packer: nothing matches
			}
			err = files.WalkFiles(dir, func(rel string) error {
				if re.MatchString(rel) {
					out = append(out, cty.StringVal(rel))
				}
				return nil
			})
			if err != nil || len(out) == 0 {
				return cty.SetValEmpty(cty.String), err
			}
			return cty.SetVal(out), nil
		},
	})
}

// globRegexp is fileset's pattern as a regular expression over
// slash-separated relative paths: * and ? within one path element, ** across
// elements ("**/" also matches no element), [...] classes and {a,b}
// alternatives.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("fileset: pattern %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		case c == '{':
			b.WriteString("(?:")
			depth++
		case c == '}' && depth > 0:
			b.WriteString(")")
			depth--
		case c == ',' && depth > 0:
			b.WriteString("|")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("fileset: pattern %q: unclosed {", pattern)
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
