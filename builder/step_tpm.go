package builder

import (
	"context"
	"path/filepath"

	"github.com/clawimg/clawimg/internal/qemu"
)

// stepTPM starts the emulated TPM of vtpm (swtpm) that the build VM
// connects to. Like Packer's, it lives for the build only: the image
// carries no TPM state.
type stepTPM struct{}

func (stepTPM) name() string { return "tpm" }

func (stepTPM) run(ctx context.Context, st *state) error {
	if !st.source.VTPM {
		return nil
	}
	tpm, err := qemu.StartSwtpm(ctx, filepath.Join(st.dir, "tpm"), st.source.UseTPM1, st.source.TPMDeviceType)
	if err != nil {
		return err
	}
	st.tpm = tpm
	version := "2.0"
	if st.source.UseTPM1 {
		version = "1.2"
	}
	st.event(Event{Phase: "tpm", Detail: "TPM " + version + " (swtpm)"})
	return nil
}

func (stepTPM) cleanup(st *state) error {
	if st.tpm != nil && !st.keep {
		st.tpm.Stop()
	}
	return nil
}
