package launcher

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// probeScript is one script of a batch run in the guest as root.
type probeScript struct {
	Name, Script string
	// Stdin: the script reads the batch's stdin (only one may).
	Stdin bool
}

// probeResult is a probe's exit status and its output (stdout and stderr,
// trimmed).
type probeResult struct {
	Code int
	Out  string
}

// runProbes runs the probes in the instance in one SSH session and one
// sudo, all at once, and returns each one's result by name. Under
// emulation every session and every sudo costs seconds, and the probes
// mostly wait (Python starting, sshd -T, network time-outs), so a verify
// that ran them one by one took minutes. args are the scripts' $1...
func runProbes(ctx context.Context, d Driver, r *Record, probes []probeScript, stdin io.Reader, args ...string) (map[string]probeResult, error) {
	b := make([]byte, 12)
	rand.Read(b)
	boundary := "==clawimg-probe-" + hex.EncodeToString(b)
	var out bytes.Buffer
	argv := append([]string{"sudo", "-n", "sh", "-c", probeBatch(boundary, probes), "sh"}, args...)
	code, err := d.Exec(ctx, r, argv, stdin, &out, &out)
	if err != nil {
		return nil, err
	}
	res := parseProbes(boundary, out.String())
	if len(res) != len(probes) {
		return nil, fmt.Errorf("exit status %d: %s", code, lastLine(out.String()))
	}
	return res, nil
}

// probeBatch is the shell script that runs the probes in the background,
// each into a file of its own, and prints them in order once all have
// finished, each after a line "BOUNDARY NAME CODE". An asynchronous
// command's stdin is /dev/null in sh: the batch's stdin is read first and
// given to the one probe that wants it.
func probeBatch(boundary string, probes []probeScript) string {
	var s strings.Builder
	s.WriteString("d=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$d\"' EXIT\nin=$(cat)\n")
	for i, p := range probes {
		in := "</dev/null"
		if p.Stdin {
			s.WriteString(`printf '%s\n' "$in" | `)
			in = ""
		}
		fmt.Fprintf(&s, "{ (\n%s\n) %s >\"$d/%d\" 2>&1; echo $? >\"$d/%d.code\"; } &\n", p.Script, in, i, i)
	}
	s.WriteString("wait\n")
	for i, p := range probes {
		fmt.Fprintf(&s, "printf '%%s %%s %%s\\n' %s %s \"$(cat \"$d/%d.code\" 2>/dev/null || echo -1)\"; cat \"$d/%d\" 2>/dev/null\n",
			boundary, p.Name, i, i)
	}
	return s.String()
}

// parseProbes splits probeBatch's output at its boundary lines. A probe
// whose output does not end in a newline still starts the next boundary
// on a line of its own: the boundary is searched for anywhere in a line.
func parseProbes(boundary, out string) map[string]probeResult {
	res := map[string]probeResult{}
	var name string
	var code int
	var body strings.Builder
	flush := func() {
		if name != "" {
			res[name] = probeResult{Code: code, Out: strings.TrimSpace(body.String())}
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(out, "\n") {
		before, after, found := strings.Cut(line, boundary+" ")
		if !found {
			body.WriteString(line)
			continue
		}
		body.WriteString(before)
		flush()
		f := strings.Fields(after)
		name, code = "", -1
		if len(f) == 2 {
			name = f[0]
			if c, err := strconv.Atoi(f[1]); err == nil {
				code = c
			}
		}
	}
	flush()
	return res
}
