package images

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/clawimg/clawimg/internal/command"
	"github.com/clawimg/clawimg/internal/qemuimg"
)

// extent is a run of the virtual disk that may hold data. host is where it
// is in the file (equal to off for raw files).
type extent struct{ off, len, host int64 }

// disk is a disk image opened for packing: its size and the only parts of
// it worth reading.
type disk struct {
	format      string // "raw" or "qcow2"
	virtualSize int64
	extents     []extent // sorted by off, not overlapping
	f           *os.File
}

func (d *disk) Close() error { return d.f.Close() }

// allocated is the number of bytes the extents cover.
func (d *disk) allocated() int64 {
	var n int64
	for _, e := range d.extents {
		n += e.len
	}
	return n
}

// readAt fills p with the virtual disk's bytes at off; holes read as zeros.
func (d *disk) readAt(p []byte, off int64) error {
	clear(p)
	end := off + int64(len(p))
	i := sort.Search(len(d.extents), func(i int) bool { return d.extents[i].off+d.extents[i].len > off })
	for ; i < len(d.extents) && d.extents[i].off < end; i++ {
		e := d.extents[i]
		from, to := max(off, e.off), min(end, e.off+e.len)
		n, err := d.f.ReadAt(p[from-off:to-off], e.host+(from-e.off))
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == to-from) {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("the image is truncated: data at offset %d is past the end of the file", e.host+(from-e.off))
			}
			return err
		}
	}
	return nil
}

// errNotDisk is returned for a file that is no disk image clawimg can read.
var errNotDisk = errors.New("not a disk image")

// sniff identifies a file by its first bytes: "qcow2", "raw", "tar", or
// another image format's name (which clawimg does not read).
func sniff(f *os.File) (string, error) {
	head := make([]byte, 4096)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	at := func(off int, magic string) bool {
		return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
	}
	switch {
	case at(0, "QFI\xfb"):
		return "qcow2", nil
	case at(257, "ustar"):
		return "tar", nil
	case at(0, "KDMV"), at(0, "# Disk DescriptorFile"):
		return "vmdk", nil
	case at(0, "vhdxfile"):
		return "vhdx", nil
	case at(0, "conectix"):
		return "vpc", nil
	case at(64, "\x7f\x10\xda\xbe"):
		return "vdi", nil
	case at(510, "\x55\xaa"), at(512, "EFI PART"), at(1080, "\x53\xef"):
		return "raw", nil
	}
	return "", errNotDisk
}

// openDisk opens a raw or qcow2 disk for packing. For qcow2 it reads the
// guest data straight out of the file, using `qemu-img map` to learn where
// each allocated run lives; images that map cannot describe that way
// (compressed clusters, backing files) are converted to a sparse raw file
// in tmpDir first.
func openDisk(ctx context.Context, log *slog.Logger, path, format, tmpDir string, chain ChainPolicy, progress ProgressFunc) (*disk, func(), error) {
	nop := func() {}
	switch format {
	case "raw":
		d, err := openRaw(path)
		return d, nop, err
	case "qcow2":
		d, err := openQcow2(ctx, log, path, chain)
		if !errors.Is(err, errNeedsConvert) {
			return d, nop, err
		}
		tmp, err := os.CreateTemp(tmpDir, "convert-*.raw")
		if err != nil {
			return nil, nop, err
		}
		tmp.Close()
		cleanup := func() { os.Remove(tmp.Name()) }
		report := func(done, total int64) { progress.report(Progress{Phase: "convert", Done: done, Total: total}) }
		if err := qemuimg.Convert(ctx, log, d.virtualSize, report, "-f", "qcow2", "-O", "raw", "-S", "4k", path, tmp.Name()); err != nil {
			cleanup()
			return nil, nop, fmt.Errorf("convert to raw: %w", err)
		}
		d, err = openRaw(tmp.Name())
		if err != nil {
			cleanup()
			return nil, nop, err
		}
		d.format = "qcow2"
		return d, cleanup, nil
	}
	return nil, nop, fmt.Errorf("%w (format %s: convert it with 'qemu-img convert -O qcow2')", errNotDisk, format)
}

// openRaw finds the data extents of a raw file with SEEK_DATA/SEEK_HOLE.
func openRaw(path string) (*disk, error) {
	f, fi, err := openStat(path)
	if err != nil {
		return nil, err
	}
	d := &disk{format: "raw", virtualSize: fi.Size(), f: f}
	fd := int(f.Fd())
	for off := int64(0); off < d.virtualSize; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // no data after off
		}
		if err != nil { // SEEK_DATA unsupported: treat the file as all data
			d.extents = []extent{{0, d.virtualSize, 0}}
			return d, nil
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			hole = d.virtualSize
		}
		d.extents = append(d.extents, extent{data, hole - data, data})
		off = hole
	}
	return d, nil
}

