package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// addCompletions wires shell completion into every command: the fixed
// values of the flags that have them, and stored image or instance
// names for the arguments that take them, read from each command's Use
// line (IMAGE and SRC are images, NAME instances), so a new command gets
// them by naming its arguments as the others do.
func addCompletions(e *env, c *cobra.Command) {
	flagValues := map[string][]string{
		"driver":     {"multipass", "qemu"},
		"accel":      {"auto", "kvm", "hvf", "tcg"},
		"egress":     {"proxy", "none", "open"},
		"ready":      {"gateway", "ssh"},
		"warm-ready": {"gateway", "ssh"},
		"on-error":   {"cleanup", "abort"},
	}
	for name, vals := range flagValues {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	if c.ValidArgsFunction == nil && c.Runnable() {
		c.ValidArgsFunction = func(c *cobra.Command, typed []string, _ string) ([]string, cobra.ShellCompDirective) {
			switch argKind(c.Use, len(typed)) {
			case "IMAGE", "SRC":
				return e.imageNames(), cobra.ShellCompDirectiveNoFileComp
			case "NAME":
				return e.instanceNames(c), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveDefault
		}
	}
	for _, sub := range c.Commands() {
		addCompletions(e, sub)
	}
}

// argKind is the placeholder of the i-th argument in a Use line ("rmi
// IMAGE..." → IMAGE for every i; "tag SRC DST" → DST for i = 1).
func argKind(use string, i int) string {
	var words []string
	for _, w := range strings.Fields(use)[1:] {
		if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "[-") {
			words = append(words, w)
		}
	}
	for j, w := range words {
		w, _, _ = strings.Cut(w, "|") // NAME...|--all
		repeated := strings.Contains(w, "...")
		if j == i || (repeated && j < i) {
			return strings.Trim(w, "[].")
		}
	}
	return ""
}

func (e *env) imageNames() []string {
	st, err := e.store()
	if err != nil {
		return nil
	}
	imgs, err := st.List()
	if err != nil {
		return nil
	}
	var names []string
	for _, img := range imgs {
		if img.Name != "" {
			names = append(names, img.Ref())
		}
	}
	return names
}

func (e *env) instanceNames(c *cobra.Command) []string {
	m, err := e.manager("")
	if err != nil {
		return nil
	}
	list, err := m.List(c.Context())
	if err != nil {
		return nil
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	return names
}
