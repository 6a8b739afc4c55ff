package hcl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is the recipe function library: the go-cty standard library
// under the names Packer and Terraform users know, plus the file, hashing,
// time and environment functions. now is fixed per load, so timestamp() gives
// one value for the whole recipe.
func functions(files fileReader, root string, getenv func(string) string, now time.Time) map[string]function.Function {
	fns := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strlen":          stdlib.StrlenFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"try":             tryfunc.TryFunc,
		"can":             tryfunc.CanFunc,

		"md5":          hashFunc(md5.New),
		"sha1":         hashFunc(sha1.New),
		"sha256":       hashFunc(sha256.New),
		"sha512":       hashFunc(sha512.New),
		"base64encode": base64EncodeFunc,
		"base64decode": base64DecodeFunc,
		"uuidv4":       uuidFunc,
		"basename":     stringFunc(filepath.Base),
		"dirname":      stringFunc(filepath.Dir),
		"timestamp": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.StringVal(now.UTC().Format(time.RFC3339)), nil
			},
		}),
		"env": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "name", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(getenv(args[0].AsString())), nil
			},
		}),
	}
	readFile := func(path string) ([]byte, error) {
		return files.ReadFile(join(root, path))
	}
	fns["file"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := readFile(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
	fns["fileexists"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			fi, err := files.Stat(join(root, args[0].AsString()))
			return cty.BoolVal(err == nil && !fi.IsDir()), nil
		},
	})
	fns["templatefile"] = templateFileFunc(readFile, fns)
	addPackerFuncs(fns, root)
	addFileFuncs(fns, files, root)
	return fns
}

// lengthFunc is Terraform's length: of a string, a collection or a
// structural value.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch {
		case v.Type() == cty.String:
			return stdlib.Strlen(v)
		case v.Type().IsCollectionType() || v.Type().IsTupleType() || v.Type().IsObjectType():
			return v.Length(), nil
		}
		return cty.NilVal, fmt.Errorf("argument must be a string, a collection type, or a structural type")
	},
})

func hashFunc(h func() hash.Hash) function.Function {
	return stringFunc(func(s string) string {
		x := h()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	})
}

func stringFunc(f func(string) string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(f(args[0].AsString())), nil
		},
	})
}

var base64EncodeFunc = stringFunc(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) })

var base64DecodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, fmt.Errorf("invalid base64: %w", err)
		}
		return cty.StringVal(string(b)), nil
	},
})

var uuidFunc = function.New(&function.Spec{
	Type: function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.StringVal(uuid.NewString()), nil
	},
})

// templateFileFunc renders a file as an HCL template with the given variables
// and the same functions (but not templatefile itself, to avoid recursion).
func templateFileFunc(readFile func(string) ([]byte, error), fns map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := args[0].AsString()
			src, err := readFile(path)
			if err != nil {
				return cty.NilVal, err
			}
			tokens, _ := hclsyntax.LexTemplate(src, path, hcl2.InitialPos)
			if diags := checkNesting(tokens); diags.HasErrors() {
				return cty.NilVal, diags
			}
			expr, diags := hclsyntax.ParseTemplate(src, path, hcl2.Pos{Line: 1, Column: 1})
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			vars := args[1]
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.NilVal, fmt.Errorf("vars must be an object or a map")
			}
			inner := make(map[string]function.Function, len(fns))
			for k, f := range fns {
				if k != "templatefile" {
					inner[k] = f
				}
			}
			ctx := &hcl2.EvalContext{Variables: map[string]cty.Value{}, Functions: inner}
			if !vars.IsNull() {
				for k, v := range vars.AsValueMap() {
					ctx.Variables[k] = v
				}
			}
			v, diags := expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			return v, nil
		},
	})
}

// addPackerFuncs adds Packer's conversions (go-cty-funcs) and abspath: a
// relative path is the recipe directory's, as every path in a recipe.
func addPackerFuncs(fns map[string]function.Function, root string) {
	for name, ty := range map[string]cty.Type{
		"tostring": cty.String, "tonumber": cty.Number, "tobool": cty.Bool,
		"tolist": cty.List(cty.DynamicPseudoType), "toset": cty.Set(cty.DynamicPseudoType), "tomap": cty.Map(cty.DynamicPseudoType),
	} {
		fns[name] = stdlib.MakeToFunc(ty)
	}
	fns["abspath"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := join(root, args[0].AsString())
			if strings.HasPrefix(p, BuiltinRoot) {
				return cty.StringVal(p), nil
			}
			abs, err := filepath.Abs(p)
			return cty.StringVal(abs), err
		},
	})
}
