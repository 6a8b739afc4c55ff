package launcher

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// hostExecDriver runs an instance's commands on the host, without the
// sudo in front: the probe batch's shell script really runs.
type hostExecDriver struct {
	Driver
	calls *int
}

func (d hostExecDriver) Exec(ctx context.Context, _ *Record, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	*d.calls++
	if len(argv) > 2 && argv[0] == "sudo" && argv[1] == "-n" {
		argv = argv[2:]
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}

func TestRunProbes(t *testing.T) {
	tests := []struct {
		name   string
		probes []probeScript
		stdin  string
		args   []string
		want   map[string]probeResult
	}{{
		name: "codes, outputs and stderr kept apart, in any order of finishing",
		probes: []probeScript{
			{Name: "slow", Script: "sleep 0.3; echo slow; exit 3"},
			{Name: "fast", Script: "echo fast; echo err >&2"},
			{Name: "empty", Script: "true"},
		},
		want: map[string]probeResult{"slow": {3, "slow"}, "fast": {0, "fast\nerr"}, "empty": {0, ""}},
	}, {
		name: "stdin goes to the one probe that reads it; the others read nothing",
		probes: []probeScript{
			{Name: "other", Script: "cat; echo done"},
			{Name: "key", Script: `k=$(cat); echo "got=$k"`, Stdin: true},
		},
		stdin: "sk-secret\n",
		want:  map[string]probeResult{"other": {0, "done"}, "key": {0, "got=sk-secret"}},
	}, {
		name: "arguments, a heredoc, no trailing newline, exit inside a probe",
		probes: []probeScript{
			{Name: "arg", Script: "printf 'port=%s' \"$1\""},
			{Name: "heredoc", Script: "cat <<'EOF'\nline $1\nEOF\nexit 0"},
			{Name: "exit", Script: "exit 1"},
			{Name: "after", Script: "echo still ran"},
		},
		args: []string{"2222"},
		want: map[string]probeResult{"arg": {0, "port=2222"}, "heredoc": {0, "line $1"}, "exit": {1, ""}, "after": {0, "still ran"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			res, err := runProbes(context.Background(), hostExecDriver{calls: &calls}, &Record{}, tt.probes, strings.NewReader(tt.stdin), tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("%d sessions, want 1", calls)
			}
			if len(res) != len(tt.want) {
				t.Errorf("results %v, want %v", res, tt.want)
			}
			for name, w := range tt.want {
				if res[name] != w {
					t.Errorf("%s: %+v, want %+v", name, res[name], w)
				}
			}
		})
	}
}

// The probes run at once: each of two waits (up to 5 s) for the other to
// have started, which only probes run side by side can both see.
func TestRunProbesConcurrent(t *testing.T) {
	wait := `touch "$1/%s"; i=0; while [ ! -e "$1/%s" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e "$1/%s" ] && echo met`
	ps := []probeScript{{Name: "a", Script: fmt.Sprintf(wait, "a", "b", "b")}, {Name: "b", Script: fmt.Sprintf(wait, "b", "a", "a")}}
	calls := 0
	res, err := runProbes(context.Background(), hostExecDriver{calls: &calls}, &Record{}, ps, strings.NewReader(""), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res["a"].Out != "met" || res["b"].Out != "met" {
		t.Errorf("a: %q, b: %q: the probes did not run at once", res["a"].Out, res["b"].Out)
	}
}

func TestParseProbes(t *testing.T) {
	b := "==clawimg-probe-00"
	out := "noise before\n" + b + " one 0\nfirst\n" + b + " two 1\nno newline" + b + " three x\n"
	got := parseProbes(b, out)
	want := map[string]probeResult{"one": {0, "first"}, "two": {1, "no newline"}, "three": {-1, ""}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
}

// A session that could not run the batch is an error, not empty probes.
func TestRunProbesSessionFails(t *testing.T) {
	calls := 0
	d := hostExecDriver{calls: &calls}
	_, err := runProbes(context.Background(), d, &Record{}, []probeScript{{Name: "a", Script: "true"}}, strings.NewReader(""), "x")
	if err != nil {
		t.Fatalf("a healthy batch: %v", err)
	}
	failing := failingExec{}
	if _, err := runProbes(context.Background(), failing, &Record{}, []probeScript{{Name: "a", Script: "true"}}, strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "sudo: a password is required") {
		t.Errorf("err = %v, want sudo's message", err)
	}
}

// failingExec is a guest where sudo refuses.
type failingExec struct{ Driver }

func (failingExec) Exec(_ context.Context, _ *Record, _ []string, _ io.Reader, stdout, stderr io.Writer) (int, error) {
	io.WriteString(stderr, "sudo: a password is required\n")
	return 1, nil
}
