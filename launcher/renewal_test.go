package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
// configuration it found, never the rest of the identity. The clock is set
// by the first script ("now", to the host's clock it is given) or, when
// the gateway keeps running, by the second once the token is taken
// ("later"), from how far the guest's clock lagged the host's.
func TestReidentifyKeysInBeforeTokenWait(t *testing.T) {
	const guestNs = 1_000_000_000 // the guest's clock when it read the host's: 1 s after the epoch
	for _, tc := range []struct {
		name      string
		id        identity
		clock     string
		wantWait  string // the second script's input before the offset
		wantLater bool
	}{
		{"running gateway", identity{Hostname: "a", User: "u", GatewayToken: "tok", ClockLast: true},
			"later", "tok|123|/h/openclaw.json|", true},
		{"restarted gateway", identity{Hostname: "a", User: "u", GatewayToken: "tok", RestartGateway: true},
			"now", "tok|123|/h/openclaw.json|yes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			a := &scriptAgent{log: &log, outputs: []string{"g0=1000000000\nt0=123\nconf=/h/openclaw.json\n", "token_ms=5\ncloudinit=done\n"}}
			before := time.Now().UnixNano()
			out, err := reidentify(context.Background(), agentWarmer{agent: a}, &Record{}, tc.id, func() { log = append(log, "keys in") })
			after := time.Now().UnixNano()
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 3 || !strings.HasPrefix(log[0], "renewal: ") || log[1] != "keys in" || !strings.HasPrefix(log[2], "token wait: ") {
				t.Fatalf("asked %q, want the renewal, keys in, the token wait", log)
			}
			first := strings.Split(strings.TrimPrefix(log[0], "renewal: "), "|")
			hostNs, _ := strconv.ParseInt(first[8], 10, 64)
			if hostNs < before || hostNs > after || first[9] != tc.clock {
				t.Errorf("renewal's clock lines %q %q, want the host's clock and %q", first[8], first[9], tc.clock)
			}
			wait := strings.TrimPrefix(log[2], "token wait: ")
			rest, ok := strings.CutPrefix(wait, tc.wantWait+"|")
			if !ok {
				t.Fatalf("token wait's input %q, want %q then the offset", wait, tc.wantWait)
			}
			offset := strings.TrimSuffix(rest, "|")
			if !tc.wantLater && offset != "" {
				t.Errorf("offset %q for a clock set already", offset)
			}
			if tc.wantLater {
				if ns, err := strconv.ParseInt(offset, 10, 64); err != nil || ns != hostNs-guestNs {
					t.Errorf("offset %q, want the host's clock minus the guest's (%d)", offset, hostNs-guestNs)
				}
			}
			if out != "token_ms=5\ncloudinit=done\n" {
				t.Errorf("output %q, want the token wait's", out)
			}
		})
	}
}

// TestTokenWaitAsksUntilTheGatewayTakesTheToken runs renewalWaitScript on
// this host with curl stubbed as a gateway that answers each request with
// the next status: it asks again until one says the token passed (400,
// the body refused after the token was checked), through refusals and no
// answer; the token goes on stdin, never in curl's arguments; the body is
// not JSON, so an accepting gateway does not resolve its tools.
func TestTokenWaitAsksUntilTheGatewayTakesTheToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []string
	}{
		{"refused, then taken", []string{"401", "401", "400"}},
		{"no answer, busy, rate-limited, then taken", []string{"000", "503", "429", "403", "400"}},
		{"an older gateway that reads the body first", []string{"401", "404"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each call appends its arguments and stdin to calls; the
			// readiness probe after the wait gets a ready gateway.
			curl := `case "$*" in *tools/invoke*) ;; *) printf '{"ready":true}'; exit 0 ;; esac
n=$(wc -l < "$D/calls" 2>/dev/null || echo 0)
body=; prev=
for a in "$@"; do [ "$prev" = -d ] && body=$a; prev=$a; done
{ printf 'args:'; printf ' [%s]' "$@"; printf ' stdin: %s body: %s\n' "$(tr '\n' ' ')" "$body"; } >> "$D/calls"
printf '%s' "$(sed -n "$((n + 1))p" "$D/codes")"`
			cmd, dir := stubbedShell(t, renewalWaitScript, map[string]string{"curl": curl})
			os.WriteFile(filepath.Join(dir, "codes"), []byte(strings.Join(tc.codes, "\n")+"\n"), 0o644)
			cmd.Stdin = strings.NewReader("s3cret-token\n" + strconv.FormatInt(time.Now().UnixNano(), 10) + "\n/h/openclaw.json\n\n\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !strings.Contains(string(out), "token_ms=") || !strings.Contains(string(out), "installed=") {
				t.Errorf("want token_ms and the gateway probe's answer (installed=) in %q", out)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "calls"))
			calls := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(calls) != len(tc.codes) {
				t.Fatalf("asked %d times, want %d (once per answer until taken):\n%s", len(calls), len(tc.codes), b)
			}
			for _, c := range calls {
				args, rest, _ := strings.Cut(c, " stdin: ")
				stdin, body, _ := strings.Cut(rest, " body: ")
				if strings.Contains(args, "s3cret-token") || !strings.Contains(stdin, "Authorization: Bearer s3cret-token") {
					t.Errorf("the token must come on stdin only: %s", c)
				}
				if body == "" || json.Valid([]byte(body)) {
					t.Errorf("body %q is JSON: an accepting gateway would resolve its tools", body)
				}
			}
		})
	}
}

// TestClockIsSetFromTheOffset runs the clock's part of the renewal on this
// host with date stubbed (the host's clock is never set): set_clock takes
// nanoseconds, and the token wait sets the guest's clock to its own plus
// the offset it is given, after everything else, and not at all without
// one.
func TestClockIsSetFromTheOffset(t *testing.T) {
	realDate, err := exec.LookPath("date")
	if err != nil {
		t.Skip("no date here")
	}
	stubs := map[string]string{
		"date": `case " $* " in *' -s '*) echo "$*" >> "$D/set"; exit 0 ;; esac
exec ` + realDate + ` "$@"`,
		"curl": `printf '{"ready":true}'`,
	}
	t.Run("set_clock", func(t *testing.T) {
		cmd, dir := stubbedShell(t, setClock+"\nset_clock 1700000000000000042", stubs)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "set")); string(b) != "-u -s @1700000000.000000042\n" {
			t.Errorf("date got %q", b)
		}
	})
	for _, tc := range []struct {
		name   string
		offset time.Duration
		set    bool
	}{
		{"an hour behind", time.Hour, true},
		{"set already", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offset := ""
			if tc.set {
				offset = strconv.FormatInt(int64(tc.offset), 10)
			}
			cmd, dir := stubbedShell(t, renewalWaitScript, stubs)
			cmd.Stdin = strings.NewReader("tok\n1\n\n\n" + offset + "\n") // no gateway configuration: no token to wait for
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			b, err := os.ReadFile(filepath.Join(dir, "set"))
			if !tc.set {
				if err == nil {
					t.Errorf("the clock was set (%q) though it had been", b)
				}
				return
			}
			var sec, nsec int64
			if _, err := fmt.Sscanf(string(b), "-u -s @%d.%d", &sec, &nsec); err != nil {
				t.Fatalf("date got %q: %v", b, err)
			}
			if got, want := time.Unix(sec, nsec), time.Now().Add(tc.offset); got.Sub(want).Abs() > 5*time.Second {
				t.Errorf("clock set to %v, want about %v", got, want)
			}
		})
	}
}
