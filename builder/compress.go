package builder

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/klauspost/compress/zstd"

	"github.com/clawimg/clawimg/hcl"
)

// fillTemplate fills in one of Packer's Go templates with data; a name
// data lacks is an error.
func fillTemplate(text string, data any) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// postOutput fills in a post-processor's output template, as Packer's:
// {{.BuildName}}, {{.BuilderType}} and (checksum) {{.ChecksumType}}.
func postOutput(st *state, out, checksumType string) (string, error) {
	s, err := fillTemplate(out, struct{ BuildName, BuilderType, ChecksumType string }{st.build.Name, "qemu", checksumType})
	if err != nil {
		return "", fmt.Errorf("output %q: %w", out, err)
	}
	return s, nil
}

// writeCompressed is the compress post-processor: the build's disk file
// (the copy in output_directory, else the image exported as qcow2) in an
// archive or compressed file of p.Format.
func writeCompressed(ctx context.Context, st *state, p hcl.PostProcessor) error {
	out, err := postOutput(st, p.Output, "")
	if err != nil {
		return err
	}
	in := outputPath(st.build, st.source)
	if in == "" {
		in = filepath.Join(st.dir, st.build.Name+".qcow2")
		if _, err := st.opts.Store.Export(ctx, st.image.Digest, in, nil); err != nil {
			return err
		}
		defer os.Remove(in)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".clawimg-tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = compressFile(f, in, p.Format, p.CompressionLevel)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	st.event(Event{Phase: "post-process", Detail: "compressed " + filepath.Base(in) + " into " + out})
	return nil
}

// compressFile writes the file in into w in format (see hcl's compress
// formats) at a gzip-style level (-1 default, 0-9).
func compressFile(w io.Writer, in, format string, level int) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	var cw io.WriteCloser = nopCloser{w}
	switch {
	case format == ".gz" || format == ".tar.gz" || format == ".tgz":
		if cw, err = gzip.NewWriterLevel(w, level); err != nil {
			return err
		}
	case format == ".zst" || format == ".tar.zst":
		if cw, err = zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(max(level, 1)))); err != nil {
			return err
		}
	}
	switch {
	case format == ".zip":
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, level) })
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.Base(in), Method: zip.Deflate, Modified: fi.ModTime()})
		if err != nil {
			return err
		}
		if _, err := io.Copy(fw, src); err != nil {
			return err
		}
		return zw.Close()
	case strings.HasPrefix(format, ".tar") || format == ".tgz":
		tw := tar.NewWriter(cw)
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.Base(in)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, src); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
	default: // .gz, .zst: the file alone
		if _, err := io.Copy(cw, src); err != nil {
			return err
		}
	}
	return cw.Close()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
