package builder

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/pkg/sftp"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/wait"
)

// stepProvision runs the build's provisioners in order.
type stepProvision struct{}

func (stepProvision) name() string { return "provision" }

func (stepProvision) cleanup(*state) error { return nil }

func (stepProvision) run(ctx context.Context, st *state) error {
	srcName := "qemu." + st.source.Name
	for i, p := range st.build.Provisioners {
		if (len(p.Only) > 0 && !slices.Contains(p.Only, srcName)) || slices.Contains(p.Except, srcName) {
			continue
		}
		label := p.Type
		if p.Name != "" {
			label = p.Name
		}
		what := fmt.Sprintf("provisioner %d (%s)", i+1, label)
		began := time.Now()
		st.event(Event{Phase: "provision", Detail: what})
		if p.PauseBefore > 0 {
			if err := wait.Sleep(ctx, time.Duration(p.PauseBefore)); err != nil {
				return err
			}
		}
		out := newLineWriter(&st.outMu, st.opts.Output, "    "+st.build.Name+": ", st.secrets)
		var err error
		for attempt := 0; attempt <= p.MaxRetries; attempt++ {
			pctx, cancel := ctx, context.CancelFunc(func() {})
			if p.Timeout > 0 {
				pctx, cancel = context.WithTimeout(ctx, time.Duration(p.Timeout))
			}
			switch p.Type {
			case "shell":
				err = runShell(pctx, st, p.Shell, out)
			case "file":
				err = runFile(st, p.File)
			case "shell-local":
				err = runLocal(pctx, st, *p.Local, nil)
			case "ansible":
				err = runAnsible(pctx, st, p.Ansible, out)
			case "ansible-local":
				err = runAnsibleLocal(pctx, st, p.AnsibleLocal, out)
			}
			cancel()
			out.Flush()
			if err == nil || ctx.Err() != nil {
				break
			}
			if errors.Is(pctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("timed out after %s: %w", p.Timeout, err)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		st.event(Event{Phase: "provision", Detail: what, Done: true, Elapsed: time.Since(began)})
	}
	return nil
}

// env is the environment a shell provisioner's scripts see: Packer's
// variables, environment_vars, env, and where injected CA certificates are.
func shellEnv(st *state, s *hcl.Shell) []string {
	env := []string{
		"PACKER_BUILD_NAME=" + st.build.Name,
		"PACKER_BUILDER_TYPE=qemu",
		"CLAWIMG_BUILD_NAME=" + st.build.Name,
	}
	if st.caPath != "" {
		env = append(env, "NODE_EXTRA_CA_CERTS="+st.caPath, "CLAWIMG_CA_CERTS="+st.caPath)
	}
	env = append(env, s.EnvironmentVars...)
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+s.Env[k])
	}
	return env
}

// vars renders the environment as Packer's {{.Vars}}: KEY='value' ...
func vars(env []string) string {
	parts := make([]string, len(env))
	for i, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		parts[i] = k + "=" + guest.Quote(v)
	}
	return strings.Join(parts, " ")
}

func runShell(ctx context.Context, st *state, s *hcl.Shell, out *lineWriter) error {
	type script struct {
		name string
		data []byte
	}
	var scripts []script
	if len(s.Inline) > 0 {
		body := "#!" + s.InlineShebang + "\n" + strings.Join(s.Inline, "\n") + "\n"
		scripts = append(scripts, script{"inline", []byte(body)})
	}
	for _, ref := range s.Scripts {
		b, err := st.plan.ReadFile(ref.Path)
		if err != nil {
			return err
		}
		scripts = append(scripts, script{ref.Path, b})
	}
	tmpl, err := template.New("execute_command").Parse(s.ExecuteCommand)
	if err != nil {
		return fmt.Errorf("execute_command: %w", err)
	}
	env := vars(shellEnv(st, s))
	for _, sc := range scripts {
		remote := path.Join(s.RemoteFolder, "script_"+randomHex(4)+".sh")
		if err := st.client.Upload(remote, bytes.NewReader(sc.data), 0o755); err != nil {
			return err
		}
		var cmd bytes.Buffer
		if err := tmpl.Execute(&cmd, struct{ Path, Vars string }{remote, env}); err != nil {
			return fmt.Errorf("execute_command: %w", err)
		}
		code, err := st.client.Run(ctx, cmd.String(), nil, out, out)
		if errors.Is(err, guest.ErrDisconnected) && s.ExpectDisconnect {
			// A reboot: wait for the VM to come back.
			if err := connect(ctx, st, time.Duration(st.source.SSHTimeout)); err != nil {
				return fmt.Errorf("reconnect after %s: %w", sc.name, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		if !slices.Contains(s.ValidExitCodes, code) {
			return fmt.Errorf("%s exited with status %d", sc.name, code)
		}
		_, _ = st.client.Output(ctx, "rm -f "+guest.Quote(remote))
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runFile uploads a file, a directory or literal content, or downloads a
// file from the guest, as Packer's file provisioner does.
func runFile(st *state, f *hcl.File) error {
	sc, err := st.client.SFTP()
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	defer sc.Close()
	switch {
	case f.Direction == "download":
		return downloadFile(sc, f.Source.Path, f.Destination)
	case f.Content != nil:
		return putFile(sc, f.Destination, []byte(*f.Content), 0o644)
	}
	if len(f.Sources) > 0 {
		for _, src := range f.Sources {
			if err := uploadFile(st, sc, src.Path, f.Destination); err != nil {
				return err
			}
		}
		return nil
	}
	return uploadFile(st, sc, f.Source.Path, f.Destination)
}

// uploadFile copies a host file or directory (or a file of the built-in
// recipe) to dst in the guest; a dst ending in "/" receives it under its
// own name.
func uploadFile(st *state, sc *sftp.Client, src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil && !strings.HasPrefix(src, hcl.BuiltinRoot) {
		return err
	}
	if err == nil && fi.IsDir() {
		return uploadDir(sc, src, dst)
	}
	data, err := st.plan.ReadFile(src) // a file of the host, or of the built-in recipe
	if err != nil {
		return err
	}
	if strings.HasSuffix(dst, "/") {
		dst = path.Join(dst, filepath.Base(src))
	}
	mode := fs.FileMode(0o644)
	if fi != nil {
		mode = fi.Mode().Perm()
	}
	return putFile(sc, dst, data, mode)
}

// downloadFile copies a guest file to the host; a destination ending in
// "/" receives it under its own name.
func downloadFile(sc *sftp.Client, src, dst string) error {
	r, err := sc.Open(src)
	if err != nil {
		return fmt.Errorf("download %s: %w", src, err)
	}
	defer r.Close()
	if strings.HasSuffix(dst, "/") {
		dst = filepath.Join(dst, path.Base(src))
	}
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// uploadDir copies a host directory into the guest as Packer does: "dir"
// makes destination/dir, "dir/" copies its contents into destination.
func uploadDir(sc *sftp.Client, src, dst string) error {
	root := dst
	if !strings.HasSuffix(src, "/") {
		root = path.Join(root, filepath.Base(src))
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := path.Join(root, filepath.ToSlash(rel))
		if d.IsDir() {
			return sc.MkdirAll(dst)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return putFile(sc, dst, b, info.Mode().Perm())
	})
}

// putFile writes a guest file with its mode.
func putFile(sc *sftp.Client, dst string, data []byte, mode fs.FileMode) error {
	w, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("upload %s: %w", dst, err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("upload %s: %w", dst, err)
	}
	if err := w.Chmod(mode); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
