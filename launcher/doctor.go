package launcher

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/qemu"
)

// Check is one line of `clawimg doctor`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
	// Fatal checks that fail mean no instance can be launched here.
	Fatal bool `json:"fatal"`
}

// Doctor checks the host: the tools, the accelerator that really works,
// free space and the store.
func Doctor(ctx context.Context, cfg Config, store *images.Store) []Check {
	var out []Check
	qemuOK := false
	if v, err := version(ctx, "qemu-system-x86_64", "--version"); err == nil {
		qemuOK = true
		out = append(out, Check{Name: "qemu", OK: true, Detail: v})
	} else {
		out = append(out, Check{Name: "qemu", Detail: "qemu-system-x86_64 not found", Fix: "apt-get install qemu-system-x86 (or: make deps)"})
	}
	if v, err := version(ctx, "qemu-img", "--version"); err == nil {
		out = append(out, Check{Name: "qemu-img", OK: true, Detail: v})
	} else {
		out = append(out, Check{Name: "qemu-img", Detail: "qemu-img not found", Fix: "apt-get install qemu-utils", Fatal: true})
	}
	bin := cfg.MultipassBin
	if bin == "" {
		bin = "multipass"
	}
	mpOK := false
	if v, err := version(ctx, bin, "version"); err == nil {
		mpOK = true
		out = append(out, Check{Name: "multipass", OK: true, Detail: v})
	} else {
		out = append(out, Check{Name: "multipass", OK: true, Detail: "not installed (the qemu driver is used)"})
	}
	if !qemuOK && !mpOK {
		out[0].Fatal = true
	}
	if qemuOK {
		accel, err := qemu.Resolve(ctx, "qemu-system-x86_64", "auto")
		c := Check{Name: "accelerator", OK: err == nil, Detail: accel}
		switch {
		case err != nil:
			c.Detail = err.Error()
		case accel == qemu.TCG:
			c.Detail = "tcg (software emulation: builds and boots are 10-50x slower)"
			if _, err := os.Stat("/dev/kvm"); err == nil {
				c.Detail += "; /dev/kvm exists but does not run a guest"
				c.Fix = "enable nested virtualization, or run clawimg on the host"
			} else {
				c.Fix = "load kvm (modprobe kvm_intel or kvm_amd) and give your user access to /dev/kvm"
			}
		}
		out = append(out, c)
	}
	_ = os.MkdirAll(cfg.Home, 0o755)
	if f, err := images.FreeSpace(cfg.Home); err == nil {
		free := int64(f)
		c := Check{Name: "disk", OK: free > 10<<30, Detail: fmt.Sprintf("%s free under %s", images.HumanBytes(free), cfg.Home)}
		if !c.OK {
			c.Fix = "an OpenClaw image needs about 2 GiB stored and 16 GiB per instance disk (sparse): free some space or clawimg prune"
		}
		out = append(out, c)
	}
	if rep, err := store.Check(); err != nil {
		out = append(out, Check{Name: "store", Detail: err.Error(), Fix: "inspect " + cfg.Home})
	} else {
		c := Check{Name: "store", OK: len(rep.Problem) == 0,
			Detail: fmt.Sprintf("%d image(s), %d chunk blob(s), %s", rep.Images, rep.Blobs, images.HumanBytes(rep.Bytes))}
		if !c.OK {
			c.Detail += "; " + strings.Join(rep.Problem, "; ")
			c.Fix = "clawimg rmi the damaged images and build or pull them again"
		}
		out = append(out, c)
	}
	return out
}

func version(ctx context.Context, bin string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}
