package launcher

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"vm1": true, "openclaw-cedar-42": true, "a": true,
		"": false, "-vm": false, "vm-": false, "VM": false, "vm_1": false, "vm.1": false, strings.Repeat("a", 64): false,
	} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	n, err := generateName(func(string) bool { return false })
	if err != nil || CheckName(n) != nil || !strings.HasPrefix(n, "openclaw-") {
		t.Fatalf("generated %q %v", n, err)
	}
}

func TestUserDataMergesTheUsersCloudConfig(t *testing.T) {
	ud, err := makeUserData(userDataSpec{
		Hostname: "vm1", User: "ubuntu", Keys: []string{"ssh-ed25519 AAA x"}, Env: "OPENCLAW_GATEWAY_TOKEN=t-1\nANTHROPIC_API_KEY=k-1\n",
		Extra: []byte("#cloud-config\npackages: [htop]\nruncmd:\n  - echo theirs\nssh_authorized_keys: [ssh-rsa BBB y]\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(ud), "#cloud-config\n") {
		t.Fatalf("%s", ud)
	}
	var got map[string]any
	if err := yaml.Unmarshal(ud, &got); err != nil {
		t.Fatal(err)
	}
	keys := got["ssh_authorized_keys"].([]any)
	runcmd := got["runcmd"].([]any)
	if got["hostname"] != "vm1" || len(keys) != 2 || len(runcmd) != 2 || runcmd[1] != "echo theirs" || got["packages"] == nil {
		t.Fatalf("merged: %+v", got)
	}
	// The secrets appear only as the content of the file cloud-init writes.
	files := got["write_files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["content"] != "OPENCLAW_GATEWAY_TOKEN=t-1\nANTHROPIC_API_KEY=k-1\n" {
		t.Fatalf("write_files: %+v", files)
	}
	for _, secret := range []string{"k-1", "t-1"} {
		if n := strings.Count(string(ud), secret); n != 1 {
			t.Fatalf("%s appears %d times", secret, n)
		}
	}
	for _, bad := range []string{"k 1", "k#1", "k'1"} {
		if _, err := makeUserData(userDataSpec{Env: "ANTHROPIC_API_KEY=" + bad + "\n"}); err == nil {
			t.Errorf("API key %q accepted", bad)
		}
	}
	if _, err := makeUserData(userDataSpec{Extra: []byte("{not yaml")}); err == nil {
		t.Fatal("bad --cloud-init accepted")
	}
}

// goneDriver is a driver whose VM is gone: nothing answers, State says
// stopped.
type goneDriver struct{ Driver }

func (goneDriver) Exec(context.Context, *Record, []string, io.Reader, io.Writer, io.Writer) (int, error) {
	return -1, errors.New("the instance is not running")
}
func (goneDriver) State(context.Context, *Record) (string, error) { return StateStopped, nil }

// TestWaitReadyStopsForAGoneVM: a VM that died is reported within
// seconds, not at the end of the timeout.
func TestWaitReadyStopsForAGoneVM(t *testing.T) {
	m := NewManager(Config{Home: t.TempDir()}, nil, nil, nil)
	start := time.Now()
	_, err := m.waitReady(context.Background(), goneDriver{}, &Record{Name: "x", Dir: t.TempDir()}, readyWait{Timeout: time.Minute}, func(string) {})
	var nr *NotReadyError
	if !errors.As(err, &nr) || nr.Soft || !strings.Contains(nr.Detail, "the VM stopped") {
		t.Fatalf("waitReady: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
}

// execDriver answers every command with success and records it; the
// gateway's probe is answered with probe.
type execDriver struct {
	Driver
	probe string
	ran   *[]string
}

func (d execDriver) Exec(_ context.Context, _ *Record, argv []string, _ io.Reader, stdout, _ io.Writer) (int, error) {
	what := argv[0]
	switch {
	case len(argv) > 1 && argv[0] == "sh":
		what = "cloud-init"
	case argv[0] == "sudo":
		what = "gateway"
		io.WriteString(stdout, d.probe)
	}
	*d.ran = append(*d.ran, what)
	return 0, nil
}

// TestWaitReadyAsksOnlyWhatIsUnknown: after a warm start's renewal saw
// cloud-init finished and the gateway ready, only SSH is tried (each
// question costs an SSH session); whatever it did not see is asked.
func TestWaitReadyAsksOnlyWhatIsUnknown(t *testing.T) {
	ready := gatewayState{Installed: true, Ready: true}
	starting := gatewayState{Installed: true, Active: "active", Sub: "running"}
	none := gatewayState{}
	for _, tc := range []struct {
		name  string
		known guestReadiness
		want  string
	}{
		{"nothing known", guestReadiness{}, "true cloud-init gateway"},
		{"all ready", guestReadiness{CloudInit: true, Gateway: &ready}, "true"},
		{"no gateway in the image", guestReadiness{CloudInit: true, Gateway: &none}, "true"},
		{"gateway still starting", guestReadiness{CloudInit: true, Gateway: &starting}, "true gateway"},
		{"cloud-init not seen", guestReadiness{Gateway: &ready}, "true cloud-init"},
		{"ssh seen too", guestReadiness{SSH: true, CloudInit: true, Gateway: &ready}, ""},
		{"ssh seen, gateway starting", guestReadiness{SSH: true, CloudInit: true, Gateway: &starting}, "gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			d := execDriver{probe: "installed=yes\nready=yes\n", ran: &ran}
			m := NewManager(Config{Home: t.TempDir()}, nil, nil, nil)
			g, err := m.waitReady(context.Background(), d, &Record{Name: "x"}, readyWait{Timeout: time.Minute, Known: tc.known}, func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ran, " "); got != tc.want {
				t.Errorf("asked %q, want %q", got, tc.want)
			}
			if tc.known.Gateway != &none && !g.Ready {
				t.Errorf("gateway %+v, want ready", g)
			}
		})
	}
}

// TestReadRenewal: what the renewal script prints becomes the token's
// time and what waitReady need not ask.
func TestReadRenewal(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		token     time.Duration
		cloudInit bool
		gateway   string // "": not probed
	}{
		{"openclaw ready", "token_ms=1234\ncloudinit=done\ninstalled=yes\nready=yes\nActiveState=active\n", 1234 * time.Millisecond, true, "ready"},
		{"restarted gateway", "cloudinit=done\ninstalled=yes\nready=no\nenvfile=yes\nActiveState=activating\n", 0, true, "not ready"},
		{"plain image", "cloudinit=done\ninstalled=no\n", 0, true, "no OpenClaw"},
		{"cloud-init pending", "installed=no\n", 0, false, "no OpenClaw"},
		{"nothing printed", "", 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, known := readRenewal(tc.out)
			if token != tc.token || known.CloudInit != tc.cloudInit {
				t.Errorf("token %v cloud-init %v, want %v %v", token, known.CloudInit, tc.token, tc.cloudInit)
			}
			switch {
			case tc.gateway == "" && known.Gateway != nil:
				t.Errorf("gateway %v, want not probed", known.Gateway)
			case tc.gateway != "" && (known.Gateway == nil || !strings.Contains(known.Gateway.String(), tc.gateway)):
				t.Errorf("gateway %v, want %q", known.Gateway, tc.gateway)
			}
		})
	}
}
