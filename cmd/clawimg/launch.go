package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
)

// launchFlags are launch's flags that need reading or parsing before the
// launcher sees them.
type launchFlags struct {
	apiKeyFile, cloudInit, accel string
	memory, disk, sshKey         string
	caCerts                      []string
	verify, quiet, asJSON        bool
}

func launchCmd(e *env) *cobra.Command {
	var (
		o  launcher.LaunchOptions
		lf launchFlags
	)
	c := &cobra.Command{
		Use:   "launch [IMAGE]",
		Short: "Start a disposable VM from an image (default openclaw:latest)",
		Long: `Start a fresh VM from a stored image and wait until it is ready: SSH up,
cloud-init done and, for OpenClaw images, the gateway healthy. With the qemu
driver, a warm state of the image made by 'clawimg warm' for the same machine
is restored instead of booting (seconds instead of minutes); --cold boots. The API key
comes from --api-key-file or ANTHROPIC_API_KEY. With the qemu driver it stays
on the host: the instance's broker adds it to the model provider's requests,
and the instance reaches only the hosts on its allowlist (--egress, --allow).
With multipass it goes into the VM, as the openclaw user's ~/.openclaw/.env.`,
		Example: `  clawimg launch --name agent1
  clawimg launch --name agent2 --allow github.com --allow api.github.com
  clawimg launch --driver qemu --provider-url https://llm-gateway.corp.example --ca-cert corp-ca.pem`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if len(a) > 0 {
				o.Image = a[0]
			}
			if err := lf.apply(e, &o); err != nil {
				return err
			}
			m, err := e.manager(lf.accel)
			if err != nil {
				return err
			}
			var done func()
			o.Progress, o.Bytes, done = e.steps("", lf.quiet)
			res, err := m.Launch(c.Context(), o)
			done()
			if err != nil {
				return launchError(e, err)
			}
			return lf.report(e, c, m, res)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Name, "name", "", "instance name, [a-z0-9-] (default: generated)")
	f.StringVar(&o.Driver, "driver", "", "multipass or qemu (default: multipass when on PATH, else qemu)")
	f.IntVar(&o.CPUs, "cpus", 2, "virtual CPUs")
	f.StringVar(&lf.memory, "memory", "4G", "memory")
	f.StringVar(&lf.disk, "disk", "20G", "disk size")
	f.StringVar(&lf.apiKeyFile, "api-key-file", "", "file holding the API key (default: $ANTHROPIC_API_KEY)")
	f.StringVar(&o.Egress, "egress", "", "qemu driver: proxy (allowlisted hosts only; the default), none (the model broker only) or open (plain NAT)")
	f.StringArrayVar(&o.Allow, "allow", nil, "qemu driver: HOST[:PORT] the instance may reach through the proxy (port 443 by default; repeatable)")
	f.StringVar(&o.ProviderURL, "provider-url", "", "qemu driver: the Anthropic-compatible upstream the broker forwards to (default https://api.anthropic.com)")
	f.StringArrayVar(&lf.caCerts, "ca-cert", nil, "qemu driver: PEM file of CA certificates the broker trusts for the upstream (repeatable)")
	f.StringVar(&lf.sshKey, "ssh-key", "", "public key file allowed to SSH in (besides clawimg's per-instance key)")
	f.StringVar(&lf.cloudInit, "cloud-init", "", "extra cloud-init user-data (cloud-config) to merge in")
	f.StringVar(&lf.accel, "accel", "auto", "accelerator for the qemu driver: auto, kvm, hvf or tcg")
	f.BoolVar(&o.NoWait, "no-wait", false, "return as soon as the VM is started")
	f.BoolVar(&o.Cold, "cold", false, "boot the image even when a warm state of it fits")
	f.BoolVar(&lf.verify, "verify", false, "run the isolation probes of 'clawimg verify' once ready")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long to wait for the instance to be ready")
	f.BoolVarP(&lf.quiet, "quiet", "q", false, "print the instance name only")
	f.BoolVar(&lf.asJSON, "json", false, "print the result as JSON: name, image, digest, driver, start, ssh, ready, not_ready, started_seconds, ready_seconds, ...")
	return c
}

// apply reads and parses what the flags name into o: the API key, the
// machine's size, the SSH key and the extra user-data, and the progress.
func (lf *launchFlags) apply(e *env, o *launcher.LaunchOptions) error {
	if o.Driver == "" {
		o.Driver = e.defaultDriver()
	}
	key, err := apiKey(e, lf.apiKeyFile)
	if err != nil {
		return err
	}
	o.APIKey = key
	if o.MemoryMiB, o.DiskBytes, err = machineSize("--memory", lf.memory, "--disk", lf.disk); err != nil {
		return err
	}
	if err := checkEgressFlags(o, lf.caCerts); err != nil {
		return err
	}
	for _, f := range lf.caCerts {
		pem, err := readCACert(f)
		if err != nil {
			return err
		}
		o.CACert = append(o.CACert, pem...)
	}
	if lf.sshKey != "" {
		b, err := os.ReadFile(lf.sshKey)
		if err != nil {
			return fmt.Errorf("--ssh-key: %w", err)
		}
		o.SSHKey = string(b)
	}
	if lf.cloudInit != "" {
		if o.CloudInit, err = os.ReadFile(lf.cloudInit); err != nil {
			return fmt.Errorf("--cloud-init: %w", err)
		}
	}
	return nil
}

