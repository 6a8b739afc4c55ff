package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/builder"
	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
)

func buildCmd(e *env) *cobra.Command {
	var rf recipeFlags
	var (
		tag, onError, accel string
		force, quiet, warm  bool
		asJSON              bool
		only, except        []string
		caCerts             []string
		wf                  warmFlags
	)
	c := &cobra.Command{
		Use:     "build [RECIPE]",
		Example: "  clawimg build\n  clawimg build ./my-recipe -t agent:1 -var openclaw_version=2026.9.6\n  clawimg build --warm",
		Short:   "Bake an image from a recipe in a QEMU VM and store it",
		Long: `Boot the recipe's base image in a QEMU VM, run its provisioners over SSH,
generalize the VM and store its disk as NAME:TAG. Unchanged recipe, variables,
files and base: prints "NAME:TAG is up to date" at once (--force rebuilds).`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if onError != "cleanup" && onError != "abort" {
				return cli.Usagef("--on-error must be cleanup or abort, not %q", onError)
			}
			var warmOpts *launcher.WarmOptions
			if warm { // checked before a build, not after it
				o, err := wf.options("")
				if err != nil {
					return err
				}
				warmOpts = &o
			}
			plan, err := hcl.Load(c.Context(), rf.options(e, a))
			if err != nil {
				return err
			}
			for _, w := range plan.Warnings {
				fmt.Fprintln(e.stderr, w.String())
			}
			st, err := e.store()
			if err != nil {
				return err
			}
			cacheV, err := cacheVersion(versionString(), os.Executable)
			if err != nil {
				return err
			}
			events, done := e.buildEvents(quiet)
			res, err := builder.Build(c.Context(), builder.Options{
				Plan: plan, Tag: tag, Force: force, OnError: onError, Accel: accel, Only: only, Except: except,
				CACerts: caCerts, SSHAgentSocket: e.getenv("SSH_AUTH_SOCK"), CacheDir: e.cacheDir(), WorkDir: filepath.Join(e.home(), "builds"),
				Store: st, Version: cacheV, Log: e.log, Events: events, Output: e.stderr,
			})
			done()
			if err != nil {
				return buildError(e, err)
			}
			return e.reportBuild(c, res, warmOpts, accel, quiet, asJSON)
		},
	}
	rf.register(c)
	f := c.Flags()
	f.StringVarP(&tag, "tag", "t", "", "image name and tag (default: the build's name, tag latest)")
	f.BoolVar(&force, "force", false, "rebuild even when the image is up to date")
	f.StringSliceVar(&only, "only", nil, "build only these sources, as Packer: TYPE.NAME or BUILD.TYPE.NAME, globs allowed (comma-separated)")
	f.StringSliceVar(&except, "except", nil, "build all but these sources (same patterns as --only)")
	f.StringVar(&onError, "on-error", "cleanup", "on failure: cleanup (stop the VM, remove temp files) or abort (keep the VM running for SSH)")
	f.StringVar(&accel, "accel", "auto", "accelerator: auto, kvm, hvf or tcg")
	f.StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of CA certificates the build VM trusts (repeatable)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print the digest only; no progress")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON: image {name, tag, digest, size, virtual_size, ...}, up_to_date, seconds, accel (and warm, with --warm)")
	f.BoolVar(&warm, "warm", false, "then save a running, ready VM of the image (as 'clawimg warm')")
	wf.register(c, "warm-")
	return c
}

// reportBuild renders a build's outcome and, when warm is not nil, warms
// the image it made.
func (e *env) reportBuild(c *cobra.Command, res *builder.Result, warm *launcher.WarmOptions, accel string, quiet, asJSON bool) error {
	img := res.Image
	if warm != nil {
		warm.Image = img.Digest
	}
	if asJSON {
		out := buildResult{Image: *img, UpToDate: res.UpToDate, Seconds: seconds(res.Duration), Accel: res.Accel}
		if warm != nil {
			w, err := e.runWarm(c, accel, *warm, quiet)
			if err != nil {
				return err
			}
			out.Warm = newWarmResult(w)
		}
		return writeJSON(e, out)
	}
	switch {
	case quiet:
		fmt.Fprintln(e.stdout, img.Digest)
	case res.UpToDate:
		fmt.Fprintf(e.stdout, "%s is up to date (%s)\n", img.Ref(), img.Digest)
	default:
		fmt.Fprintf(e.stdout, "%s %s (%s stored, %s virtual) built in %s with %s\n", img.Ref(), img.Digest,
			images.HumanBytes(img.Size), images.HumanBytes(img.VirtualSize), res.Duration.Round(1e9), res.Accel)
	}
	if warm != nil {
		return e.warm(c, accel, *warm, quiet, false)
	}
	return nil
}

// buildError adds what helps next to a build failure: the console's last
// lines, or how to reach the VM that --on-error=abort left running.
func buildError(e *env, err error) error {
	var ce *builder.ConsoleError
	if errors.As(err, &ce) && ce.Tail != "" {
		fmt.Fprintf(e.stderr, "clawimg: last lines of the VM console:\n%s\n", ce.Tail)
	}
	var ab *builder.AbortedError
	if errors.As(err, &ab) {
		return cli.WithHint(cli.WithHint(err, "stop it with: kill %d", ab.PID), "the build VM is still running: %s", ab.SSHCommand)
	}
	if errors.Is(err, builder.ErrOutputExists) {
		return cli.WithHint(err, "remove it, or build with --force to replace the file in it (as Packer's -force)")
	}
	return err
}
