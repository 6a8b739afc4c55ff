package hcl

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clawimg/clawimg/internal/atomicfile"
	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// FormatSource returns src in canonical HCL formatting. Source that does not
// parse gives Diagnostics, because formatting it would guess at its meaning.
func FormatSource(src []byte, name string) ([]byte, error) {
	tokens, _ := hclsyntax.LexConfig(src, name, hcl2.InitialPos)
	if diags := checkNesting(tokens); diags.HasErrors() {
		return nil, convertDiags(nil, diags, nil)
	}
	p := hclparse.NewParser()
	if _, diags := p.ParseHCL(src, name); diags.HasErrors() {
		return nil, convertDiags(p.Files(), diags, nil)
	}
	return hclwrite.Format(src), nil
}

// FormatFiles lists the recipe and variable files at path (a file, or a
// directory's *.pkr.hcl and *.pkrvars.hcl) whose formatting is not canonical,
// and unless check is set rewrites them in place, atomically.
func FormatFiles(path string, check bool) ([]string, error) {
	files, err := formatTargets(path)
	if err != nil {
		return nil, err
	}
	var changed []string
	var diags Diagnostics
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return changed, fmt.Errorf("read %s: %w", f, err)
		}
		out, err := FormatSource(src, f)
		if d, ok := err.(Diagnostics); ok {
			diags = append(diags, d...)
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		changed = append(changed, f)
		if !check {
			if err := atomicfile.WriteFile(f, out, 0); err != nil {
				return changed, err
			}
		}
	}
	if len(diags) > 0 {
		return changed, diags
	}
	return changed, nil
}

func formatTargets(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".pkr.hcl") || strings.HasSuffix(n, ".pkrvars.hcl")) {
			out = append(out, filepath.Join(path, n))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no *.pkr.hcl or *.pkrvars.hcl files in %s", path)
	}
	return out, nil
}

// WriteBuiltin writes the built-in recipe and its scripts into dir, for
// customizing. It refuses to overwrite a file unless force is set, and checks
// every file before writing any.
func WriteBuiltin(dir string, force bool) ([]string, error) {
	src := Builtin()
	var rels []string
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rels = append(rels, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !force {
		for _, r := range rels {
			dst := filepath.Join(dir, filepath.FromSlash(r))
			if _, err := os.Lstat(dst); err == nil {
				return nil, fmt.Errorf("init %s: %s already exists", dir, dst)
			}
		}
	}
	var written []string
	for _, r := range rels {
		data, err := fs.ReadFile(src, r)
		if err != nil {
			return written, err
		}
		dst := filepath.Join(dir, filepath.FromSlash(r))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return written, fmt.Errorf("init %s: %w", dir, err)
		}
		perm := fs.FileMode(0o644)
		if strings.HasSuffix(r, ".sh") {
			perm = 0o755
		}
		if err := atomicfile.WriteFile(dst, data, perm); err != nil {
			return written, err
		}
		written = append(written, dst)
	}
	return written, nil
}
