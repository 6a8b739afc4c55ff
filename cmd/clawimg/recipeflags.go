package main

import (
	"github.com/spf13/cobra"
	"path/filepath"

	"github.com/clawimg/clawimg/hcl"
)

// varValue is one of -var / -var-file. Both append to the same list, because
// Packer applies them in the order they were given.
type varValue struct {
	list *[]hcl.VarArg
	file bool
}

func (v varValue) String() string { return "" }
func (v varValue) Type() string {
	if v.file {
		return "FILE"
	}
	return "NAME=VALUE"
}
func (v varValue) Set(s string) error {
	*v.list = append(*v.list, hcl.VarArg{File: v.file, Value: s})
	return nil
}

// recipeFlags are the flags of every command that loads a recipe.
type recipeFlags struct{ vars []hcl.VarArg }

func (r *recipeFlags) register(c *cobra.Command) {
	c.Flags().Var(varValue{&r.vars, false}, "var", "set a recipe variable (repeatable)")
	c.Flags().Var(varValue{&r.vars, true}, "var-file", "read recipe variables from a .pkrvars.hcl file (repeatable)")
}

// options says which recipe a command loads: the RECIPE argument or, without
// one, the built-in OpenClaw recipe.
func (r *recipeFlags) options(e *env, args []string) hcl.Options {
	o := hcl.Options{Vars: r.vars, Env: e.environ, WorkDir: e.workDir, KeyDir: filepath.Join(e.cacheDir(), "sshkey")}
	if len(args) > 0 {
		o.Path = args[0]
	}
	return o
}
