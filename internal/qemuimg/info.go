package qemuimg

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/clawimg/clawimg/internal/command"
)

// Info is what qemu-img info says of a disk image file.
type Info struct {
	Format      string `json:"format"` // qcow2, raw...
	VirtualSize int64  `json:"virtual-size"`
}

// ReadInfo runs qemu-img info on a disk image file.
func ReadInfo(ctx context.Context, log *slog.Logger, path string) (Info, error) {
	out, err := command.New(ctx, log, "qemu-img", "info", "--output=json", path).Output()
	if err != nil {
		return Info{}, fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil || info.Format == "" {
		return Info{}, fmt.Errorf("qemu-img info %s: no format in its answer", path)
	}
	return info, nil
}
