package command

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestMasked(t *testing.T) {
	for in, want := range map[string]string{
		"qemu-img create -f qcow2 disk.qcow2":   "qemu-img create -f qcow2 disk.qcow2",
		"env ANTHROPIC_API_KEY=sk-ant-x run":    "env ANTHROPIC_API_KEY=<masked> run",
		"curl -H x sk-ant-api03-abc":            "curl -H x <masked>",
		"sh -c OPENCLAW_GATEWAY_TOKEN=abc,x=1":  "sh -c OPENCLAW_GATEWAY_TOKEN=<masked>",
		"login --password=hunter2":              "login --password=<masked>",
		"qemu -netdev user,id=n0,restrict=on":   "qemu -netdev user,id=n0,restrict=on",
		"ssh -o UserKnownHostsFile=/dev/null h": "ssh -o UserKnownHostsFile=/dev/null h",
	} {
		if got := Masked(strings.Fields(in)); got != want {
			t.Errorf("Masked(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Masked([]string{"sh", "-c", "echo 'a b'"}); got != `sh -c 'echo '\''a b'\'''` {
		t.Errorf("quoting: %s", got)
	}
}

func TestNewLogsAtDebugOnly(t *testing.T) {
	var buf bytes.Buffer
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	New(ctx, quiet, "true")
	if buf.Len() != 0 {
		t.Fatalf("logged at warn level: %s", buf.String())
	}
	debug := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := New(ctx, debug, "true", "KEY=v").Run(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `msg=run cmd="true KEY=<masked>"`) {
		t.Fatalf("log: %s", buf.String())
	}
	New(ctx, nil, "true") // no logger: no log, no panic
}
