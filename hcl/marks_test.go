package hcl

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// A recipe that computes from two sensitive variables: functions of a
// secret string, a secret number used as a machine size, and commands that
// contain the secret's text by chance ("e", "true", "inline").
const sensitiveRecipe = `
variable "secret" {
  type      = string
  sensitive = true
}
variable "cores" {
  type      = number
  default   = 3
  sensitive = true
}
source "qemu" "base" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
  cpus         = var.cores
}
build {
  sources = ["source.qemu.base"]
  provisioner "shell" {
    environment_vars = ["UP=${upper(var.secret)}", "B64=${base64encode(var.secret)}"]
    inline           = ["echo the inline true value", "echo ${substr(var.secret, 1, 3)}"]
  }
  provisioner "shell" {
    inline = ["echo true inline e"]
  }
}
`

// TestSensitiveValuesAreMarked: whatever derives from a sensitive variable is
// masked in inspect's plan, found by cty marks rather than by comparing text,
// so functions of a secret are masked and a secret that is a common word
// masks nothing else.
func TestSensitiveValuesAreMarked(t *testing.T) {
	tests := []struct {
		secret string
		hidden []string // texts the shown plan must not contain
	}{
		{"hunter2pass", []string{"hunter2pass", "HUNTER2PASS", "aHVudGVyMnBhc3M=", "unt"}},
		{"e", nil},
		{"true", []string{"TRUE", "dHJ1ZQ=="}},
		{"inline", []string{"INLINE", "aW5saW5l"}},
	}
	for i, tt := range tests {
		// Subtests are numbered: their names end up in temporary paths.
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dir := writeRecipe(t, map[string]string{"r.pkr.hcl": sensitiveRecipe})
			p, diags := load(t, dir, []VarArg{{Value: "secret=" + tt.secret}})
			if diags != nil {
				t.Fatal(diags)
			}
			r, err := p.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.MarshalIndent(r, "", "  ")
			shown := string(b)
			for _, h := range tt.hidden {
				if strings.Contains(shown, h) {
					t.Errorf("the shown plan contains %q:\n%s", h, shown)
				}
			}
			// The secret number: masked in the plan, real for the builder.
			if r.Sources[0].CPUs != 0 || p.Sources[0].CPUs != 3 {
				t.Errorf("cpus shown %d, real %d; want 0 (masked) and 3", r.Sources[0].CPUs, p.Sources[0].CPUs)
			}
			if got := r.Sources[0].Sensitive; len(got) != 1 || got[0] != "cpus" {
				t.Errorf("source sensitive fields = %q, want [cpus]", got)
			}
			pr := r.Builds[0].Provisioners
			if got := pr[0].Shell.EnvironmentVars; len(got) != 2 || got[0] != Masked || got[1] != Masked {
				t.Errorf("environment_vars shown as %q", got)
			}
			if got := pr[0].Shell.Inline; len(got) != 2 || got[0] != Masked {
				t.Errorf("inline shown as %q", got)
			}
			// Nothing else changes, whatever the secret's text.
			if got := pr[1].Shell.Inline; len(got) != 1 || got[0] != "echo true inline e" {
				t.Errorf("a command without the secret is shown as %q", got)
			}
			if pr[1].Type != "shell" || r.Variables[0].Name != "cores" || r.Variables[1].Name != "secret" {
				t.Errorf("names changed: %s", shown)
			}
			// The builder gets the real values, and the derived strings to
			// mask in the build's output.
			if got := p.Builds[0].Provisioners[0].Shell.EnvironmentVars[0]; got != "UP="+strings.ToUpper(tt.secret) {
				t.Errorf("real environment_vars[0] = %q", got)
			}
			if !strings.Contains(strings.Join(p.SensitiveValues(), "\n"), "UP="+strings.ToUpper(tt.secret)) {
				t.Errorf("SensitiveValues lacks the derived value: %q", p.SensitiveValues())
			}
		})
	}
}

// TestSensitiveValuesInDiagnostics: no diagnostic shows a sensitive value,
// whether it came from -var, a var file or the environment, or was computed
// from one; the variable's name is still shown.
func TestSensitiveValuesInDiagnostics(t *testing.T) {
	const secret = "hunter2pass"
	recipe := `
variable "n" {
  type      = number
  sensitive = true
}
variable "s" {
  type      = string
  default   = "x"
  sensitive = true
}
source "qemu" "base" {
  iso_url          = "base.qcow2"
  iso_checksum     = "none"
  disk_image       = true
  ssh_username     = "debian"
  shutdown_timeout = upper(var.s)
  accelerator      = base64encode(var.s)
}
build {
  sources = ["source.qemu.base"]
  provisioner "shell" {
    inline = ["true"]
  }
}
`
	tests := []struct {
		name  string
		files map[string]string
		vars  []VarArg
		env   []string
	}{
		{name: "-var", vars: []VarArg{{Value: "n=" + secret}, {Value: "s=" + secret}}},
		{name: "var file", files: map[string]string{"v.auto.pkrvars.hcl": "n = \"" + secret + "\"\ns = \"" + secret + "\"\n"}},
		{name: "env", env: []string{EnvPrefix + "n=" + secret, EnvPrefix + "s=" + secret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"r.pkr.hcl": recipe}
			for k, v := range tt.files {
				files[k] = v
			}
			dir := writeRecipe(t, files)
			_, diags := load(t, dir, tt.vars, tt.env...)
			if !diags.HasErrors() {
				t.Fatal("no error for a number variable given a word")
			}
			text := diags.Error()
			b, _ := json.Marshal(diags)
			for _, h := range []string{secret, strings.ToUpper(secret), "aHVudGVyMnBhc3M="} {
				if strings.Contains(text, h) || strings.Contains(string(b), h) {
					t.Errorf("a diagnostic shows %q:\n%s", h, text)
				}
			}
			for _, want := range []string{"var.n", "shutdown_timeout", "accelerator"} {
				if !strings.Contains(text, want) {
					t.Errorf("the diagnostics do not name %s:\n%s", want, text)
				}
			}
		})
	}
}