// report renders a launch's outcome (and runs the probes with --verify).
// Started but not ready is a failure a script can tell by the exit status;
// the instance is left to look into.
func (lf *launchFlags) report(e *env, c *cobra.Command, m *launcher.Manager, res *launcher.Launched) error {
	var verr error
	switch {
	case lf.asJSON:
		// One JSON document, the probes' results inside it.
		out := newLaunchResult(res)
		if lf.verify {
			if out.Verify, verr = m.Verify(c.Context(), res.Name); verr == nil {
				verr = verifyFailed(out.Verify)
			}
		}
		if err := writeJSON(e, out); err != nil {
			return err
		}
	case lf.quiet:
		fmt.Fprintln(e.stdout, res.Name)
	default:
		printLaunched(e, res)
	}
	if lf.verify && !lf.asJSON {
		verr = runVerify(e, c, res.Name, false)
	}
	if res.NotReady != "" {
		return cli.WithHint(fmt.Errorf("%s is not ready: %s", res.Name, res.NotReady),
			"it is left running to look into: 'clawimg shell %[1]s', 'clawimg verify %[1]s'; 'clawimg delete %[1]s' removes it", res.Name)
	}
	return verr
}

// printLaunched renders a launch's outcome for people.
func printLaunched(e *env, res *launcher.Launched) {
	fmt.Fprintf(e.stdout, "Launched %s from %s (%s driver, %s)\n", res.Name, res.Image, res.Driver, res.Start)
	if !res.HasKey {
		fmt.Fprintf(e.stderr, "clawimg: note: no API key was given: the agent cannot reach its model until it has one (--api-key-file FILE or ANTHROPIC_API_KEY at launch")
		if res.Egress != "" {
			fmt.Fprintf(e.stderr, ", or later: clawimg secret set %s --api-key-file FILE", res.Name)
		}
		fmt.Fprintln(e.stderr, ")")
	}
	if res.KeyInVM {
		fmt.Fprintf(e.stderr, "clawimg: note: the %s driver has no key broker: the API key is inside the VM (~openclaw/.openclaw/.env)\n", res.Driver)
	}
	if res.ColdReason != "" {
		fmt.Fprintf(e.stderr, "clawimg: cold boot: %s\n", res.ColdReason)
	}
	switch {
	case res.NotReady != "":
		fmt.Fprintf(e.stdout, "Not ready after %s: %s\n", res.Ready.Round(100*time.Millisecond), res.NotReady)
	case res.Ready > 0 && res.Start == launcher.StartWarm:
		fmt.Fprintf(e.stdout, "Ready in %s (restore %s, identity %s", res.Ready.Round(100*time.Millisecond),
			res.Restored.Round(100*time.Millisecond), res.Renewed.Round(100*time.Millisecond))
		if res.Token > 0 {
			fmt.Fprintf(e.stdout, " of which the gateway taking its token %s", res.Token.Round(100*time.Millisecond))
		}
		fmt.Fprintln(e.stdout, ")")
	case res.Ready > 0:
		fmt.Fprintf(e.stdout, "Ready in %s\n", res.Ready.Round(100*time.Millisecond))
	default:
		fmt.Fprintf(e.stdout, "Started in %s (not waiting for it to be ready)\n", res.Started.Round(10*time.Millisecond))
	}
	fmt.Fprintf(e.stdout, "Connect: clawimg shell %s\n     or: %s\n", res.Name, res.SSH)
	if res.Gateway {
		fmt.Fprintf(e.stdout, "Gateway: clawimg tunnel %s (then open the URL it prints)\n", res.Name)
	}
}

// apiKey reads the key from a file, else from ANTHROPIC_API_KEY. It is
// never taken from a flag value: arguments are visible to every user.
func apiKey(e *env, file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(e.getenv("ANTHROPIC_API_KEY")), nil
	}
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("--api-key-file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" || strings.ContainsAny(key, "\n\r") {
		return "", fmt.Errorf("--api-key-file %s must hold the key on one line", file)
	}
	return key, nil
}

func launchError(e *env, err error) error {
	var nr *launcher.NotReadyError
	if errors.As(err, &nr) && nr.Console != "" {
		fmt.Fprintf(e.stderr, "clawimg: last lines of the VM console:\n%s\n", nr.Console)
	}
	switch {
	case errors.Is(err, launcher.ErrInvalidName):
		return cli.UsageError{Err: err}
	case errors.Is(err, images.ErrNotFound):
		return cli.WithHint(err, "build it with 'clawimg build' (the built-in recipe makes openclaw:latest), or pull it with 'clawimg pull REF'; 'clawimg images' lists what is stored")
	case errors.Is(err, launcher.ErrNameTaken):
		return cli.WithHint(err, "choose another --name, or delete the instance first")
	}
	return err
}

// machineSize parses a memory size (a bare number is MiB) and a disk size
// (GiB), naming the flags they came from.
func machineSize(memFlag, memory, diskFlag, disk string) (int, int64, error) {
	mem, err := hcl.ParseSize(memory, 1<<20)
	if err != nil {
		return 0, 0, cli.UsageError{Err: fmt.Errorf("%s: %w", memFlag, err)}
	}
	d, err := hcl.ParseSize(disk, 1<<30)
	if err != nil {
		return 0, 0, cli.UsageError{Err: fmt.Errorf("%s: %w", diskFlag, err)}
	}
	return int(mem >> 20), d, nil
}
