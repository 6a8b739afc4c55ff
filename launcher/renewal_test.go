package launcher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clawimg/clawimg/internal/qemu"
)

// scriptAgent is a guest agent that records what it is asked and answers
// each script with the next of its outputs.
type scriptAgent struct {
	log     *[]string
	outputs []string
}

func (a *scriptAgent) SetTime(context.Context, time.Time) error {
	*a.log = append(*a.log, "clock")
	return nil
}

func (a *scriptAgent) Exec(_ context.Context, _ string, args []string, input []byte) (*qemu.ExecResult, error) {
	name := "renewal"
	if args[1] == renewalWaitScript {
		name = "token wait"
	}
	*a.log = append(*a.log, name+": "+strings.ReplaceAll(string(input), "\n", "|"))
	out := a.outputs[0]
	a.outputs = a.outputs[1:]
	return &qemu.ExecResult{Stdout: []byte(out)}, nil
}

func (a *scriptAgent) Close() error { return nil }

type agentWarmer struct {
	Warmer
	agent *scriptAgent
}

func (w agentWarmer) Agent(context.Context, *Record) (GuestAgent, error) { return w.agent, nil }

// TestReidentifyKeysInBeforeTokenWait: the renewal runs in two scripts,
// keysIn between them (the host's SSH check then overlaps the token
// wait), and the second gets the token, the first's start and the
// configuration it found, never the rest of the identity; the clock goes last when the gateway keeps running.
func TestReidentifyKeysInBeforeTokenWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   identity
		want string
	}{
		{"running gateway", identity{Hostname: "a", User: "u", GatewayToken: "tok", ClockLast: true},
			"renewal | keys in | token wait: tok|123|/h/openclaw.json||"},
		{"restarted gateway", identity{Hostname: "a", User: "u", GatewayToken: "tok", RestartGateway: true},
			"clock | renewal | keys in | token wait: tok|123|/h/openclaw.json|yes|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			a := &scriptAgent{log: &log, outputs: []string{"t0=123\nconf=/h/openclaw.json\n", "token_ms=5\ncloudinit=done\n"}}
			out, err := reidentify(context.Background(), agentWarmer{agent: a}, &Record{}, tc.id, func() { log = append(log, "keys in") })
			if err != nil {
				t.Fatal(err)
			}
			if tc.id.ClockLast {
				tc.want += " | clock"
			}
			var got []string
			for _, l := range log {
				if strings.HasPrefix(l, "renewal: ") {
					l = "renewal" // its input holds fresh random values
				}
				got = append(got, l)
			}
			if g := strings.Join(got, " | "); g != tc.want {
				t.Errorf("asked\n%s\nwant\n%s", g, tc.want)
			}
			if out != "token_ms=5\ncloudinit=done\n" {
				t.Errorf("output %q, want the token wait's", out)
			}
		})
	}
}
