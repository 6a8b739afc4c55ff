package main

import (
	"time"

	"github.com/spf13/cobra"
)

func launchCmd(e *env) *cobra.Command {
	var (
		name, driver, memory, disk, apiKeyFile, sshKey, cloudInit, accel string
		cpus                                                             int
		noWait, verify                                                   bool
		timeout                                                          time.Duration
	)
	c := &cobra.Command{
		Use:   "launch [IMAGE]",
		Short: "Start a disposable VM from an image (default openclaw:latest)",
		Long: `Start a fresh VM from a stored image and wait until it is ready: SSH up and,
for OpenClaw images, the gateway healthy. The API key comes from
--api-key-file or ANTHROPIC_API_KEY and is written into the VM only.`,
		Args: args(0, 1),
		RunE: notImplemented,
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "instance name, [a-z0-9-] (default: generated)")
	f.StringVar(&driver, "driver", "", "multipass or qemu (default: multipass when on PATH, else qemu)")
	f.IntVar(&cpus, "cpus", 2, "virtual CPUs")
	f.StringVar(&memory, "memory", "4G", "memory")
	f.StringVar(&disk, "disk", "20G", "disk size")
	f.StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key (default: $ANTHROPIC_API_KEY)")
	f.StringVar(&sshKey, "ssh-key", "", "public key allowed to SSH in (default: a per-instance key)")
	f.StringVar(&cloudInit, "cloud-init", "", "extra cloud-init user-data to merge in")
	f.StringVar(&accel, "accel", "auto", "accelerator for the qemu driver: auto, kvm, hvf or tcg")
	f.BoolVar(&noWait, "no-wait", false, "return as soon as the VM is started")
	f.BoolVar(&verify, "verify", false, "run the isolation probes of 'clawimg verify' once ready")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the instance to be ready")
	return c
}
