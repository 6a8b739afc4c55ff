package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/qemu"
)

// stepGeneralize removes everything that must not be shared by the
// instances made from the image: identity (machine-id, SSH host keys,
// cloud-init's instance state), the build's key and CA certificates, caches,
// histories and logs. Free blocks are trimmed so the stored image is small.
type stepGeneralize struct{}

func (stepGeneralize) name() string { return "generalize" }

func (stepGeneralize) cleanup(*state) error { return nil }

func (stepGeneralize) run(ctx context.Context, st *state) error {
	// cloud-init must not write its state after it is cleaned. Its last
	// stage (final message, key fingerprints to the console: 10 s under
	// emulation) only writes logs that are cleaned anyway, so it is stopped
	// rather than awaited, as Packer, which never waits for it, would.
	out, err := st.client.Output(ctx, "sudo -n sh -c "+guest.Quote(stopCloudInit))
	if err != nil && ctx.Err() == nil {
		st.opts.Log.Warn("stopping cloud-init's final stage failed", "output", strings.TrimSpace(out), "err", err)
	}
	comment := st.key.AuthorizedKey[strings.LastIndex(st.key.AuthorizedKey, " ")+1:]
	script := fmt.Sprintf(`set -u
for f in /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys; do
  [ -f "$f" ] && sed -i '/%[1]s/d' "$f"
done
if [ -d %[2]s ]; then
  rm -rf %[3]s
  if [ -f %[2]s/bundle.orig ] && sha256sum -c --status %[2]s/bundle.sum 2>/dev/null; then
    cp %[2]s/bundle.orig %[4]s
  else
    update-ca-certificates --fresh >/dev/null 2>&1 || true
  fi
  rm -rf %[2]s
fi
if command -v cloud-init >/dev/null; then
  cloud-init clean --logs --seed --machine-id 2>/dev/null || cloud-init clean --logs --seed
fi
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
if command -v apt-get >/dev/null; then apt-get clean; fi
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
rm -f /root/.bash_history /home/*/.bash_history /root/.lesshst /home/*/.lesshst
rm -rf /tmp/* /tmp/.[!.]* /var/tmp/* /var/tmp/.[!.]*
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
find /var/log -type f -exec truncate -s 0 {} +
rm -rf /var/log/journal/*
sync
fstrim -a >/dev/null 2>&1 || true
`, comment, guestCAState, guestCADir, guestCABundle)
	out, err = st.client.Output(ctx, "sudo -n sh -c "+guest.Quote(script))
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

// stopCloudInit waits until cloud-init's config stage has finished (what
// configures the system), then stops its final stage.
const stopCloudInit = `command -v cloud-init >/dev/null || exit 0
i=0
while [ $i -lt 600 ]; do
  python3 -c 'import json,sys; s=json.load(open("/run/cloud-init/status.json"))["v1"]; sys.exit(0 if (s.get("modules-config") or {}).get("finished") else 1)' 2>/dev/null && break
  sleep 0.5; i=$((i+1))
done
systemctl stop cloud-final.service 2>/dev/null || true`

// stepShutdown stops the VM cleanly: shutdown_command if the recipe has
// one, else an ACPI power-off; killed after shutdown_timeout.
type stepShutdown struct{}

func (stepShutdown) name() string { return "shutdown" }

func (stepShutdown) cleanup(*state) error { return nil }

func (stepShutdown) run(ctx context.Context, st *state) error {
	timeout := time.Duration(st.source.ShutdownTimeout)
	clean := false
	if cmd := st.source.ShutdownCommand; cmd != "" {
		_, err := st.client.Run(ctx, cmd, nil, nil, nil)
		if err != nil && !errors.Is(err, guest.ErrDisconnected) {
			return fmt.Errorf("shutdown_command: %w", err)
		}
		clean = st.vm.Wait(ctx, timeout)
	} else {
		clean = st.vm.Shutdown(ctx, timeout)
	}
	st.client.Close()
	st.client = nil
	if !clean {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the VM did not power off within %s (shutdown_timeout)", timeout)
	}
	return nil
}

// stepStore hands the disk to the image store, tagged, with its metadata.
type stepStore struct{}

func (stepStore) name() string { return "store" }

func (stepStore) cleanup(*state) error { return nil }

func (stepStore) run(ctx context.Context, st *state) error {
	meta := images.Metadata{
		Architecture: st.source.Arch,
		RecipeHash:   st.cacheKey,
		BaseImage:    st.baseURL + "@sha256:" + st.baseSHA256,
		Source:       "clawimg build " + st.build.Name,
		DefaultUser:  st.source.SSHUsername,
	}
	if st.source.EFIBoot {
		meta.Firmware = qemu.FirmwareEFI
	}
	for _, v := range st.plan.Variables {
		var s string
		if v.Name == "openclaw_version" && json.Unmarshal(v.Value, &s) == nil {
			meta.OpenClawVersion = s
		}
	}
	img, err := st.opts.Store.Import(ctx, st.diskPath, images.ImportOptions{
		Tag:   st.tag.String(),
		Meta:  meta,
		Chain: images.TrustedChain, // the build's overlay on the base it checked
		Progress: func(p images.Progress) {
			p.Phase = "store"
			st.event(Event{Phase: "store", Bytes: &p})
		},
	})
	if err != nil {
		return err
	}
	st.image = img
	return nil
}
