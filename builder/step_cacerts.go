package builder

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/clawimg/clawimg/internal/guest"
)

// Where injected CA certificates go in the guest, and what generalize
// removes. The bundle is appended to (update-ca-certificates costs a minute
// under emulation) after a backup that generalize restores.
const (
	guestCADir    = "/usr/local/share/ca-certificates/clawimg"
	guestCAFile   = guestCADir + "/clawimg-build.crt"
	guestCABundle = "/etc/ssl/certs/ca-certificates.crt"
	guestCAState  = "/var/lib/clawimg-build"
)

// stepCACerts installs the --ca-cert certificates into the guest's trust
// store before provisioning, for networks that intercept TLS.
type stepCACerts struct{}

func (stepCACerts) name() string { return "ca-certificates" }

func (stepCACerts) cleanup(*state) error { return nil } // undone by generalize

func (stepCACerts) run(ctx context.Context, st *state) error {
	if len(st.opts.CACerts) == 0 {
		return nil
	}
	var all bytes.Buffer
	for _, p := range st.opts.CACerts {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n := 0
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "CERTIFICATE" {
				pem.Encode(&all, blk)
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("%s holds no PEM certificate", p)
		}
	}
	tmp := "/tmp/clawimg-ca.crt"
	if err := st.client.Upload(tmp, &all, 0o644); err != nil {
		return err
	}
	script := fmt.Sprintf(`set -e
install -d -m 0755 %[1]s %[4]s
cp %[5]s %[2]s
if [ -f %[3]s ]; then cp %[3]s %[4]s/bundle.orig; fi
cat %[5]s >> %[3]s
sha256sum %[3]s > %[4]s/bundle.sum
rm -f %[5]s`, guestCADir, guestCAFile, guestCABundle, guestCAState, tmp)
	if _, err := st.client.Output(ctx, "sudo -n sh -c "+guest.Quote(script)); err != nil {
		return err
	}
	st.caPath = guestCAFile
	return nil
}
