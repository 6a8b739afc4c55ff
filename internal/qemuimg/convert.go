// Package qemuimg runs qemu-img: convert with its progress (-p) read and
// reported, for the conversions that take long on big disks (export to
// qcow2, import of a compressed qcow2, the multipass driver's copy), and
// info for what format a file is in.
package qemuimg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/clawimg/clawimg/internal/command"
)

// percent matches what qemu-img convert -p prints, "    (12.34/100%)".
var percent = regexp.MustCompile(`\((\d+(?:\.\d+)?)/100%\)`)

// Convert runs qemu-img convert -p with args (everything after
// "convert": formats, options, input, output). progress, when not nil,
// receives done of total bytes as qemu-img's percentage advances.
func Convert(ctx context.Context, log *slog.Logger, total int64, progress func(done, total int64), args ...string) error {
	cmd := command.New(ctx, log, "qemu-img", append([]string{"convert", "-p"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("qemu-img convert: %w", err)
	}
	sc := bufio.NewScanner(out)
	sc.Split(splitCR)
	for sc.Scan() {
		if m := percent.FindStringSubmatch(sc.Text()); m != nil && progress != nil {
			pct, _ := strconv.ParseFloat(m[1], 64)
			progress(int64(pct/100*float64(total)), total)
		}
	}
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		line, _, _ := strings.Cut(msg, "\n")
		return fmt.Errorf("qemu-img convert: %s", strings.TrimPrefix(line, "qemu-img: "))
	}
	return nil
}

// splitCR splits on \r as well as \n: qemu-img redraws its progress line.
func splitCR(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
