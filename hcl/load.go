package hcl

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

//go:embed all:builtin
var builtinFiles embed.FS

// Builtin is the OpenClaw recipe embedded in clawimg, with its scripts.
func Builtin() fs.FS {
	sub, _ := fs.Sub(builtinFiles, "builtin")
	return sub
}

// VarArg is one -var or -var-file option. Packer applies them in the order
// they were given, so they travel together.
type VarArg struct {
	File  bool   // -var-file PATH when true, else -var NAME=VALUE
	Value string // the path or the NAME=VALUE text
}

// Options says which recipe to load and with which variable values.
type Options struct {
	// Path is a .pkr.hcl file or a directory; empty means the built-in recipe.
	Path string
	Vars []VarArg
	// Env is the environment (os.Environ() form), for CLAWIMG_VAR_<name>
	// and the env() function.
	Env []string
	// WorkDir is path.cwd.
	WorkDir string
	// Now fixes timestamp(); zero means the time of the call.
	Now time.Time
	// KeyDir is where data "sshkey" keeps the keys it makes, from one run
	// to the next (as Packer's cache); empty: that data source fails.
	KeyDir string
}

// EnvPrefix introduces an environment variable that sets a recipe variable.
const EnvPrefix = "CLAWIMG_VAR_"

// PackerEnvPrefix is Packer's own, taken too so that a Packer user's
// environment works as it is; EnvPrefix wins when both set a variable.
const PackerEnvPrefix = "PKR_VAR_"

// Load parses and evaluates a recipe. Invalid input gives Diagnostics (all
// of them); the Plan is nil then. It returns as soon as ctx is done (^C):
// a recipe is code, and one expression can run long, so evaluation runs
// aside and stops at its next step.
func Load(ctx context.Context, opts Options) (*Plan, error) {
	type result struct {
		plan *Plan
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, err := evaluate(ctx, opts)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.plan, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("evaluate recipe: %w", context.Cause(ctx))
	}
}