var errNeedsConvert = errors.New("qcow2 needs conversion")

// openStat opens a file and describes it.
func openStat(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

type mapEntry struct {
	Start   int64  `json:"start"`
	Length  int64  `json:"length"`
	Depth   int    `json:"depth"`
	Present *bool  `json:"present"`
	Zero    bool   `json:"zero"`
	Data    bool   `json:"data"`
	Offset  *int64 `json:"offset"`
}

// ChainPolicy says whether a qcow2 may refer to other files.
type ChainPolicy int

const (
	// SelfContained refuses a qcow2 with a backing file or an external
	// data file: reading through it would copy files of the host (any
	// path, or a json: spec with network drivers) into the image, and from
	// there into every VM and registry. Every disk a user hands over.
	SelfContained ChainPolicy = iota
	// TrustedChain reads through the backing chain into a self-contained
	// image: only for disks clawimg made itself (a build's overlay on the
	// base it downloaded and checked).
	TrustedChain
)

// ErrNotSelfContained is a disk that refers to other files.
var ErrNotSelfContained = errors.New("the disk refers to another file")

func openQcow2(ctx context.Context, log *slog.Logger, path string, chain ChainPolicy) (*disk, error) {
	// qemu-img info opens neither the backing file nor any network.
	info, err := command.New(ctx, log, "qemu-img", "info", "--output=json", "-f", "qcow2", path).Output()
	if err != nil {
		return nil, fmt.Errorf("not a valid qcow2 image: %s", firstLine(stderrOf(err), err))
	}
	var meta struct {
		VirtualSize    int64  `json:"virtual-size"`
		BackingFile    string `json:"backing-filename"`
		FormatSpecific struct {
			Data struct {
				Compression string `json:"compression-type"`
				DataFile    string `json:"data-file"`
			} `json:"data"`
		} `json:"format-specific"`
	}
	if err := json.Unmarshal(info, &meta); err != nil {
		return nil, fmt.Errorf("read qemu-img info: %w", err)
	}
	switch {
	case meta.FormatSpecific.Data.DataFile != "":
		return nil, fmt.Errorf("%w: its data is in the external file %q; clawimg stores self-contained disks only", ErrNotSelfContained, meta.FormatSpecific.Data.DataFile)
	case meta.BackingFile != "" && chain != TrustedChain:
		return nil, fmt.Errorf("%w: it is an overlay on the backing file %q; clawimg stores self-contained disks only "+
			"(if you trust that file, flatten the disk first: qemu-img convert -O qcow2 IN OUT)", ErrNotSelfContained, meta.BackingFile)
	case meta.BackingFile != "":
		return &disk{virtualSize: meta.VirtualSize}, errNeedsConvert
	}
	out, err := command.New(ctx, log, "qemu-img", "map", "--output=json", "-f", "qcow2", path).Output()
	if err != nil {
		return nil, fmt.Errorf("not a valid qcow2 image: %s", firstLine(stderrOf(err), err))
	}
	var entries []mapEntry
	if err := json.Unmarshal(out, &entries); err != nil {
		return nil, fmt.Errorf("read qemu-img map: %w", err)
	}
	f, fi, err := openStat(path)
	if err != nil {
		return nil, err
	}
	d := &disk{format: "qcow2", virtualSize: meta.VirtualSize, f: f}
	for _, e := range entries {
		// qemu-img reports clusters past the end of a truncated file as
		// zeros; only their offset gives the truncation away.
		if e.Offset != nil && *e.Offset+e.Length > fi.Size() {
			f.Close()
			return nil, fmt.Errorf("the qcow2 image is truncated: it is %d bytes but its clusters run to %d", fi.Size(), *e.Offset+e.Length)
		}
		if !e.Data || e.Zero {
			continue
		}
		if e.Offset == nil || e.Depth != 0 {
			f.Close()
			return &disk{virtualSize: meta.VirtualSize}, errNeedsConvert // compressed or from a backing file
		}
		if n := len(d.extents); n > 0 && d.extents[n-1].off+d.extents[n-1].len == e.Start &&
			d.extents[n-1].host+d.extents[n-1].len == *e.Offset {
			d.extents[n-1].len += e.Length
			continue
		}
		d.extents = append(d.extents, extent{e.Start, e.Length, *e.Offset})
	}
	return d, nil
}

func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// firstLine gives the first line of a tool's output, or err when it printed
// nothing.
func firstLine(out []byte, err error) string {
	s := strings.TrimSpace(string(bytes.TrimSpace(out)))
	if s == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimPrefix(line, "qemu-img: ")
}
