package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
)

func inspectCmd(e *env) *cobra.Command {
	var rf recipeFlags
	var asJSON bool
	c := &cobra.Command{
		Use:     "inspect [RECIPE]",
		Example: "  clawimg inspect\n  clawimg inspect ./my-recipe -var openclaw_version=2026.9.6 --json",
		Short:   "Show a recipe's variables (resolved, with their source), sources and provisioners",
		Long: `Show what a recipe will do: each variable with its resolved value and where
the value came from (default, env, file, -var-file, -var), each source, and
each build's provisioners and post-processors. Sensitive values are shown as
<sensitive>, wherever they were interpolated.`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			plan, err := hcl.Load(c.Context(), rf.options(e, a))
			if err != nil {
				return err
			}
			shown, err := plan.Redacted()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(shown)
			}
			writePlan(e.stdout, shown)
			return nil
		},
	}
	rf.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// writePlan renders an already redacted plan for people.
func writePlan(w io.Writer, p *hcl.Plan) {
	fmt.Fprintf(w, "Recipe: %s\n\nVariables:\n", strings.Join(p.Files, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range p.Variables {
		fmt.Fprintf(tw, "  var.%s\t%s\t%s\t%s\n", v.Name, v.Type, string(v.Value), v.Source)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nSources:")
	for _, s := range p.Sources {
		fmt.Fprintf(w, "  source.qemu.%s\n", s.Name)
		fmt.Fprintf(w, "    base:    %s (checksum %s)\n", s.Places(), s.ISOChecksum)
		shown := func(field, value string) string {
			if slices.Contains(s.Sensitive, field) {
				return hcl.Masked
			}
			return value
		}
		fmt.Fprintf(w, "    machine: %s, %s CPUs, %s MiB, disk %s, accelerator %s\n", s.Arch,
			shown("cpus", strconv.Itoa(s.CPUs)), shown("memory", strconv.Itoa(s.Memory)),
			shown("disk_size", images.HumanBytes(s.DiskSize)), s.Accelerator)
		auth := ""
		if s.SSHPasswordSet {
			auth = ", a password after the key"
		}
		fmt.Fprintf(w, "    ssh:     %s (timeout %s%s)\n", s.SSHUsername, s.SSHTimeout, auth)
	}
	fmt.Fprintln(w, "\nBuilds:")
	for _, b := range p.Builds {
		fmt.Fprintf(w, "  %s: %s\n", b.Name, strings.Join(b.Sources, ", "))
		for i, pr := range b.Provisioners {
			fmt.Fprintf(w, "    %d. provisioner %s: %s\n", i+1, pr.Type, describeProvisioner(pr))
		}
		for i, pp := range b.PostProcessors {
			fmt.Fprintf(w, "    %d. post-processor %s\n", i+1, pp.Type)
		}
	}
}

func describeProvisioner(p hcl.Provisioner) string {
	switch {
	case p.Shell != nil && len(p.Shell.Inline) > 0:
		return fmt.Sprintf("%d inline command(s)", len(p.Shell.Inline))
	case p.Shell != nil:
		var names []string
		for _, s := range p.Shell.Scripts {
			names = append(names, s.Path)
		}
		return strings.Join(names, ", ")
	case p.File != nil && p.File.Content != nil:
		return fmt.Sprintf("content -> %s", p.File.Destination)
	case p.File != nil && p.File.Source != nil:
		return fmt.Sprintf("%s %s -> %s", p.File.Direction, p.File.Source.Path, p.File.Destination)
	case p.Local != nil && len(p.Local.Inline) > 0:
		return fmt.Sprintf("%d inline command(s) on the host", len(p.Local.Inline))
	case p.Local != nil:
		var names []string
		for _, s := range p.Local.Scripts {
			names = append(names, s.Path)
		}
		return strings.Join(names, ", ") + " on the host"
	}
	return ""
}
