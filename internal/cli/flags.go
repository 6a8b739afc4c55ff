package cli

import (
	"fmt"
	"strings"
)

// Flag describes one flag of a command, for NormalizeFlags.
type Flag struct {
	Known      bool
	TakesValue bool // the next word is its value, unless written name=value
}

// Flags looks up a command's flags by long name and by one-letter alias.
type Flags struct {
	Long  func(name string) Flag
	Short func(letter byte) Flag
}

// NormalizeFlags applies clawimg's spelling rule to the words after a
// command's name (README, "Usage"):
//   - "-name" and "-name=v" mean "--name" when the command has a long flag
//     of that name (Packer users type -var, Docker users --name);
//   - a one-letter flag stands alone ("-t", "-q");
//   - any other "-word" is a usage error naming it: never a cluster of
//     one-letter flags (`build -timestamp-ui` is not `-t imestamp-ui`);
//   - a flag's value is never rewritten, and nothing after "--" is;
//   - with passThrough > 0, everything after that many positional words
//     belongs to a command run elsewhere (exec NAME CMD ARGS...): "--" is
//     put before it, so its flags are its own.
func NormalizeFlags(words []string, f Flags, passThrough int) ([]string, error) {
	out := make([]string, 0, len(words)+1)
	positional := 0
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			return append(out, words[i:]...), nil
		}
		if passThrough > 0 && positional == passThrough {
			out = append(out, "--")
			return append(out, words[i:]...), nil
		}
		if len(w) < 2 || w[0] != '-' || w == "-" || isNumber(w) {
			positional++
			out = append(out, w)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		var fl Flag
		switch {
		case strings.HasPrefix(w, "--"):
			fl = f.Long(name)
			if !fl.Known {
				return nil, Usagef("unknown flag: %s", w)
			}
		case len(name) == 1:
			fl = f.Short(name[0])
			if !fl.Known {
				return nil, Usagef("unknown flag: %s", w)
			}
		default:
			fl = f.Long(name)
			if !fl.Known {
				return nil, UsageError{Err: fmt.Errorf("unknown flag: %s (a single dash spells a long flag of this command; one-letter flags stand alone)", w)}
			}
			w = "-" + w
		}
		out = append(out, w)
		if fl.TakesValue && !hasValue && i+1 < len(words) {
			i++
			out = append(out, words[i]) // the value, as it is
		}
	}
	return out, nil
}

func isNumber(w string) bool {
	for _, c := range w[1:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
