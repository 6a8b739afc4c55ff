package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/bcrypt"

	"github.com/clawimg/clawimg/internal/testdisk"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"clawimg": func() { os.Exit(clawimgMain()) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: exit codes, stdout,
// stderr, and the files the commands leave behind.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			// A command must not depend on the developer's own settings.
			e.Setenv("HOME", e.WorkDir+"/userhome")
			e.Setenv("XDG_DATA_HOME", "")
			e.Setenv("XDG_CACHE_HOME", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkdisk":   mkdisk,
			"corrupt":  corrupt,
			"exits":    exits,
			"registry": startRegistry,
		},
	})
}

// TestMultipassScripts runs the scenarios of testdata/multipass against
// the fake multipass CLI (launcher/multipass/testdata/fakemultipass), which is on
// PATH there. Their work directories are under the home directory, as
// Multipass's daemon reads neither /tmp nor hidden folders.
func TestMultipassScripts(t *testing.T) {
	if err := testdisk.Available(); err != nil {
		t.Skip(err)
	}
	home, err := os.UserHomeDir()
	if err != nil || strings.HasPrefix(home, "/tmp") || strings.Contains(home, "/.") {
		t.Skipf("no home directory outside /tmp and hidden folders (%q): Multipass could not read the images", home)
	}
	root, err := os.MkdirTemp(home, "clawimg-testscript-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin := filepath.Join(root, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "multipass"), "../../launcher/multipass/testdata/fakemultipass").CombinedOutput(); err != nil {
		t.Fatalf("build the fake multipass: %v\n%s", err, out)
	}
	testscript.Run(t, testscript.Params{
		Dir:         "testdata/multipass",
		WorkdirRoot: root,
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir+"/userhome")
			e.Setenv("XDG_DATA_HOME", "")
			e.Setenv("XDG_CACHE_HOME", "")
			e.Setenv("CLAWIMG_HOME", e.WorkDir+"/home")
			e.Setenv("FAKE_MULTIPASS_DIR", e.WorkDir+"/fake")
			e.Setenv("FAKE_MULTIPASS_BOOT_SECONDS", "0")
			e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkdisk":   mkdisk,
			"exits":    exits,
			"registry": startRegistry,
		},
	})
}

// exits CODE PROGRAM ARGS... runs a program like exec and checks its exit
// code, which exec alone cannot tell apart (1 from 2).
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// registry [USER:PASSWORD] starts Debian's docker-registry on a free
// loopback port for the rest of the script and sets $REGISTRY to its
// address; with a user, it requires that user's password (htpasswd).
func startRegistry(ts *testscript.TestScript, neg bool, args []string) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		ts.Fatalf("docker-registry not found (run make deps)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	l.Close()
	dir := ts.MkAbs("registry")
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", dir, addr)
	ts.Check(os.MkdirAll(dir, 0o755))
	if len(args) == 1 {
		user, pw, _ := strings.Cut(args[0], ":")
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		ts.Check(err)
		htpasswd := filepath.Join(dir, "htpasswd")
		ts.Check(os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o644))
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: clawimg-test\n    path: %s\n", htpasswd)
	}
	ts.Check(os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644))
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	ts.Check(cmd.Start())
	ts.Defer(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			ts.Setenv("REGISTRY", addr)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("the registry did not start")
}

// mkdisk PATH SIZE_MIB SEED FILES writes a raw disk (MBR + ext4) holding
// FILES generated files.
func mkdisk(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: mkdisk PATH SIZE_MIB SEED FILES")
	}
	if err := testdisk.Available(); err != nil {
		ts.Fatalf("%v", err)
	}
	size, _ := strconv.ParseInt(args[1], 10, 64)
	seed, _ := strconv.ParseUint(args[2], 10, 64)
	n, _ := strconv.Atoi(args[3])
	path := ts.MkAbs(args[0])
	src := path + ".src"
	ts.Check(testdisk.Fill(src, seed, n, 32<<10))
	ts.Check(testdisk.Make(path, size<<20, src))
}

// corrupt HOME NAME:TAG [chunk|config|manifest] flips one byte in the
// middle of the image's first chunk blob (or its config, or its manifest)
// and prints that blob's digest.
func corrupt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: corrupt HOME NAME:TAG [chunk|config|manifest]")
	}
	which := "chunk"
	if len(args) == 3 {
		which = args[2]
	}
	home := ts.MkAbs(args[0])
	var idx struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(home, "index.json"))
	ts.Check(err)
	ts.Check(json.Unmarshal(b, &idx))
	blob := func(d string) string { return filepath.Join(home, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")) }
	for _, m := range idx.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] != args[1] {
			continue
		}
		var man struct {
			Config struct{ Digest string }   `json:"config"`
			Layers []struct{ Digest string } `json:"layers"`
		}
		b, err := os.ReadFile(blob(m.Digest))
		ts.Check(err)
		ts.Check(json.Unmarshal(b, &man))
		target := map[string]string{"chunk": man.Layers[0].Digest, "config": man.Config.Digest, "manifest": m.Digest}[which]
		if target == "" {
			ts.Fatalf("corrupt: %q is not chunk, config or manifest", which)
		}
		p := blob(target)
		data, err := os.ReadFile(p)
		ts.Check(err)
		data[len(data)/2] ^= 0x01
		ts.Check(os.WriteFile(p, data, 0o644))
		fmt.Fprintln(ts.Stdout(), target)
		return
	}
	ts.Fatalf("no image %s in %s", args[1], home)
}
