package launcher

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
)

// NotReadyError is an instance that did not become ready in time. Soft
// ones (the VM works, the OpenClaw gateway does not answer) do not undo a
// launch: it returns the instance, saying what is not ready.
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
// finished, and, for OpenClaw images, the gateway is healthy. It returns
// the gateway's last state (Installed false: not an OpenClaw image).
func (m *Manager) waitReady(ctx context.Context, d Driver, r *Record, w readyWait, progress func(string)) (gatewayState, error) {
	timeout, maxRestarts := w.Timeout, w.MaxRestarts
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
	for stopped := 0; ; {
		code, out := run("true")
		if code == 0 {
			break
		}
		// A VM that is gone will not answer: say so now, with its console,
		// rather than at the timeout (twice, 2 s apart, in case the
		// driver's view lags its start).
		if st, err := d.State(ctx, r); err == nil && st == StateStopped {
			if stopped++; stopped == 2 {
				return gatewayState{}, fail("ssh", "the VM stopped before it answered over SSH")
			}
		} else {
			stopped = 0
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return gatewayState{}, fail("ssh", out)
		}
	}
	progress("wait for cloud-init")
	for {
		code, out := run("sh", "-c", "test -f /var/lib/cloud/instance/boot-finished || { command -v cloud-init >/dev/null || exit 0; exit 1; }")
		if code == 0 {
			break
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return gatewayState{}, fail("cloud-init", out)
		}
	}
	if w.SkipGateway {
		return gatewayState{}, nil
	}
	var last gatewayState
	lastDetail := "no answer" // for a time-out's message
	for said := false; ; {
		g, err := probeGateway(ctx, d, r)
		if err != nil {
			lastDetail = err.Error()
		}
		switch {
		case err != nil && ctx.Err() == nil:
			// The VM works; what its gateway does is unknown.
			return last, &NotReadyError{Stage: "gateway", Detail: err.Error(), Soft: true}
		case err == nil && (!g.Installed || g.Ready):
			return g, nil // healthy, or not an OpenClaw image
		case err == nil && g.stopped():
			return g, &NotReadyError{Stage: "gateway", Detail: g.String(), Soft: true}
		case err == nil && maxRestarts >= 0 && g.restarts() > maxRestarts:
			return g, &NotReadyError{Stage: "gateway", Detail: g.String(), Soft: true}
		case err == nil:
			last, lastDetail = g, g.String()
			if !said {
				progress("wait for the OpenClaw gateway")
				said = true
			}
		}
		if err := sleep(ctx, 5*time.Second); err != nil {
			nr := fail("gateway", lastDetail).(*NotReadyError)
			nr.Soft = true
			return last, nr
		}
	}
}

// readyWait says how long waitReady waits and for what.
type readyWait struct {
	Timeout time.Duration // 0: 10 minutes
	// MaxRestarts >= 0 gives up on the gateway as soon as systemd has
	// restarted it more often than that (each restart follows a failed
	// start), instead of waiting out the timeout; -1 waits.
	MaxRestarts int
	// SkipGateway stops after SSH and cloud-init.
	SkipGateway bool
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
