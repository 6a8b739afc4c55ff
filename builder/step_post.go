package builder

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/atomicfile"
)

// stepPostProcess runs the build's post-processors on the host once the
// image is stored. The artifact is the stored image: its reference and
// digest (there is no output file, the store keeps the disk).
type stepPostProcess struct{}

func (stepPostProcess) name() string { return "post-process" }

func (stepPostProcess) cleanup(*state) error { return nil }

func (stepPostProcess) run(ctx context.Context, st *state) error {
	srcName := "qemu." + st.source.Name
	for i, p := range st.build.PostProcessors {
		if (len(p.Only) > 0 && !slices.Contains(p.Only, srcName)) || slices.Contains(p.Except, srcName) {
			continue
		}
		var err error
		switch p.Type {
		case "manifest":
			err = writeManifest(st, p)
		case "checksum":
			err = writeChecksums(st, p)
		case "compress":
			err = writeCompressed(ctx, st, p)
		case "shell-local":
			env := []string{"CLAWIMG_IMAGE=" + st.image.Ref(), "CLAWIMG_DIGEST=" + st.image.Digest}
			err = runLocal(ctx, st, hcl.Local{Inline: p.Inline, Scripts: p.Scripts, EnvironmentVars: p.EnvironmentVars}, env)
		default:
			err = fmt.Errorf("unknown type %q", p.Type)
		}
		if err != nil {
			return fmt.Errorf("post-processor %d (%s): %w", i+1, p.Type, err)
		}
	}
	return nil
}

// writeManifest appends this build to a Packer-style manifest file.
func writeManifest(st *state, p hcl.PostProcessor) error {
	out := p.Output
	if out == "" {
		out = "packer-manifest.json"
	}
	out, err := postOutput(st, out, "")
	if err != nil {
		return err
	}
	type build struct {
		Name          string            `json:"name"`
		BuilderType   string            `json:"builder_type"`
		BuildTime     int64             `json:"build_time"`
		Files         []any             `json:"files"`
		ArtifactID    string            `json:"artifact_id"`
		PackerRunUUID string            `json:"packer_run_uuid"`
		CustomData    map[string]string `json:"custom_data,omitempty"`
	}
	var m struct {
		Builds      []build `json:"builds"`
		LastRunUUID string  `json:"last_run_uuid"`
	}
	if b, err := os.ReadFile(out); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	run := randomHex(16)
	m.Builds = append(m.Builds, build{
		Name: st.build.Name, BuilderType: "qemu", BuildTime: time.Now().Unix(), Files: []any{},
		ArtifactID: st.image.Ref() + "@" + st.image.Digest, PackerRunUUID: run, CustomData: p.CustomData,
	})
	m.LastRunUUID = run
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, append(b, '\n'), 0o644)
}

// writeChecksums writes the checksums of the image's manifest (what its
// digest covers) in each requested algorithm, sha256sum style.
func writeChecksums(st *state, p hcl.PostProcessor) error {
	raw, err := st.opts.Store.ManifestBytes(st.image.Digest)
	if err != nil {
		return err
	}
	types := p.ChecksumTypes
	if len(types) == 0 {
		types = []string{"md5"}
	}
	var lines []string
	for _, t := range types {
		var h hash.Hash
		switch t {
		case "md5":
			h = md5.New()
		case "sha1":
			h = sha1.New()
		case "sha224":
			h = sha256.New224()
		case "sha256":
			h = sha256.New()
		case "sha384":
			h = sha512.New384()
		case "sha512":
			h = sha512.New()
		}
		h.Write(raw)
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s", t, hex.EncodeToString(h.Sum(nil)), st.image.Ref()))
	}
	out := p.Output
	if out == "" {
		out = st.build.Name + ".checksum"
	}
	// An output naming {{.ChecksumType}} is a file per type, as Packer's.
	if strings.Contains(out, "ChecksumType") {
		for i, t := range types {
			if err := writeChecksumFile(st, out, t, lines[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	return writeChecksumFile(st, out, "", lines)
}

func writeChecksumFile(st *state, out, checksumType string, lines []string) error {
	path, err := postOutput(st, out, checksumType)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// runLocal runs shell-local commands on the host, with the image in
// CLAWIMG_IMAGE and CLAWIMG_DIGEST.
func runLocal(ctx context.Context, st *state, p hcl.Local, extraEnv []string) error {
	env := append(os.Environ(), "PACKER_BUILD_NAME="+st.build.Name, "PACKER_BUILDER_TYPE=qemu")
	env = append(append(env, extraEnv...), p.EnvironmentVars...)
	var scripts [][]byte
	if len(p.Inline) > 0 {
		scripts = append(scripts, []byte("#!/bin/sh -e\n"+strings.Join(p.Inline, "\n")+"\n"))
	}
	for _, ref := range p.Scripts {
		b, err := st.plan.ReadFile(ref.Path)
		if err != nil {
			return err
		}
		scripts = append(scripts, b)
	}
	out := newLineWriter(&st.outMu, st.opts.Output, "    "+st.build.Name+" (local): ", st.secrets)
	defer out.Flush()
	for _, body := range scripts {
		f, err := os.CreateTemp("", "clawimg-local-*.sh")
		if err != nil {
			return err
		}
		path := f.Name()
		_, err = io.WriteString(f, string(body))
		f.Close()
		if err == nil {
			err = os.Chmod(path, 0o700)
		}
		if err == nil {
			cmd := exec.CommandContext(ctx, "/bin/sh", path)
			cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, out, out, localDir(st)
			err = cmd.Run()
		}
		os.Remove(path)
		if err != nil {
			return err
		}
	}
	return nil
}

// localDir is where host commands run: the recipe's directory when it is
// on disk.
func localDir(st *state) string {
	if strings.HasPrefix(st.plan.Root, hcl.BuiltinRoot) {
		return ""
	}
	abs, _ := filepath.Abs(st.plan.Root)
	return abs
}
