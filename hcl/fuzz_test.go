package hcl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary recipe text to the loader: it must return a plan
// or diagnostics, never panic or hang. make test runs it for a short time.
func FuzzLoad(f *testing.F) {
	builtin, err := os.ReadFile("builtin/openclaw.pkr.hcl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(builtin)
	f.Add([]byte(minimal))
	seeds, _ := filepath.Glob("testdata/packer/*/*.pkr.hcl")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`variable "x" { type = list(string) default = ["a"] validation { condition = length(var.x) > 0 error_message = "e" } }`,
		`locals { a = local.b
b = local.a }`,
		`build { sources = [source.qemu.x] }`,
		`source "qemu" "x" { disk_size = 1 qemuargs = [["-m"]] }`,
		"variable \"x\" {\n  default = \"${\n}",
		`locals { t = templatefile("r.pkr.hcl", {}) }`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "r.pkr.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("Load did not return within 10s for %q", src))
			}
		}()
		p, err := Load(context.Background(), Options{Path: path, WorkDir: dir})
		close(done)
		if (p == nil) == (err == nil) {
			t.Fatalf("Load returned plan %v and error %v", p != nil, err)
		}
		if d, ok := err.(Diagnostics); ok && !d.HasErrors() {
			t.Fatalf("diagnostics without an error: %v", d)
		}
	})
}
