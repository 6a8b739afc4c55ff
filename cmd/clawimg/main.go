// Command clawimg bakes hardened OpenClaw golden images, stores and shares
// them, and launches disposable VMs from them. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Set by the Makefile with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() { os.Exit(clawimgMain()) }

// clawimgMain is main without the exit, so testscript can run it in-process.
func clawimgMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	return run(ctx, &env{
		args:    os.Args[1:],
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		environ: os.Environ(),
		workDir: wd,
	})
}
