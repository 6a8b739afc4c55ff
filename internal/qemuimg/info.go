package qemuimg

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/clawimg/clawimg/internal/command"
)

// Format is the format qemu-img sees in a disk image file (qcow2, raw...).
func Format(ctx context.Context, log *slog.Logger, path string) (string, error) {
	out, err := command.New(ctx, log, "qemu-img", "info", "--output=json", path).Output()
	if err != nil {
		return "", fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	var info struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Format == "" {
		return "", fmt.Errorf("qemu-img info %s: no format in its answer", path)
	}
	return info.Format, nil
}
