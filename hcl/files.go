package hcl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// BuiltinRoot is path.root of the recipe embedded in clawimg.
const BuiltinRoot = "builtin:openclaw"

// fileReader reads the files a recipe names. Paths under BuiltinRoot come
// from the embedded recipe; all others from the host.
type fileReader struct {
	builtin fs.FS
}

func (r fileReader) sub(path string) (string, bool) {
	if r.builtin == nil {
		return "", false
	}
	if path == BuiltinRoot {
		return ".", true
	}
	rest, ok := strings.CutPrefix(path, BuiltinRoot+"/")
	return rest, ok
}

// MaxFileSize bounds every file a recipe reads (recipes, variable files,
// file(), templatefile(), provisioner files).
const MaxFileSize = 256 << 20

// ReadFile reads one file: a regular file (a device never ends, opening a
// FIFO blocks) of at most MaxFileSize bytes.
func (r fileReader) ReadFile(path string) ([]byte, error) {
	if p, ok := r.sub(path); ok {
		b, err := fs.ReadFile(r.builtin, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, unwrapPathErr(err))
		}
		return b, nil
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("read %s: not a regular file", path)
	case fi.Size() > MaxFileSize:
		return nil, fmt.Errorf("read %s: %d bytes, more than the %d a recipe may read", path, fi.Size(), MaxFileSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(b) > MaxFileSize {
		err = fmt.Errorf("read %s: more than the %d bytes a recipe may read", path, MaxFileSize)
	}
	return b, err
}

// Stat describes one file.
func (r fileReader) Stat(path string) (fs.FileInfo, error) {
	if p, ok := r.sub(path); ok {
		fi, err := fs.Stat(r.builtin, p)
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", path, unwrapPathErr(err))
		}
		return fi, nil
	}
	return os.Stat(path)
}

// WalkFiles calls fn for every regular file under dir, in lexical order,
// with paths relative to dir.
func (r fileReader) WalkFiles(dir string, fn func(rel string) error) error {
	if p, ok := r.sub(dir); ok {
		return fs.WalkDir(r.builtin, p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(p, path)
			return fn(filepath.ToSlash(rel))
		})
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		return fn(filepath.ToSlash(rel))
	})
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// join resolves a recipe-relative path against root.
func join(root, path string) string {
	if filepath.IsAbs(path) || strings.HasPrefix(path, BuiltinRoot) {
		return filepath.Clean(path)
	}
	if strings.HasPrefix(root, BuiltinRoot) {
		return BuiltinRoot + "/" + filepath.ToSlash(filepath.Clean(path))
	}
	return filepath.Join(root, path)
}

// hashRef locates and hashes a file or directory the recipe reads.
func (r fileReader) hashRef(path string) (FileRef, error) {
	fi, err := r.Stat(path)
	if err != nil {
		return FileRef{}, err
	}
	h := sha256.New()
	ref := FileRef{Path: path, Dir: fi.IsDir()}
	if !fi.IsDir() {
		b, err := r.ReadFile(path)
		if err != nil {
			return FileRef{}, err
		}
		h.Write(b)
	} else {
		err := r.WalkFiles(path, func(rel string) error {
			b, err := r.ReadFile(join(path, rel))
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return FileRef{}, err
		}
	}
	ref.SHA256 = hex.EncodeToString(h.Sum(nil))
	return ref, nil
}

// recipeFiles lists what a RECIPE argument stands for: the file itself, or
// the *.pkr.hcl files of a directory (lexical order) and its
// *.auto.pkrvars.hcl and *.auto.pkrvars.json files.
func (r fileReader) recipeFiles(path string) (root string, recipes, autoVars []string, err error) {
	fi, err := r.Stat(path)
	if err != nil {
		return "", nil, nil, err
	}
	if !fi.IsDir() {
		return filepath.Dir(path), []string{path}, nil, nil
	}
	var names []string
	if p, ok := r.sub(path); ok {
		entries, err := fs.ReadDir(r.builtin, p)
		if err != nil {
			return "", nil, nil, err
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	} else {
		entries, err := os.ReadDir(path)
		if err != nil {
			return "", nil, nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, ".pkr.hcl"):
			recipes = append(recipes, join(path, n))
		case strings.HasSuffix(n, ".auto.pkrvars.hcl"), strings.HasSuffix(n, ".auto.pkrvars.json"):
			autoVars = append(autoVars, join(path, n))
		}
	}
	if len(recipes) == 0 {
		return "", nil, nil, fmt.Errorf("no *.pkr.hcl files in %s", path)
	}
	return path, recipes, autoVars, nil
}
