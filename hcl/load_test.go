package hcl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// baseSource is the source block of the tests' recipes.
const baseSource = `
source "qemu" "base" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
}
`

// minimal is the smallest valid recipe; tests append to it.
const minimal = baseSource + `
build {
  sources = ["source.qemu.base"]
  provisioner "shell" {
    inline = ["true"]
  }
}
`

// writeRecipe writes files (name -> content) into a temp dir and returns it.
func writeRecipe(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, dir string, vars []VarArg, env ...string) (*Plan, Diagnostics) {
	t.Helper()
	p, err := Load(context.Background(), Options{Path: dir, Vars: vars, Env: env, WorkDir: dir})
	if err == nil {
		return p, nil
	}
	diags, ok := err.(Diagnostics)
	if !ok {
		t.Fatalf("Load error is %T, want Diagnostics: %v", err, err)
	}
	return nil, diags
}

func varValue(t *testing.T, p *Plan, name string) (string, string) {
	t.Helper()
	for _, v := range p.Variables {
		if v.Name == name {
			var s any
			if err := json.Unmarshal(v.Value, &s); err != nil {
				t.Fatal(err)
			}
			return strings.Trim(string(v.Value), `"`), v.Source
		}
	}
	t.Fatalf("no variable %s", name)
	return "", ""
}

func TestBuiltinRecipeLoads(t *testing.T) {
	p, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("built-in recipe: %v", err)
	}
	if len(p.Builds) != 1 || p.Builds[0].Name != "openclaw" || len(p.Sources) != 1 {
		t.Fatalf("unexpected plan: %+v", p)
	}
	for _, s := range p.Builds[0].Provisioners[0].Shell.Scripts {
		if _, err := p.ReadFile(s.Path); err != nil {
			t.Errorf("script %s: %v", s.Path, err)
		}
	}
}

func TestVariablePrecedence(t *testing.T) {
	recipe := `variable "x" {
  type    = string
  default = "default"
}
` + minimal
	tests := []struct {
		name       string
		files      map[string]string
		vars       []VarArg
		env        []string
		want, from string
	}{
		{"default", nil, nil, nil, "default", "default"},
		{"env", nil, nil, []string{"CLAWIMG_VAR_x=env"}, "env", "env CLAWIMG_VAR_x"},
		{"auto file beats env", map[string]string{"a.auto.pkrvars.hcl": `x = "auto"`}, nil,
			[]string{"CLAWIMG_VAR_x=env"}, "auto", "file "},
		{"later auto file wins", map[string]string{"a.auto.pkrvars.hcl": `x = "a"`, "b.auto.pkrvars.hcl": `x = "b"`}, nil, nil, "b", "file "},
		{"-var-file beats auto", map[string]string{"a.auto.pkrvars.hcl": `x = "auto"`, "v.pkrvars.hcl": `x = "varfile"`},
			[]VarArg{{File: true, Value: "@v.pkrvars.hcl"}}, nil, "varfile", "-var-file "},
		{"-var beats env", nil, []VarArg{{Value: "x=cli"}}, []string{"CLAWIMG_VAR_x=env"}, "cli", "-var"},
		{"command line order: -var then -var-file", map[string]string{"v.pkrvars.hcl": `x = "varfile"`},
			[]VarArg{{Value: "x=cli"}, {File: true, Value: "@v.pkrvars.hcl"}}, nil, "varfile", "-var-file "},
		{"command line order: -var-file then -var", map[string]string{"v.pkrvars.hcl": `x = "varfile"`},
			[]VarArg{{File: true, Value: "@v.pkrvars.hcl"}, {Value: "x=cli"}}, nil, "cli", "-var"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"r.pkr.hcl": recipe}
			for k, v := range tt.files {
				files[k] = v
			}
			dir := writeRecipe(t, files)
			var vars []VarArg
			for _, v := range tt.vars {
				if v.File {
					v.Value = filepath.Join(dir, strings.TrimPrefix(v.Value, "@"))
				}
				vars = append(vars, v)
			}
			p, diags := load(t, dir, vars, tt.env...)
			if diags != nil {
				t.Fatal(diags)
			}
			got, from := varValue(t, p, "x")
			if got != tt.want || !strings.HasPrefix(from, tt.from) {
				t.Fatalf("x = %q from %q, want %q from %q...", got, from, tt.want, tt.from)
			}
		})
	}
}