// TestLoadStopsWhenCancelled: ^C (a cancelled context) ends a long recipe
// evaluation at once with the context's error, not with a plan.
func TestLoadStopsWhenCancelled(t *testing.T) {
	dir := writeRecipe(t, map[string]string{"r.pkr.hcl": minimal + chainedLocals(200000)})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	p, err := Load(ctx, Options{Path: dir})
	if !errors.Is(err, context.Canceled) || p != nil {
		t.Fatalf("Load after ^C = %v, %v; want context.Canceled", p != nil, err)
	}
	// The evaluation left running stops at its next step (parsing is not
	// interruptible); wait for it, so that it neither outlives the test nor
	// counts in another test's allocations.
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the evaluation still runs a minute after ^C (%d goroutines, %d before)", runtime.NumGoroutine(), before)
		}
	}
}

// TestMarksThroughLocalsAndTemplates: a secret that goes through locals,
// templatefile() and a conditional is still known to be one (and nothing
// panics on a marked value on the way).
func TestMarksThroughLocalsAndTemplates(t *testing.T) {
	dir := writeRecipe(t, map[string]string{
		"t.tpl": "token ${s}\n",
		"r.pkr.hcl": `
variable "secret" {
  type      = string
  sensitive = true
}
locals {
  rendered = templatefile("${path.root}/t.tpl", { s = var.secret })
  picked   = var.secret == "x" ? "short" : "long"
  plain    = "no secret here"
}
` + baseSource + `
build {
  sources = ["source.qemu.base"]
  provisioner "file" {
    content     = local.rendered
    destination = "/etc/token"
  }
  provisioner "shell" {
    inline = ["echo ${local.picked}", "echo ${local.plain}"]
  }
}
`})
	p, diags := load(t, dir, []VarArg{{Value: "secret=tok-9876543210"}})
	if diags != nil {
		t.Fatal(diags)
	}
	r, err := p.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	pr := r.Builds[0].Provisioners
	if got := *pr[0].File.Content; got != Masked {
		t.Errorf("templatefile of a secret shown as %q", got)
	}
	if got := pr[1].Shell.Inline; len(got) != 2 || got[0] != Masked || got[1] != Masked {
		t.Errorf("a list with a value chosen by a secret shown as %q", got)
	}
	if got := *p.Builds[0].Provisioners[0].File.Content; got != "token tok-9876543210\n" {
		t.Errorf("the builder's content = %q", got)
	}
}

// TestRecipeWorkIsLinear: evaluating N locals that chain, or a var file
// setting N undeclared variables, allocates in proportion to N (it used
// to be N^2: every local saw a fresh object of all locals, every
// diagnostic split its whole file again). Bytes allocated, not time: four
// times the input must cost well under sixteen times the bytes.
func TestRecipeWorkIsLinear(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files func(n int) map[string]string
	}{
		{"chained locals", func(n int) map[string]string {
			return map[string]string{"r.pkr.hcl": minimal + chainedLocals(n)}
		}},
		{"undeclared variables", func(n int) map[string]string {
			return map[string]string{"r.pkr.hcl": minimal, "v.auto.pkrvars.hcl": undeclaredVars(n)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost := func(n int) uint64 {
				dir := writeRecipe(t, tc.files(n))
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				if _, err := Load(context.Background(), Options{Path: dir}); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				return after.TotalAlloc - before.TotalAlloc
			}
			small, large := cost(2000), cost(8000)
			if ratio := float64(large) / float64(small); ratio > 8 {
				t.Errorf("4x the input allocated %.1fx the bytes (%d -> %d): quadratic", ratio, small, large)
			} else {
				t.Logf("4x the input: %.1fx the bytes", ratio)
			}
		})
	}
}

// TestMaskLine: a sensitive value in a snippet's line is replaced by
// Masked, and the carets still point at what the diagnostic points at:
// the mask itself, or text before or after it.
func TestMaskLine(t *testing.T) {
	//               0         1         2         3
	//               0123456789012345678901234567890123
	const line = `a = "hunter2pass", b = bad, c = 1`
	mask := []hcl2.Range{{Filename: "f", Start: hcl2.Pos{Line: 3, Column: 5}, End: hcl2.Pos{Line: 3, Column: 18}}}
	masked := `a = <sensitive>, b = bad, c = 1`
	for _, tc := range []struct {
		name             string
		start, end       int // byte offsets into line
		wantStart, wantE int // into masked
	}{
		{"the value itself", 4, 17, 4, 15},
		{"after it", 23, 26, 21, 24},
		{"before it", 0, 1, 0, 1},
		{"inside it", 8, 10, 4, 15},
		{"across it", 0, 26, 0, 24},
	} {
		got, s, e := maskLine(line, "f", 3, mask, tc.start, tc.end)
		if got != masked || s != tc.wantStart || e != tc.wantE {
			t.Errorf("%s: %q [%d,%d), want %q [%d,%d)", tc.name, got, s, e, masked, tc.wantStart, tc.wantE)
		}
	}
	if got, s, e := maskLine(line, "other", 3, mask, 23, 26); got != line || s != 23 || e != 26 {
		t.Errorf("another file's mask applied: %q [%d,%d)", got, s, e)
	}
}
