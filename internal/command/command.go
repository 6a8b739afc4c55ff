// Package command makes the external commands clawimg runs (qemu,
// qemu-img, multipass, ssh) and logs each at debug level with its
// arguments, so that `clawimg --debug` shows what was run. Values that
// look secret are masked in the log (clawimg puts no secret on a command
// line; the mask guards against one slipping in).
package command

import (
	"context"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
)

// New is exec.CommandContext, logged to log (nil: not logged).
func New(ctx context.Context, log *slog.Logger, name string, args ...string) *exec.Cmd {
	Log(ctx, log, name, args)
	return exec.CommandContext(ctx, name, args...)
}

// Log logs a command line about to run.
func Log(ctx context.Context, log *slog.Logger, name string, args []string) {
	if log == nil || !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	log.DebugContext(ctx, "run", "cmd", Masked(append([]string{name}, args...)))
}

// secretish matches arguments that carry a secret's value.
var secretish = regexp.MustCompile(`(?i)(sk-ant-|(token|key|password|passwd|secret|auth)[a-z_]*=)`)

// Masked is a command line as one string, each argument that looks like
// it holds a secret replaced by its name and <masked>.
func Masked(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if loc := secretish.FindStringIndex(a); loc != nil {
			if strings.HasSuffix(a[loc[0]:loc[1]], "=") {
				a = a[:loc[1]] + "<masked>"
			} else {
				a = "<masked>"
			}
		}
		if strings.ContainsAny(a, " \t\"'") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
