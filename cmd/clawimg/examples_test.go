package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// TestExamplesValidate keeps examples/ working and formatted: each is a
// valid recipe that clawimg fmt leaves as it is.
func TestExamplesValidate(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) < 2 {
		t.Fatalf("examples: %v", dirs)
	}
	for _, dir := range dirs {
		for _, args := range [][]string{
			{"validate", dir},
			{"fmt", "-check", dir},
		} {
			var out, errb bytes.Buffer
			e := &env{args: args, stdin: &bytes.Buffer{}, stdout: &out, stderr: &errb,
				environ: []string{"CLAWIMG_HOME=" + t.TempDir(), "CLAWIMG_VAR_base=/nonexistent/openclaw.qcow2"}, workDir: "."}
			if code := run(context.Background(), e); code != 0 {
				t.Errorf("clawimg %v: exit %d\n%s%s", args, code, out.String(), errb.String())
			}
		}
	}
}
