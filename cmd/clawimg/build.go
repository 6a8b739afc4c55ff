package main

import "github.com/spf13/cobra"

func buildCmd(e *env) *cobra.Command {
	var rf recipeFlags
	var (
		tag, onError, accel string
		force               bool
		caCerts             []string
	)
	c := &cobra.Command{
		Use:   "build [RECIPE]",
		Short: "Bake an image from a recipe in a QEMU VM and store it",
		Long: `Boot the recipe's base image in a QEMU VM, run its provisioners over SSH,
generalize the VM and store its disk as NAME:TAG. Unchanged recipe, variables,
files and base: prints "NAME:TAG is up to date" at once (--force rebuilds).`,
		Args: args(0, 1),
		RunE: notImplemented,
	}
	rf.register(c)
	f := c.Flags()
	f.StringVarP(&tag, "tag", "t", "", "image name and tag (default: the build's name, tag latest)")
	f.BoolVar(&force, "force", false, "rebuild even when the image is up to date")
	f.StringVar(&onError, "on-error", "cleanup", "on failure: cleanup (stop the VM, remove temp files) or abort (keep the VM running for SSH)")
	f.StringVar(&accel, "accel", "auto", "accelerator: auto, kvm, hvf or tcg")
	f.StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of CA certificates the build VM trusts (repeatable)")
	return c
}