func evaluate(ctx context.Context, opts Options) (*Plan, error) {
	reader := fileReader{builtin: Builtin()}
	path := opts.Path
	if path == "" {
		path = BuiltinRoot
	}
	root, recipes, autoVars, err := reader.recipeFiles(path)
	if err != nil {
		return nil, Diagnostics{{Error: true, File: path, Summary: "Failed to read recipe", Detail: errText(err)}}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	env := envMap(opts.Env)
	ev := &evaluator{
		parser: hclparse.NewParser(),
		reader: reader,
		root:   root,
		vars:   map[string]*variable{},
	}
	ev.funcs = functions(reader, root, func(k string) string { return env[k] }, now)
	// path.root is absolute: relative paths resolve against the recipe's
	// directory already, so "${path.root}/x" must not be joined to it again
	// (a recipe given as a relative path would look in root/root/x).
	pathRoot := root
	if !strings.HasPrefix(root, BuiltinRoot) {
		if abs, err := filepath.Abs(root); err == nil {
			pathRoot = abs
		}
	}
	ev.ctx = &hcl2.EvalContext{
		Variables: map[string]cty.Value{
			"path": cty.ObjectVal(map[string]cty.Value{
				"root": cty.StringVal(pathRoot),
				"cwd":  cty.StringVal(opts.WorkDir),
			}),
			"packer": cty.ObjectVal(map[string]cty.Value{"version": cty.StringVal(PackerVersion)}),
		},
		Functions: ev.funcs,
	}

	var bodies []*hcl2.File
	for _, f := range recipes {
		if file := ev.parse(f); file != nil {
			bodies = append(bodies, file)
		}
	}
	if ev.diags.HasErrors() {
		return nil, ev.result()
	}
	top := ev.topLevel(bodies)
	ev.declareVariables(top.variables)
	ev.assignVariables(autoVars, opts.Vars, env)
	ev.validateVariables()
	ev.evalData(top.data, opts.KeyDir)
	ev.evalLocals(ctx, top.locals)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	plan := &Plan{Root: root, Files: recipes, files: reader}
	plan.Variables = ev.planVariables()
	plan.Sources, plan.OtherSources = ev.decodeSources(top.sources)
	plan.Builds = ev.decodeBuilds(top.builds, top.sources, plan)
	plan.secrets = ev.allSecrets()
	diags := ev.result()
	if diags.HasErrors() {
		return nil, diags
	}
	plan.Warnings = diags
	return plan, nil
}

func errText(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// evaluator holds everything one Load needs while it walks the recipe.
type evaluator struct {
	parser *hclparse.Parser
	reader fileReader
	root   string
	funcs  map[string]function.Function
	ctx    *hcl2.EvalContext
	vars   map[string]*variable
	order  []string // variable names in declaration order
	locals map[string]*hcl2.Attribute
	diags  hcl2.Diagnostics
	// secrets are the strings of every decoded value that derives from a
	// sensitive variable, for masking build output and diagnostics.
	secrets []string
	// extra holds synthetic files (-var values) for diagnostics snippets.
	extra map[string]*hcl2.File
}

func (ev *evaluator) parse(path string) *hcl2.File {
	src, err := ev.reader.ReadFile(path)
	if err != nil {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("%s: %s", path, errText(err)),
			Subject:  &hcl2.Range{Filename: path},
		})
		return nil
	}
	if strings.HasSuffix(path, ".json") { // Packer's JSON variable files
		if diags := checkJSONNesting(src, path); diags.HasErrors() {
			ev.diags = append(ev.diags, diags...)
			return nil
		}
		f, diags := ev.parser.ParseJSON(src, path)
		ev.diags = append(ev.diags, diags...)
		if diags.HasErrors() {
			return nil
		}
		return f
	}
	tokens, _ := hclsyntax.LexConfig(src, path, hcl2.InitialPos)
	if diags := checkNesting(tokens); diags.HasErrors() {
		ev.diags = append(ev.diags, diags...)
		return nil
	}
	f, diags := ev.parser.ParseHCL(src, path)
	ev.diags = append(ev.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	return f
}

// result converts every diagnostic so far.
func (ev *evaluator) result() Diagnostics {
	files := ev.parser.Files()
	for k, v := range ev.extra {
		files[k] = v
	}
	diags := convertDiags(files, ev.diags, ev.sensitiveRanges())
	secrets := ev.allSecrets()
	for i := range diags {
		diags[i].Detail = Redact(diags[i].Detail, secrets)
	}
	return diags
}

// allSecrets are the strings of sensitive variables and of the values
// derived from them.
func (ev *evaluator) allSecrets() []string {
	secrets := slices.Clone(ev.secrets)
	for _, v := range ev.vars {
		if v.sensitive && v.hasValue && v.value.IsWhollyKnown() {
			u, _ := unmark(v.value)
			secrets = append(secrets, leafValues(u)...)
		}
	}
	return secrets
}

// sensitiveRanges are where the values of sensitive variables are written
// (a -var, a var file, an environment variable), masked in snippets.
func (ev *evaluator) sensitiveRanges() []hcl2.Range {
	var out []hcl2.Range
	for _, v := range ev.vars {
		if v.sensitive && v.valueRng.Filename != "" {
			out = append(out, v.valueRng)
		}
	}
	return out
}

// eval evaluates an expression in the recipe's context after checking that
// every var.X and local.X it names is declared.
func (ev *evaluator) eval(expr hcl2.Expression) (cty.Value, hcl2.Diagnostics) {
	return ev.evalIn(ev.ctx, expr)
}

// evalIn is eval in another context (one derived from the recipe's).
func (ev *evaluator) evalIn(ctx *hcl2.EvalContext, expr hcl2.Expression) (cty.Value, hcl2.Diagnostics) {
	if diags := ev.checkRefs(expr); diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return expr.Value(ctx)
}

func (ev *evaluator) checkRefs(expr hcl2.Expression) hcl2.Diagnostics {
	var diags hcl2.Diagnostics
	for _, t := range expr.Variables() {
		if len(t) < 2 {
			continue
		}
		attr, ok := t[1].(hcl2.TraverseAttr)
		if !ok {
			continue
		}
		switch t.RootName() {
		case "var":
			if _, ok := ev.vars[attr.Name]; !ok {
				diags = append(diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagError,
					Summary:  "Reference to undeclared input variable",
					Detail:   fmt.Sprintf("An input variable named %q is not declared.%s", attr.Name, suggest(attr.Name, ev.order)),
					Subject:  t.SourceRange().Ptr(),
				})
			}
		case "local":
			if _, ok := ev.locals[attr.Name]; !ok {
				diags = append(diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagError,
					Summary:  "Reference to undeclared local value",
					Detail:   fmt.Sprintf("A local value named %q is not declared.%s", attr.Name, suggest(attr.Name, keys(ev.locals))),
					Subject:  t.SourceRange().Ptr(),
				})
			}
		}
	}
	return diags
}
