package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"clawimg": func() { os.Exit(clawimgMain()) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: exit codes, stdout,
// stderr, and the files the commands leave behind.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			// A command must not depend on the developer's own settings.
			e.Setenv("HOME", e.WorkDir+"/userhome")
			e.Setenv("XDG_DATA_HOME", "")
			e.Setenv("XDG_CACHE_HOME", "")
			return nil
		},
	})
}
