package launcher

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clawimg/clawimg/internal/wait"
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
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rw := readiness{ctx: ctx, d: d, r: r, timeout: timeout}
	if !w.Known.SSH {
		progress("wait for ssh")
		if err := rw.ssh(); err != nil {
			return gatewayState{}, err
		}
	}
	if !w.Known.CloudInit {
		progress("wait for cloud-init")
		if err := rw.cloudInit(); err != nil {
			return gatewayState{}, err
		}
	}
	if w.SkipGateway {
		return gatewayState{}, nil
	}
	if g := w.Known.Gateway; g != nil && (g.Ready || !g.Installed) {
		return *g, nil
	}
	return rw.gateway(w.MaxRestarts, progress)
}

// readiness is one wait for an instance, stage by stage.
type readiness struct {
	ctx     context.Context // ends at the timeout
	d       Driver
	r       *Record
	timeout time.Duration
}

func (rw readiness) run(argv ...string) (int, string) {
	var out bytes.Buffer
	code, err := rw.d.Exec(rw.ctx, rw.r, argv, nil, &out, &out)
	if err != nil {
		return -1, err.Error()
	}
	return code, out.String()
}

func (rw readiness) fail(stage, detail string) *NotReadyError {
	if rw.ctx.Err() != nil {
		detail = fmt.Sprintf("timed out after %s (last: %s)", rw.timeout, strings.TrimSpace(detail))
	}
	nr := &NotReadyError{Stage: stage, Detail: detail}
	if c, ok := rw.d.(consoler); ok {
		nr.Console = c.Console(rw.r)
	}
	return nr
}

// ssh waits until a command runs. A VM that is gone will not answer: that
// is said at once, with its console, rather than at the timeout (twice, 2 s
// apart, in case the driver's view lags its start).
func (rw readiness) ssh() error {
	for stopped := 0; ; {
		code, out := rw.run("true")
		if code == 0 {
			return nil
		}
		if st, err := rw.d.State(rw.ctx, rw.r); err == nil && st == StateStopped {
			if stopped++; stopped == 2 {
				return rw.fail("ssh", "the VM stopped before it answered over SSH")
			}
		} else {
			stopped = 0
		}
		if err := wait.Sleep(rw.ctx, 2*time.Second); err != nil {
			return rw.fail("ssh", out)
		}
	}
}

// cloudInit waits for cloud-init's boot-finished (an image without
// cloud-init has nothing to wait for).
func (rw readiness) cloudInit() error {
	for {
		code, out := rw.run("sh", "-c", "test -f /var/lib/cloud/instance/boot-finished || { command -v cloud-init >/dev/null || exit 0; exit 1; }")
		if code == 0 {
			return nil
		}
		if err := wait.Sleep(rw.ctx, 2*time.Second); err != nil {
			return rw.fail("cloud-init", out)
		}
	}
}

// gateway waits for the OpenClaw gateway to be healthy. What it reports
// is soft: the VM works.
func (rw readiness) gateway(maxRestarts int, progress func(string)) (gatewayState, error) {
	var last gatewayState
	lastDetail := "no answer" // for a time-out's message
	for said := false; ; {
		g, err := probeGateway(rw.ctx, rw.d, rw.r)
		if err != nil {
			lastDetail = err.Error()
		}
		switch {
		case err != nil && rw.ctx.Err() == nil:
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
		if err := wait.Sleep(rw.ctx, 5*time.Second); err != nil {
			nr := rw.fail("gateway", lastDetail)
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
	// Known is what need not be asked again: a restored instance's
	// renewal saw cloud-init finished and the gateway ready. SSH is
	// always tried: it is the user's way in, with new host keys.
	Known guestReadiness
}
