package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// Agent is a session with the QEMU guest agent (qemu-guest-agent) inside a
// VM, over its virtio-serial port: commands reach the guest without any
// network, and their input never appears on a command line.
type Agent struct {
	conn net.Conn
	r    *bufio.Reader
}

var errAgent = errors.New("guest agent")

// DialAgent connects to the guest agent's socket and synchronizes with it,
// retrying until ctx ends: after a boot or a restore the agent may take a
// moment to answer, and what an earlier client left in the channel is
// discarded by the sync.
func DialAgent(ctx context.Context, socket string) (*Agent, error) {
	var last error
	for {
		a, err := dialAgent(ctx, socket)
		if err == nil {
			return a, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v (last: %v)", errAgent, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func dialAgent(ctx context.Context, socket string) (*Agent, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	a := &Agent{conn: conn, r: bufio.NewReader(conn)}
	// guest-sync-delimited: the answer follows a 0xFF byte, which resets
	// the agent's parser and marks where the answer starts.
	id := rand.Int64N(1 << 40)
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(append([]byte{0xFF}, fmt.Appendf(nil, `{"execute":"guest-sync-delimited","arguments":{"id":%d}}`+"\n", id)...)); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		if _, err := a.r.ReadBytes(0xFF); err != nil {
			conn.Close()
			return nil, err
		}
		line, err := a.r.ReadBytes('\n')
		if err != nil {
			conn.Close()
			return nil, err
		}
		var msg struct {
			Return int64 `json:"return"`
		}
		if json.Unmarshal(bytes.TrimSpace(line), &msg) == nil && msg.Return == id {
			return a, nil
		}
	}
}

// Close ends the session.
func (a *Agent) Close() error { return a.conn.Close() }

// Execute runs one agent command and decodes its return value.
func (a *Agent) Execute(ctx context.Context, command string, args, result any) error {
	return call(ctx, a.conn, a.r, errAgent, command, args, result)
}

// ExecResult is what a command run in the guest did.
type ExecResult struct {
	Code           int
	Stdout, Stderr []byte
}

// Exec runs path with args in the guest as root, stdin fed from input, and
// waits for it to end.
func (a *Agent) Exec(ctx context.Context, path string, args []string, input []byte) (*ExecResult, error) {
	req := map[string]any{"path": path, "arg": args, "capture-output": true}
	if input != nil {
		req["input-data"] = base64.StdEncoding.EncodeToString(input)
	}
	var started struct {
		PID int `json:"pid"`
	}
	if err := a.Execute(ctx, "guest-exec", req, &started); err != nil {
		return nil, err
	}
	// Polled often: a warm launch waits on two scripts run here, each
	// done on the next poll after it ends. An answer costs the guest little.
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var st struct {
			Exited   bool   `json:"exited"`
			ExitCode int    `json:"exitcode"`
			Signal   int    `json:"signal"`
			OutData  string `json:"out-data"`
			ErrData  string `json:"err-data"`
		}
		if err := a.Execute(ctx, "guest-exec-status", map[string]any{"pid": started.PID}, &st); err != nil {
			return nil, err
		}
		if st.Exited {
			out, _ := base64.StdEncoding.DecodeString(st.OutData)
			errOut, _ := base64.StdEncoding.DecodeString(st.ErrData)
			code := st.ExitCode
			if st.Signal != 0 {
				code = 128 + st.Signal
			}
			return &ExecResult{Code: code, Stdout: out, Stderr: errOut}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s: %v", errAgent, path, ctx.Err())
		case <-time.After(wait):
		}
	}
}
