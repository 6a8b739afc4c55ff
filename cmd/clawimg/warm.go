package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
)

// warmFlags are the machine options of warm and build --warm: a launch
// restores the state only when it asks for the same machine.
type warmFlags struct {
	prefix              string // of the flags' names: "" for warm, "warm-" for build
	cpus                int
	memory, disk, ready string
}

func (w *warmFlags) register(c *cobra.Command, prefix string) {
	w.prefix = prefix
	f := c.Flags()
	f.IntVar(&w.cpus, prefix+"cpus", 2, "virtual CPUs of the warm VM (launches with the same restore it)")
	f.StringVar(&w.memory, prefix+"memory", "4G", "memory of the warm VM (launches with the same restore it)")
	f.StringVar(&w.disk, prefix+"disk", "20G", "disk size of the warm VM (launches with the same restore it)")
	f.StringVar(&w.ready, prefix+"ready", launcher.ReadyGateway, "what the VM must reach before it is saved: gateway (instances start with it running), or ssh (booted and cloud-init done; instances start the gateway themselves, for hosts too slow for its start-up deadline)")
}

func (w *warmFlags) options(image string) (launcher.WarmOptions, error) {
	mem, disk, err := machineSize("--"+w.prefix+"memory", w.memory, "--"+w.prefix+"disk", w.disk)
	if err != nil {
		return launcher.WarmOptions{}, err
	}
	if err := launcher.CheckReady(w.ready); err != nil {
		return launcher.WarmOptions{}, cli.UsageError{Err: fmt.Errorf("--%sready %w", w.prefix, err)}
	}
	return launcher.WarmOptions{Image: image, CPUs: w.cpus, MemoryMiB: mem, DiskBytes: disk, Ready: w.ready}, nil
}

// warm runs Manager.Warm with the CLI's progress and prints the result
// (as text; as JSON when asJSON).
func (e *env) warm(c *cobra.Command, accel string, o launcher.WarmOptions, quiet, asJSON bool) error {
	res, err := e.runWarm(c, accel, o, quiet)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e, newWarmResult(res))
	}
	printWarmed(e, res, quiet)
	return nil
}

// runWarm is Manager.Warm with the CLI's progress.
func (e *env) runWarm(c *cobra.Command, accel string, o launcher.WarmOptions, quiet bool) (*launcher.Warmed, error) {
	m, err := e.manager(accel)
	if err != nil {
		return nil, err
	}
	var done func()
	o.Progress, o.Bytes, done = e.steps("warm: ", quiet)
	res, err := m.Warm(c.Context(), o)
	done()
	return res, err
}

func printWarmed(e *env, res *launcher.Warmed, quiet bool) {
	if quiet {
		fmt.Fprintln(e.stdout, res.State.Digest)
		return
	}
	starts := ""
	if res.Attempts > 0 {
		starts = fmt.Sprintf(", gateway ready at start %d", res.Attempts)
	}
	if res.Rehearsed > 0 {
		starts += fmt.Sprintf(", took a token in %s", res.Rehearsed.Round(100*time.Millisecond))
	}
	switch {
	case res.Busy:
		starts += fmt.Sprintf(", still busy when saved (waited %s for it to settle)", res.Settled.Round(time.Second))
	case res.Settled > 0:
		starts += fmt.Sprintf(", settled %s later", res.Settled.Round(time.Second))
	}
	fmt.Fprintf(e.stdout, "Warmed %s: state %s (%s stored, %d MiB memory, %d cpus, %s) in %s; ready (%s) %s after boot%s\n",
		res.Image, images.ShortDigest(res.State.Digest), images.HumanBytes(res.State.Size), res.Machine.MemoryMiB,
		res.Machine.CPUs, res.Machine.Accel, res.Took.Round(time.Second), res.Ready, res.ReadyAfter.Round(time.Second), starts)
	fmt.Fprintf(e.stdout, "Throwaway identity (renewed in every instance): machine-id %s, host key %s\n",
		res.Throwaway.MachineID, res.Throwaway.HostKey)
}

func warmCmd(e *env) *cobra.Command {
	var (
		wf      warmFlags
		accel   string
		timeout time.Duration
		starts  int
		quiet   bool
		asJSON  bool
	)
	c := &cobra.Command{
		Use:     "warm [IMAGE]",
		Example: "  clawimg warm\n  clawimg warm openclaw:latest --memory 4G --cpus 2",
		Short:   "Save a running, ready VM of an image, so launches restore it in seconds",
		Long: `Boot the image once with a throwaway identity, wait until it is ready (SSH,
cloud-init and, for OpenClaw images, the gateway healthy) and save the running
VM (device state, memory, disk delta) into the store as a warm state of the
image. 'clawimg launch' then restores it instead of booting, when it asks for
the same machine (memory, cpus, disk, accelerator, QEMU). A warm state holds no
secret: no API key, and no token or key any instance uses.

On a host too slow for the gateway's own start-up deadline (under emulation,
OpenClaw's 5 s limit for its state-lease worker), --ready ssh saves the VM once
booted: instances skip the boot and start the gateway themselves.`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			image := ""
			if len(a) > 0 {
				image = a[0]
			}
			o, err := wf.options(image)
			if err != nil {
				return err
			}
			o.Timeout, o.Starts = timeout, starts
			return e.warm(c, accel, o, quiet, asJSON)
		},
	}
	wf.register(c, "")
	f := c.Flags()
	f.StringVar(&accel, "accel", "auto", "accelerator: auto, kvm, hvf or tcg")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the VM to be ready, per gateway start")
	f.IntVar(&starts, "starts", launcher.DefaultWarmStarts, "gateway starts to try before giving up")
	f.BoolVarP(&quiet, "quiet", "q", false, "print the state's digest only")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON: image, digest (the state's), size, memory_mib, cpus, accel, ready, seconds, ready_after_seconds")
	return c
}
