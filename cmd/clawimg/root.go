package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
)

// env is everything a command may touch of the outside world.
type env struct {
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	workDir        string
	log            *slog.Logger
	level          *slog.LevelVar // the log's: warnings, or debug with --debug
}

func (e *env) getenv(key string) string {
	for _, kv := range e.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// run executes one clawimg command line and returns the exit code:
// 0 success, 1 failure, 2 usage error or invalid recipe.
func run(ctx context.Context, e *env) int {
	e.level = new(slog.LevelVar)
	e.level.Set(slog.LevelWarn)
	if e.getenv("CLAWIMG_DEBUG") == "1" {
		e.level.Set(slog.LevelDebug)
	}
	e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: e.level}))
	root := newRoot(e)
	args, err := normalizeArgs(root, e.args)
	if err != nil {
		return report(e.stderr, err)
	}
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err = root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return report(e.stderr, err)
}

// report prints err the way the README's Usage says and picks the exit
// code.
func report(w io.Writer, err error) int {
	var code0 exitCode
	if errors.As(err, &code0) {
		return int(code0)
	}
	var diags hcl.Diagnostics
	var usage cli.UsageError
	code := 1
	switch {
	case errors.As(err, &diags):
		fmt.Fprintln(w, diags.Error())
		n := 0
		for _, d := range diags {
			if d.Error {
				n++
			}
		}
		fmt.Fprintf(w, "clawimg: error: invalid recipe: %d error(s)\n", n)
		return 2
	case errors.As(err, &usage), isCobraUsage(err), errors.Is(err, images.ErrInvalidReference), errors.Is(err, launcher.ErrInvalidName):
		code = 2
	}
	fmt.Fprintf(w, "clawimg: error: %s\n", cli.OneLine(err.Error()))
	for _, h := range append(cli.Hints(err), libraryHints(err)...) {
		fmt.Fprintf(w, "clawimg: hint: %s\n", h)
	}
	return code
}

// isCobraUsage recognizes the usage errors cobra makes itself.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "flag needs an argument") ||
		strings.HasPrefix(msg, "invalid argument")
}

// normalizeArgs applies the flag spelling rule (cli.NormalizeFlags) to the
// words after the command they name, with that command's own flags.
// Everything after exec's NAME belongs to the command it runs.
func normalizeArgs(root *cobra.Command, args []string) ([]string, error) {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return args, nil // cobra's completion: the words are being typed
	}
	cmd, i := root, 0
	for ; i < len(args); i++ {
		sub := subcommand(cmd, args[i])
		if sub == nil {
			break
		}
		cmd = sub
	}
	passThrough := 0
	if cmd.Name() == "exec" && cmd.Parent() == root {
		passThrough = 1
	}
	flag := func(f *pflag.Flag) cli.Flag {
		if f == nil {
			return cli.Flag{}
		}
		return cli.Flag{Known: true, TakesValue: f.NoOptDefVal == ""}
	}
	fs := cli.Flags{
		Long: func(n string) cli.Flag {
			if n == "help" || (n == "version" && cmd == root) {
				return cli.Flag{Known: true}
			}
			return flag(cmd.Flag(n)) // its own flags and those it inherits (--debug)
		},
		Short: func(c byte) cli.Flag {
			if c == 'h' {
				return cli.Flag{Known: true}
			}
			return flag(cmd.Flags().ShorthandLookup(string(c)))
		},
	}
	rest, err := cli.NormalizeFlags(args[i:], fs, passThrough)
	if err != nil {
		return nil, cli.WithHint(err, "see '%s --help'", cmd.CommandPath())
	}
	return append(append([]string{}, args[:i]...), rest...), nil
}

// subcommand is cmd's subcommand called name (or an alias), or nil.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "clawimg",
		Short: "Bake, store, share and launch hardened OpenClaw VM images",
		Long: `clawimg bakes a hardened golden VM image with OpenClaw installed from an HCL
recipe (like Packer), keeps it compressed in a local store, shares it through
an OCI registry, and launches disposable VMs from it in seconds.

Every long flag may be written -name or --name, before or after arguments.`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("clawimg {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.WithHint(cli.UsageError{Err: err}, "see '%s --help'", c.CommandPath())
	})
	debug := root.PersistentFlags().Bool("debug", false, "log every command clawimg runs (qemu, qemu-img, multipass, ssh) and store lock waits to stderr (also CLAWIMG_DEBUG=1)")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if *debug && e.level != nil {
			e.level.Set(slog.LevelDebug)
		}
	}
	root.AddGroup(
		&cobra.Group{ID: "recipe", Title: "Recipes:"},
		&cobra.Group{ID: "build", Title: "Building:"},
		&cobra.Group{ID: "images", Title: "Images:"},
		&cobra.Group{ID: "instances", Title: "Instances:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("recipe", initCmd(e), validateCmd(e), fmtCmd(e), inspectCmd(e))
	add("build", buildCmd(e))
	add("images", imagesCmd(e), imageCmd(e), tagCmd(e), rmiCmd(e), pruneCmd(e),
		importCmd(e), exportCmd(e), pushCmd(e), pullCmd(e), loginCmd(e), logoutCmd(e))
	add("instances", warmCmd(e), launchCmd(e), listCmd(e), shellCmd(e), execCmd(e), cpCmd(e), sshConfigCmd(e),
		tunnelCmd(e), stopCmd(e), startCmd(e), deleteCmd(e), verifyCmd(e), secretCmd(e), doctorCmd(e))
	root.AddCommand(versionCmd(e), guestfwdCmd(e))
	addCompletions(e, root)
	return root
}

// args checks the number of positional arguments, as a usage error.
func args(min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if len(a) >= min && (max < 0 || len(a) <= max) {
			return nil
		}
		var want string
		switch {
		case min == max:
			want = fmt.Sprintf("exactly %d", min)
		case max < 0:
			want = fmt.Sprintf("at least %d", min)
		default:
			want = fmt.Sprintf("%d to %d", min, max)
		}
		return cli.WithHint(cli.Usagef("%s takes %s argument(s), got %d", c.CommandPath(), want, len(a)),
			"usage: %s", c.UseLine())
	}
}

// libraryHints says what to do about the errors the libraries name without
// speaking CLI (they know no flags or commands).
func libraryHints(err error) []string {
	switch {
	case errors.Is(err, images.ErrPlainHTTP):
		return []string{"use --insecure to allow plain HTTP to this registry"}
	case errors.Is(err, images.ErrCredentialsRefused):
		return []string{"run 'clawimg login REGISTRY', or check the user name and password"}
	case errors.Is(err, launcher.ErrNotPublicKey):
		return []string{"--ssh-key takes a public key file, such as ~/.ssh/id_ed25519.pub"}
	case errors.Is(err, launcher.ErrNoBroker):
		return []string{"launch with --driver qemu to keep the key on the host and the egress to an allowlist"}
	case errors.Is(err, launcher.ErrKeyInVM):
		return []string{"the key is in the VM's ~openclaw/.openclaw/.env: replace it there, or launch with --driver qemu"}
	case errors.Is(err, launcher.ErrGatewayDidNotStart):
		return []string{"on a host too slow for the gateway's start-up deadline (emulation), --ready ssh saves the VM once it is booted"}
	}
	return nil
}
