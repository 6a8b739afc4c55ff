package qemu

import (
	"strings"
	"testing"

	qemuvm "github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

func TestHostnetForTheVM(t *testing.T) {
	helper := []string{"/opt/clawimg", "guestfwd"}
	for _, tc := range []struct {
		egress   string
		restrict bool
		fwds     int
	}{{hostnet.EgressProxy, true, 2}, {hostnet.EgressNone, true, 2}, {hostnet.EgressOpen, false, 1}, {"", false, 0}} {
		var cfg qemuvm.Config
		hostnetFor(&cfg, &launcher.Record{Egress: tc.egress, Dir: "/h/instances/vm1"}, helper)
		if cfg.Restrict != tc.restrict || len(cfg.Guestfwds) != tc.fwds {
			t.Errorf("egress %q: restrict %v, %d forwards", tc.egress, cfg.Restrict, len(cfg.Guestfwds))
			continue
		}
		if tc.fwds > 0 {
			if g := cfg.Guestfwds[0]; g.Addr != "10.0.2.100:80" || strings.Join(g.Argv, " ") != "/opt/clawimg guestfwd broker /h/instances/vm1" {
				t.Errorf("broker forward: %+v", g)
			}
		}
		if tc.fwds > 1 && cfg.Guestfwds[1].Addr != "10.0.2.100:3128" {
			t.Errorf("proxy forward: %+v", cfg.Guestfwds[1])
		}
	}
}
