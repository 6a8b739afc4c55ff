package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/qemuimg"
)

// outputPath is where a Packer recipe's output_directory and vm_name put
// the built disk ("" when the recipe sets neither: the store alone keeps
// it). A relative directory is the working directory's, as in Packer.
func outputPath(b hcl.Build, s *hcl.QEMUSource) string {
	if s.OutputDirectory == "" && s.VMName == "" {
		return ""
	}
	dir, name := s.OutputDirectory, s.VMName
	if dir == "" {
		dir = "output-" + b.Name
	}
	if name == "" {
		name = "packer-" + b.Name
	}
	return filepath.Join(dir, name)
}

// ErrOutputExists is a build whose output directory exists already.
var ErrOutputExists = errors.New("output directory exists")

// checkOutput refuses, before anything is built, an output directory that
// exists, as Packer does; Force lets the build replace the file in it.
func checkOutput(st *state) error {
	p := outputPath(st.build, st.source)
	if p == "" || st.opts.Force {
		return nil
	}
	if _, err := os.Stat(filepath.Dir(p)); err == nil {
		return fmt.Errorf("%w: %s", ErrOutputExists, filepath.Dir(p))
	}
	return nil
}

// writeOutput exports the stored image to the output path in the recipe's
// format (qcow2 or raw); the file appears only when it is complete.
func writeOutput(ctx context.Context, st *state, img *images.Image) error {
	p := outputPath(st.build, st.source)
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	ext := ".qcow2"
	if st.source.Format == "raw" {
		ext = ".raw"
	}
	// Export names the format by extension; vm_name need not have one.
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".clawimg-output"+ext)
	progress := func(pr images.Progress) { st.event(Event{Phase: "output", Bytes: &pr}) }
	if _, err := st.opts.Store.Export(ctx, img.Digest, tmp, progress); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("output %s: %w", p, err)
	}
	args, err := rewriteArgs(ctx, st)
	if err == nil && len(args) > 0 {
		err = rewriteDisk(ctx, st, tmp, img.VirtualSize, args)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("output %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("output %s: %w", p, err)
	}
	if err := writeEFIVars(st, filepath.Dir(p)); err != nil {
		return err
	}
	if err := writeMoreDisks(ctx, st, p); err != nil {
		return err
	}
	st.event(Event{Phase: "output", Detail: fmt.Sprintf("%s (%s)", p, st.source.Format)})
	return nil
}

// writeMoreDisks leaves disk_additional_size's disks beside the first, as
// Packer names them (VM_NAME-1, -2...), in the recipe's format. An
// up-to-date build has none to write: only a build makes them.
func writeMoreDisks(ctx context.Context, st *state, first string) error {
	for i, d := range st.moreDisks {
		p := fmt.Sprintf("%s-%d", first, i+1)
		tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".clawimg-output")
		args := append(slices.Clone(imgArgs(st).Convert), "-f", "qcow2", "-O", st.source.Format)
		if st.source.Format == "qcow2" && st.source.DiskCompression {
			args = append(args, "-c")
		}
		size := st.source.DiskAdditionalSize[i]
		report := func(done, total int64) {
			st.event(Event{Phase: "output", Bytes: &images.Progress{Phase: filepath.Base(p), Done: done, Total: total}})
		}
		if err := qemuimg.Convert(ctx, st.opts.Log, size, report, append(args, d, tmp)...); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("output %s: %w", p, err)
		}
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("output %s: %w", p, err)
		}
		st.event(Event{Phase: "output", Detail: fmt.Sprintf("%s (%s)", p, st.source.Format)})
	}
	return nil
}

// rewriteArgs are qemu-img convert's options for the output disk when
// the recipe asks it changed: qemu_img_args' convert, the difference from
// the build's base image, which becomes its backing file
// (use_backing_file), and compressed clusters (disk_compression), in one
// conversion (a second one would undo the backing file). None: it stays
// as exported.
func rewriteArgs(ctx context.Context, st *state) ([]string, error) {
	args := slices.Clone(imgArgs(st).Convert)
	if st.source.UseBackingFile {
		base, err := filepath.Abs(st.basePath)
		if err != nil {
			return nil, err
		}
		info, err := qemuimg.ReadInfo(ctx, st.opts.Log, base)
		if err != nil {
			return nil, err
		}
		args = append(args, "-B", base, "-F", info.Format)
	}
	if st.source.DiskCompression {
		args = append(args, "-c")
	}
	return args, nil
}

// rewriteDisk converts the output disk in place (in the recipe's format)
// with the options args.
func rewriteDisk(ctx context.Context, st *state, path string, size int64, args []string) error {
	tmp := path + ".rewritten"
	phase := "convert"
	switch {
	case st.source.UseBackingFile:
		phase = "difference"
	case st.source.DiskCompression:
		phase = "compress"
	}
	report := func(done, total int64) {
		st.event(Event{Phase: "output", Bytes: &images.Progress{Phase: phase, Done: done, Total: total}})
	}
	f := st.source.Format
	if err := qemuimg.Convert(ctx, st.opts.Log, size, report, append(append([]string{"-f", f, "-O", f}, args...), path, tmp)...); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// stepOutput leaves the disk where output_directory and vm_name say.
type stepOutput struct{}

func (stepOutput) name() string { return "output" }

func (stepOutput) cleanup(*state) error { return nil }

func (stepOutput) run(ctx context.Context, st *state) error {
	if st.image == nil {
		return errors.New("no stored image to write out")
	}
	return writeOutput(ctx, st, st.image)
}
