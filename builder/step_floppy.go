package builder

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/clawimg/clawimg/internal/fat"
)

// stepFloppy makes the floppy of floppy_files, floppy_dirs and
// floppy_content, as Packer's: what an installer that looks at drive A:
// (Windows' Autounattend.xml, drivers) reads.
type stepFloppy struct{}

func (stepFloppy) name() string { return "floppy" }

func (stepFloppy) cleanup(*state) error { return nil } // inside the work dir

func (stepFloppy) run(ctx context.Context, st *state) error {
	src := st.source
	if len(src.FloppyFiles) == 0 && len(src.FloppyDirs) == 0 && len(src.FloppyContent) == 0 {
		return nil
	}
	var files []fat.File
	add := func(name, from string) error {
		b, err := st.plan.ReadFile(from)
		if err != nil {
			return err
		}
		files = append(files, fat.File{Path: name, Data: b})
		return nil
	}
	// floppy_files: each file at the root, a directory's files too ("flatly").
	for _, f := range src.FloppyFiles {
		if !f.Dir {
			if err := add(filepath.Base(f.Path), f.Path); err != nil {
				return err
			}
			continue
		}
		if err := st.plan.WalkFiles(f.Path, func(rel string) error {
			return add(path.Base(rel), filepath.Join(f.Path, filepath.FromSlash(rel)))
		}); err != nil {
			return err
		}
	}
	// floppy_dirs: each directory under its own name, its tree kept.
	for _, d := range src.FloppyDirs {
		top := filepath.Base(d.Path)
		if err := st.plan.WalkFiles(d.Path, func(rel string) error {
			return add(top+"/"+rel, filepath.Join(d.Path, filepath.FromSlash(rel)))
		}); err != nil {
			return err
		}
	}
	for _, n := range slices.Sorted(maps.Keys(src.FloppyContent)) {
		files = append(files, fat.File{Path: n, Data: []byte(src.FloppyContent[n])})
	}
	label := src.FloppyLabel
	if label == "" {
		label = "packer"
	}
	img, err := fat.Floppy(label, files, time.Now())
	if err != nil {
		return fmt.Errorf("floppy_files: %w", err)
	}
	st.floppyPath = filepath.Join(st.dir, "floppy.img")
	st.event(Event{Phase: "floppy", Detail: fmt.Sprintf("%d files, labelled %s", len(files), label)})
	return os.WriteFile(st.floppyPath, img, 0o600)
}
