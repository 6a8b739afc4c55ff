package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// NotReadyError is an instance that did not become ready in time. Soft
// ones (the VM works, the OpenClaw gateway does not answer) do not fail a
// launch; the CLI prints them as a warning.
type NotReadyError struct {
	Stage   string
	Detail  string
	Console string // the last lines of the serial console, when known
	Soft    bool
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("not ready: %s: %s", e.Stage, e.Detail)
}

// waitReady waits until the instance answers over SSH, cloud-init has
// finished, and, for OpenClaw images, the gateway is healthy.
func (m *Manager) waitReady(ctx context.Context, d Driver, r *Record, timeout time.Duration, progress func(string)) error {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	run := func(argv ...string) (int, string) {
		var out bytes.Buffer
		code, err := d.Exec(ctx, r, argv, nil, &out, &out)
		if err != nil {
			return -1, err.Error()
		}
		return code, out.String()
	}
	fail := func(stage, detail string) error {
		if ctx.Err() != nil {
			detail = fmt.Sprintf("timed out after %s (last: %s)", timeout, strings.TrimSpace(detail))
		}
		return &NotReadyError{Stage: stage, Detail: detail, Console: consoleTail(r)}
	}
	progress("wait for ssh")
	for {
		code, out := run("true")
		if code == 0 {
			break
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return fail("ssh", out)
		}
	}
	progress("wait for cloud-init")
	for {
		code, out := run("sh", "-c", "test -f /var/lib/cloud/instance/boot-finished || { command -v cloud-init >/dev/null || exit 0; exit 1; }")
		if code == 0 {
			break
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return fail("cloud-init", out)
		}
	}
	if code, _ := run("sudo", "-n", "-u", "openclaw", "-i", "sh", "-c", "command -v openclaw"); code != 0 {
		return nil // not an OpenClaw image
	}
	progress("wait for the OpenClaw gateway")
	var last string
	for {
		code, out := run("sudo", "-n", "-u", "openclaw", "-i", "sh", "-c",
			`XDG_RUNTIME_DIR=/run/user/$(id -u) openclaw gateway status --json`)
		if code == 0 && gatewayHealthy(out) {
			return nil
		}
		last = out
		if err := sleep(ctx, 5*time.Second); err != nil {
			nr := fail("gateway", last).(*NotReadyError)
			nr.Soft = true
			return nr
		}
	}
}

// gatewayHealthy reads `openclaw gateway status --json`: healthy is the
// runtime running and rpc.ok true.
func gatewayHealthy(out string) bool {
	i := strings.IndexByte(out, '{')
	if i < 0 {
		return false
	}
	var st struct {
		RPC struct {
			OK bool `json:"ok"`
		} `json:"rpc"`
	}
	if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(&st); err != nil {
		return false
	}
	return st.RPC.OK
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
