package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

var errQMP = errors.New("qmp")

// Monitor is a QMP session with one VM.
type Monitor struct {
	conn net.Conn
	r    *bufio.Reader
}

// DialQMP connects to a VM's QMP socket and negotiates capabilities.
func DialQMP(ctx context.Context, socket string) (*Monitor, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s: %v", errQMP, socket, err)
	}
	m := &Monitor{conn: conn, r: bufio.NewReader(conn)}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := m.r.ReadBytes('\n'); err != nil { // greeting
		conn.Close()
		return nil, fmt.Errorf("%w: %v", errQMP, err)
	}
	if err := m.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		conn.Close()
		return nil, err
	}
	return m, nil
}

// Close ends the session.
func (m *Monitor) Close() error { return m.conn.Close() }

// Execute runs one command with its arguments (nil for none) and decodes
// its return value into result (nil to ignore it). Events are skipped.
func (m *Monitor) Execute(ctx context.Context, command string, args, result any) error {
	return call(ctx, m.conn, m.r, errQMP, command, args, result)
}

// call sends one command on a JSON channel of QEMU's kind (QMP, the guest
// agent) and reads until its answer, skipping events and anything that is
// not JSON (the agent's 0xFF sync marks), then decodes the return value.
func call(ctx context.Context, conn net.Conn, r *bufio.Reader, kind error, command string, args, result any) error {
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return fmt.Errorf("%w: %s: %v", kind, command, err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return fmt.Errorf("%w: %s: %v", kind, command, err)
		}
		var msg struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Desc string `json:"desc"`
			} `json:"error"`
		}
		if json.Unmarshal(bytes.Trim(line, "\xff \r\n"), &msg) != nil {
			continue
		}
		if msg.Error != nil {
			return fmt.Errorf("%w: %s: %s", kind, command, msg.Error.Desc)
		}
		if msg.Return == nil {
			continue // an event
		}
		if result != nil {
			if err := json.Unmarshal(msg.Return, result); err != nil {
				return fmt.Errorf("%w: %s: %v", kind, command, err)
			}
		}
		return nil
	}
}

// QMP runs one command without arguments on a VM's QMP socket.
func QMP(ctx context.Context, socket, command string) error {
	m, err := DialQMP(ctx, socket)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Execute(ctx, command, nil, nil)
}
