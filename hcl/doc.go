// Package hcl loads clawimg recipes: HCL2 files in Packer's shape
// (variable, locals, source "qemu", build, provisioner, post-processor).
//
// Load parses and evaluates a recipe into a Plan: a fully resolved, typed
// description of what to build, with no HCL or cty types in it, so that the
// builder never has to know about expressions or diagnostics. Everything wrong
// with a recipe comes back at once as Diagnostics, each with file:line:col.
//
// Relative paths in a recipe (script, source, file(), templatefile()) resolve
// against the recipe's directory, path.root. Packer resolves them against the
// working directory; both agree when the recipe is run from its directory, and
// ours lets `clawimg build ./recipe` work from anywhere.
package hcl
