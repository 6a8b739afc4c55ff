package qemu

import (
	"strings"
	"testing"
)

func TestNetdev(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"plain NAT", Config{SSHPort: 2222}, "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22"},
		{"restricted with helpers", Config{SSHPort: 2222, Restrict: true, Guestfwds: []Guestfwd{
			{Addr: "10.0.2.100:80", Argv: []string{"/opt/clawimg", "guestfwd", "broker", "/home/u/inst"}},
		}}, "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:'/opt/clawimg' 'guestfwd' 'broker' '/home/u/inst'"},
		// A comma would end QEMU's option; a quote or space would split
		// libslirp's command line.
		{"awkward path", Config{SSHPort: 1, Guestfwds: []Guestfwd{
			{Addr: "10.0.2.100:3128", Argv: []string{"/tmp/a b,c/it's/clawimg"}},
		}}, `user,id=net0,hostfwd=tcp:127.0.0.1:1-:22,guestfwd=tcp:10.0.2.100:3128-cmd:'/tmp/a b,,c/it'\''s/clawimg'`},
	} {
		if got := tc.cfg.netdev(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestEnvironDropsCredentials(t *testing.T) {
	got := strings.Join(Environ([]string{"PATH=/bin", "ANTHROPIC_API_KEY=sk", "GITHUB_TOKEN=x", "AWS_PROFILE=p",
		"MY_SECRET=s", "HOME=/root", "DB_PASSWORD=p", "LANG=C"}), " ")
	if got != "PATH=/bin HOME=/root LANG=C" {
		t.Errorf("Environ kept %s", got)
	}
}
