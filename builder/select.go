package builder

import (
	"fmt"
	"path"
	"strings"

	"github.com/clawimg/clawimg/hcl"
)

// selection is the one build and qemu source a run builds, and the
// sources of other builders it skips (said, never silent).
type selection struct {
	build   *hcl.Build
	source  string   // "source.qemu.NAME"
	skipped []string // "source.TYPE.NAME" of builders clawimg does not have
}

// selectBuild picks what to build as Packer's -only and -except do: a
// pattern (with * and ? globs) matches a source as TYPE.NAME or as
// BUILD.TYPE.NAME. clawimg builds one qemu source per run.
func selectBuild(p *hcl.Plan, build string, only, except []string) (selection, error) {
	var picked []selection
	var skipped, all []string
	for i := range p.Builds {
		b := &p.Builds[i]
		if build != "" && b.Name != build {
			continue
		}
		for _, s := range b.Sources {
			typ, name := splitSource(s)
			all = append(all, b.Name+"."+typ+"."+name)
			if !chosen(b.Name, typ, name, only, except) {
				continue
			}
			if typ != "qemu" {
				skipped = append(skipped, s)
				continue
			}
			picked = append(picked, selection{build: b, source: s})
		}
	}
	switch {
	case len(p.Builds) == 0:
		return selection{}, fmt.Errorf("the recipe has no build block")
	case build != "" && len(all) == 0:
		return selection{}, fmt.Errorf("the recipe has no build named %q", build)
	case len(picked) == 0 && (len(only) > 0 || len(except) > 0):
		return selection{}, fmt.Errorf("-only/-except select no qemu source (the recipe's: %s)", strings.Join(all, ", "))
	case len(picked) == 0:
		return selection{}, fmt.Errorf("the recipe has no qemu source to build (the others are skipped: %s)", strings.Join(skipped, ", "))
	case len(picked) > 1:
		var names []string
		for _, s := range picked {
			typ, name := splitSource(s.source)
			names = append(names, s.build.Name+"."+typ+"."+name)
		}
		return selection{}, fmt.Errorf("clawimg builds one qemu source at a time and the recipe has %d (%s): choose one with -only=BUILD.qemu.NAME",
			len(picked), strings.Join(names, ", "))
	}
	picked[0].skipped = skipped
	return picked[0], nil
}

// splitSource splits "source.TYPE.NAME".
func splitSource(ref string) (typ, name string) {
	rest := strings.TrimPrefix(ref, "source.")
	typ, name, _ = strings.Cut(rest, ".")
	return typ, name
}

func chosen(build, typ, name string, only, except []string) bool {
	match := func(patterns []string) bool {
		for _, p := range patterns {
			for _, n := range []string{typ + "." + name, build + "." + typ + "." + name} {
				if ok, _ := path.Match(p, n); ok {
					return true
				}
			}
		}
		return false
	}
	return (len(only) == 0 || match(only)) && !match(except)
}