func TestTypedVariableValues(t *testing.T) {
	dir := writeRecipe(t, map[string]string{"r.pkr.hcl": `
variable "n" {
  type = number
}
variable "l" {
  type    = list(string)
  default = []
}
variable "o" {
  type    = object({ a = string, b = optional(number, 3) })
  default = { a = "x" }
}
` + minimal})
	p, diags := load(t, dir, []VarArg{{Value: "n=42"}, {Value: `l=["a","b"]`}})
	if diags != nil {
		t.Fatal(diags)
	}
	for name, want := range map[string]string{"n": "42", "l": `["a","b"]`, "o": `{"a":"x","b":3}`} {
		if got, _ := varValue(t, p, name); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
}

func TestFunctionsAndPaths(t *testing.T) {
	dir := writeRecipe(t, map[string]string{
		"greeting.txt": "hello",
		"motd.tpl":     "Welcome ${name}, ${upper(name)}",
		"s.sh":         "#!/bin/sh\necho hi\n",
		"r.pkr.hcl": `
locals {
  all = [
    file("greeting.txt"),
    templatefile("motd.tpl", { name = "ann" }),
    sha256("abc"),
    env("HOME_TEST"),
    format("%s-%d", "a", 1),
    join(",", ["x", "y"]),
    lower("ABC"),
    timestamp(),
    length(uuidv4()),
    length("four"),
    basename(path.root),
  ]
}
source "qemu" "base" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
}
build {
  sources = ["source.qemu.base"]
  provisioner "shell" {
    inline = local.all
  }
  provisioner "shell" {
    script = "s.sh"
  }
}
`})
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p, err := Load(context.Background(), Options{Path: dir, Env: []string{"HOME_TEST=/home/t"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Builds[0].Provisioners[0].Shell.Inline
	want := []string{"hello", "Welcome ann, ANN",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"/home/t", "a-1", "x,y", "abc", "2026-11-25T10:00:00Z", "36", "4", filepath.Base(dir)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	s := p.Builds[0].Provisioners[1].Shell.Scripts[0]
	if s.Path != filepath.Join(dir, "s.sh") || len(s.SHA256) != 64 {
		t.Fatalf("script ref %+v", s)
	}
}

func TestSourceDecoding(t *testing.T) {
	dir := writeRecipe(t, map[string]string{"r.pkr.hcl": `
source "qemu" "x" {
  iso_url          = "https://example.com/a.img"
  iso_checksum     = "sha256:` + strings.Repeat("ab", 32) + `"
  disk_image       = true
  disk_size        = "16G"
  cpus             = 4
  memory           = 2048
  accelerator      = "tcg"
  qemu_binary      = "qemu-system-aarch64"
  qemuargs         = [["-smp", "4"]]
  ssh_username     = "ubuntu"
  ssh_timeout      = "20m"
  shutdown_command = "sudo poweroff"
}
build {
  name    = "b"
  sources = ["source.qemu.x"]
  provisioner "file" {
    content     = "x"
    destination = "/tmp/x"
  }
}
`})
	p, diags := load(t, dir, nil)
	if diags != nil {
		t.Fatal(diags)
	}
	s := p.Source("x")
	if s.DiskSize != 16<<30 || s.CPUs != 4 || s.Memory != 2048 || s.Arch != "arm64" ||
		time.Duration(s.SSHTimeout) != 20*time.Minute || s.Accelerator != "tcg" || len(s.QEMUArgs) != 1 {
		t.Fatalf("decoded %+v", s)
	}
	if f := p.Builds[0].Provisioners[0].File; f == nil || *f.Content != "x" || f.Direction != "upload" {
		t.Fatalf("file provisioner %+v", f)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"16G", 16 << 30, false}, {"512M", 512 << 20, false}, {"40960", 40960 << 20, false},
		{"1.5G", 3 << 29, false}, {"2GiB", 2 << 30, false}, {"100k", 100 << 10, false},
		{"", 0, true}, {"lots", 0, true}, {"-1G", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in, 1<<20)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestSensitiveRedaction(t *testing.T) {
	dir := writeRecipe(t, map[string]string{"r.pkr.hcl": `
variable "token" {
  type      = string
  sensitive = true
}
` + baseSource + `
build {
  sources = ["source.qemu.base"]
  provisioner "shell" {
    environment_vars = ["TOKEN=${var.token}"]
    inline           = ["echo ${var.token}"]
  }
}
`})
	p, diags := load(t, dir, []VarArg{{Value: "token=s3cr\"et"}})
	if diags != nil {
		t.Fatal(diags)
	}
	r, err := p.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), `s3cr`) {
		t.Fatalf("secret in redacted plan: %s", b)
	}
	if got := r.Builds[0].Provisioners[0].Shell.EnvironmentVars[0]; got != "<sensitive>" {
		t.Fatalf("env var = %q", got)
	}
	// The original keeps the value for the builder.
	if got := p.Builds[0].Provisioners[0].Shell.EnvironmentVars[0]; got != `TOKEN=s3cr"et` {
		t.Fatalf("original env var = %q", got)
	}
}

// TestRecipeFilesAreBounded: file() of a device or a FIFO fails at once
// with a diagnostic, instead of running out of memory or hanging.
func TestRecipeFilesAreBounded(t *testing.T) {
	dir := writeRecipe(t, nil)
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		d := writeRecipe(t, map[string]string{"r.pkr.hcl": minimal + "locals {\n  x = file(\"" + path + "\")\n}\n"})
		done := make(chan Diagnostics, 1)
		go func() { _, diags := load(t, d, nil); done <- diags }()
		select {
		case diags := <-done:
			if diags == nil || !strings.Contains(diags.Error(), "not a regular file") {
				t.Errorf("file(%q): %v", path, diags)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("file(%q) hangs", path)
		}
	}
}

// TestDeepNestingIsAnError: 100,000 nested parentheses (in a recipe, a
// -var value, a template, or for fmt) are a diagnostic, not a crash of
// the parser's recursion.
func TestDeepNestingIsAnError(t *testing.T) {
	deep := strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)
	d := writeRecipe(t, map[string]string{
		"r.pkr.hcl": minimal + "locals {\n  x = " + deep + "\n}\n",
	})
	if _, diags := load(t, d, nil); diags == nil || !strings.Contains(diags.Error(), "Nesting too deep") {
		t.Errorf("recipe: %v", diags)
	}
	d = writeRecipe(t, map[string]string{
		"r.pkr.hcl": minimal + "variable \"n\" {\n  type = number\n  default = 1\n}\n",
	})
	if _, diags := load(t, d, []VarArg{{Value: "n=" + deep}}); diags == nil || !strings.Contains(diags.Error(), "Nesting too deep") {
		t.Errorf("-var: %v", diags)
	}
	d = writeRecipe(t, map[string]string{
		"r.pkr.hcl": minimal + "locals {\n  x = templatefile(\"t.tpl\", {})\n}\n",
		"t.tpl":     "${" + deep + "}",
	})
	if _, diags := load(t, d, nil); diags == nil || !strings.Contains(diags.Error(), "Nesting too deep") {
		t.Errorf("templatefile: %v", diags)
	}
	if _, err := FormatSource([]byte("x = "+deep+"\n"), "deep.pkr.hcl"); err == nil || !strings.Contains(err.Error(), "Nesting too deep") {
		t.Errorf("fmt: %v", err)
	}
	// A recipe nested as deep as real ones get is fine.
	d = writeRecipe(t, map[string]string{
		"r.pkr.hcl": minimal + "locals {\n  x = " + strings.Repeat("[", 50) + "1" + strings.Repeat("]", 50) + "\n}\n",
	})
	if _, diags := load(t, d, nil); diags != nil {
		t.Errorf("50 levels: %v", diags)
	}
}

// TestDiagnosticsInTextOrder: the same recipe gives the same diagnostics in
// the same order every time, the order of the recipe's files and lines,
// whatever order the checks found them in.
func TestDiagnosticsInTextOrder(t *testing.T) {
	dir := writeRecipe(t, map[string]string{
		"b.pkr.hcl": `build {
  sources = ["source.qemu.nope"]
  provisioner "shell" {
    inline = ["echo ${var.undefined_b}"]
    only   = ["qemu.other"]
  }
}
`,
		"a.pkr.hcl": `source "qemu" "base" {
  iso_url       = "base.qcow2"
  iso_checksum  = "none"
  disk_image    = true
  ssh_username  = "debian"
  cd_label      = "x"
  net_bridge    = "virbr0"

  cpus          = var.undefined_a
  ssh_tiemout   = "5m"
}
`,
	})
	var first string
	for i := 0; i < 8; i++ {
		_, diags := load(t, dir, nil)
		var got []string
		for _, d := range diags {
			got = append(got, fmt.Sprintf("%s:%d:%d %s", filepath.Base(d.File), d.Line, d.Column, d.Summary))
		}
		text := strings.Join(got, "\n")
		if i == 0 {
			first = text
			if !sort.SliceIsSorted(diags, func(a, b int) bool {
				return diags[a].File < diags[b].File || diags[a].File == diags[b].File && diags[a].Line < diags[b].Line
			}) || len(diags) < 5 {
				t.Fatalf("diagnostics not in the recipe's order:\n%s", text)
			}
		} else if text != first {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, text, first)
		}
	}
}

func TestSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  QEMUSource
		want []BootStep
	}{
		{"none", QEMUSource{}, nil},
		{"boot_command, one step", QEMUSource{BootCommand: []string{"a ", "b<enter>"}}, []BootStep{{Command: "a b<enter>"}}},
		{"boot_steps", QEMUSource{BootSteps: []BootStep{{"<esc>", "prompt"}, {"x<enter>", ""}}}, []BootStep{{"<esc>", "prompt"}, {"x<enter>", ""}}},
	} {
		if got := tc.src.Steps(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
