package qemu

import (
	"fmt"

	qemuvm "github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

// hostnetFor gives a qemu instance's VM its network: restricted (unless
// its egress is open), with the broker and the proxy forwarded to helper
// processes (helper is the command that serves one guest connection; the
// kind and the instance's directory are appended). Instances from before
// the broker (no egress recorded) keep plain NAT.
func hostnetFor(cfg *qemuvm.Config, r *launcher.Record, helper []string) {
	if r.Egress == "" || len(helper) == 0 {
		return
	}
	fwd := func(port int, kind string) qemuvm.Guestfwd {
		argv := append(append([]string{}, helper...), kind, r.Dir)
		return qemuvm.Guestfwd{Addr: fmt.Sprintf("%s:%d", hostnet.GuestIP, port), Argv: argv}
	}
	cfg.Guestfwds = []qemuvm.Guestfwd{fwd(hostnet.BrokerPort, hostnet.KindBroker)}
	if r.Egress != hostnet.EgressOpen {
		cfg.Restrict = true
		cfg.Guestfwds = append(cfg.Guestfwds, fwd(hostnet.ProxyPort, hostnet.KindProxy))
	}
}
