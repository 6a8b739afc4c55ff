package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/sshdtest"
)

// The fixture is made by `make fixture` (make test does it first).
var fixture, _ = filepath.Abs("../build/fixture/base.qcow2")

// ansibleDebs are Ansible's packages for the recipe's ansible-local
// provisioner (make fixture), named absolutely for copies of the recipe.
var ansibleDebs, _ = filepath.Abs("../build/fixture/ansible-debs")

// efiFixture is the same system on a disk that boots through UEFI only
// (scripts/mkfixture-efi.sh): the shared build boots it with efi_boot.
var efiFixture, _ = filepath.Abs("../build/fixture/base-efi.qcow2")

func needVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a VM")
	}
	for _, f := range []string{fixture, efiFixture} {
		if _, err := os.Stat(f); err != nil {
			t.Skip("no fixture: run make fixture")
		}
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found: run make deps")
	}
}

type env struct {
	home  string
	store *images.Store
}

func newEnv(t *testing.T) *env {
	home := t.TempDir()
	s, err := images.Open(filepath.Join(home, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{home: home, store: s}
}

func (e *env) options(t testing.TB, recipe string, vars ...string) Options {
	t.Helper()
	var va []hcl.VarArg
	defaults := []string{"base=" + fixture, "out_dir=" + e.home}
	if filepath.Base(recipe) == "recipe" { // testdata/recipe or a copy of it
		defaults = append(defaults, "ansible_debs="+ansibleDebs)
	}
	for _, v := range append(defaults, vars...) {
		va = append(va, hcl.VarArg{Value: v})
	}
	plan, err := hcl.Load(context.Background(), hcl.Options{Path: recipe, Vars: va})
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Plan: plan, OnError: "cleanup", CacheDir: filepath.Join(e.home, "cache"),
		WorkDir: filepath.Join(e.home, "builds"), Store: e.store, Version: "test",
	}
}

// output collects provisioner output for assertions.
type output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// The one real build the tests share: under TCG it costs about a minute.
var shared struct {
	once sync.Once
	env  *env
	res  *Result
	out  *output
	err  error
	// events are the build's own reports, as lines "phase: detail".
	events []string
	// bastionLog is what the sshd the build's SSH went through logged.
	bastionLog string
	// vars are the build's variables (a build with them again is up to
	// date: the variables are part of the cache key).
	vars []string
}

// sharedVars are the shared build's variables beyond the env's own.
func sharedVars(home string) []string {
	return []string{"output_dir=" + filepath.Join(home, "output"), "vm_name=testimg", "base=" + efiFixture, "efi=true"}
}

func sharedBuild(t *testing.T) (*env, *Result, string) {
	needVM(t)
	shared.once.Do(func() {
		home, err := os.MkdirTemp("", "clawimg-builder-test-")
		if err != nil {
			shared.err = err
			return
		}
		s, err := images.Open(filepath.Join(home, "store"), nil)
		if err != nil {
			shared.err = err
			return
		}
		shared.env = &env{home: home, store: s}
		// Packer's ssh_bastion_*: the build's SSH goes through a real sshd.
		// It stops after the build; its key file stays in home for
		// TestUnchangedBuildIsUpToDate, whose build of these variables (part
		// of the cache key) is up to date: no SSH.
		bastion, err := sshdtest.Run(filepath.Join(home, "bastion"), nil)
		if err != nil {
			shared.err = fmt.Errorf("the build's bastion: %w", err)
			return
		}
		defer bastion.Stop()
		vars := append(sharedVars(home), "bastion=127.0.0.1", "bastion_port="+strconv.Itoa(bastion.Port),
			"bastion_user="+bastion.User, "bastion_key="+bastion.KeyFile)
		shared.vars = vars
		defer func() { shared.bastionLog = bastion.Log() }()
		opts := shared.env.options(t, "testdata/recipe", vars...)
		shared.out = &output{}
		opts.Output = shared.out
		var mu sync.Mutex
		opts.Events = func(ev Event) {
			if ev.Bytes == nil && !ev.Done {
				mu.Lock()
				shared.events = append(shared.events, ev.Phase+": "+ev.Detail)
				mu.Unlock()
			}
		}
		shared.res, shared.err = Build(context.Background(), opts)
	})
	if shared.err != nil {
		t.Fatalf("shared build: %v\n%s", shared.err, shared.out)
	}
	return shared.env, shared.res, shared.out.String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		os.RemoveAll(shared.env.home)
	}
	os.Exit(code)
}

// guestFile reads a file from the stored image's root file system, with
// debugfs on the partition (no root or mounting needed).
func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func guestFile(t *testing.T, e *env, ref, path string) string {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	if _, err := e.store.Export(context.Background(), ref, raw, nil); err != nil {
		t.Fatal(err)
	}
	// The root file system is the last partition (after the EFI System
	// Partition on a UEFI disk).
	js, err := exec.Command("sfdisk", "-J", raw).Output()
	var table struct {
		PartitionTable struct {
			Partitions []struct{ Start int64 }
		}
	}
	if err == nil {
		err = json.Unmarshal(js, &table)
	}
	parts := table.PartitionTable.Partitions
	if err != nil || len(parts) == 0 {
		t.Fatalf("sfdisk -J: %v %s", err, js)
	}
	skip := parts[len(parts)-1].Start * 512
	part := filepath.Join(dir, "part.img")
	if out, err := exec.Command("dd", "if="+raw, "of="+part, "bs=1M", "iflag=skip_bytes", "skip="+strconv.FormatInt(skip, 10), "conv=sparse", "status=none").CombinedOutput(); err != nil {
		t.Fatalf("dd: %v %s", err, out)
	}
	out, err := exec.Command("debugfs", "-R", "cat "+path, part).Output()
	if err != nil {
		t.Fatalf("debugfs cat %s: %v", path, err)
	}
	return string(out)
}

func TestBuildProvisionsAndGeneralizes(t *testing.T) {
	e, res, out := sharedBuild(t)
	// ssh_bastion_*: the bastion opened the build's connections to the VM's
	// forwarded port (host_port_min..max). ssh_pty: the first provisioner
	// checks it has a terminal.
	if !regexp.MustCompile(`direct_tcpip: .* target 127\.0\.0\.1 port 29\d\d\b`).MatchString(shared.bastionLog) {
		t.Errorf("ssh_bastion_host: the bastion opened no channel to the build VM:\n%s", shared.bastionLog)
	}
	// Packer's pause_before_connecting and a provisioner's name.
	// Packer's output_directory and vm_name: a qcow2 copy there too, of the
	// image's size.
	info, err := exec.Command("qemu-img", "info", "--output=json", filepath.Join(e.home, "output", "testimg")).Output()
	if err != nil || !strings.Contains(string(info), `"format": "qcow2"`) || !strings.Contains(string(info), fmt.Sprintf(`"virtual-size": %d`, res.Image.VirtualSize)) {
		t.Errorf("output_directory/vm_name: %v\n%s", err, info)
	}
	// use_backing_file: the copy's backing file is the base it was built on.
	var backed struct {
		Backing string `json:"backing-filename"`
	}
	if json.Unmarshal(info, &backed); backed.Backing == "" {
		t.Errorf("use_backing_file: the output has no backing file:\n%s", info)
	} else if _, err := os.Stat(backed.Backing); err != nil {
		t.Errorf("use_backing_file: %v", err)
	}
	// qemu_img_args' convert: both disks left in output_directory were
	// converted with it.
	for _, f := range []string{"testimg", "testimg-1"} {
		var c struct {
			Cluster int `json:"cluster-size"`
		}
		b, _ := exec.Command("qemu-img", "info", "--output=json", filepath.Join(e.home, "output", f)).Output()
		if json.Unmarshal(b, &c); c.Cluster != 131072 {
			t.Errorf("qemu_img_args: %s has clusters of %d bytes, want 131072", f, c.Cluster)
		}
	}
	// disk_compression: the copy's data clusters are compressed (qemu-img
	// map gives a compressed extent no offset in the file).
	m, err := exec.Command("qemu-img", "map", "--output=json", filepath.Join(e.home, "output", "testimg")).Output()
	var extents []struct {
		Data   bool   `json:"data"`
		Offset *int64 `json:"offset"`
	}
	if err == nil {
		err = json.Unmarshal(m, &extents)
	}
	compressed := 0
	for _, x := range extents {
		if x.Data && x.Offset == nil {
			compressed++
		}
	}
	if err != nil || compressed == 0 {
		t.Errorf("disk_compression: no compressed extent in the output (%v)", err)
	}
	// disk_additional_size: the second disk, written by the provisioner,
	// left beside the first as Packer names it.
	disk1 := filepath.Join(t.TempDir(), "disk-1.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(e.home, "output", "testimg-1"), disk1).CombinedOutput(); err != nil {
		t.Errorf("disk_additional_size: %v %s", err, out)
	} else if b, _ := os.ReadFile(disk1); len(b) != 64<<20 || !bytes.HasPrefix(b, []byte("clawimg-disk-1\n")) {
		t.Errorf("disk_additional_size: testimg-1 has %d bytes, starting %q", len(b), b[:min(len(b), 16)])
	}
	events := strings.Join(shared.events, "\n")
	// host_port_min/_max and qmp_enable: the shell-local provisioner
	// asked the recipe's QMP monitor for the user network, whose SSH
	// forward is from a port of the range; the monitor is gone after.
	usernet, _ := os.ReadFile(filepath.Join(e.home, "usernet.txt"))
	if m := regexp.MustCompile(`HOST_FORWARD\]\s+\d+\s+127\.0\.0\.1\s+(\d+)`).FindSubmatch(usernet); m == nil {
		t.Errorf("qmp_enable: no SSH forward in QEMU's answer on the recipe's monitor:\n%s", usernet)
	} else if p, _ := strconv.Atoi(string(m[1])); p < 2900 || p > 2999 {
		t.Errorf("host_port_min/_max: SSH forwarded from port %d, want 2900..2999", p)
	}
	if _, err := os.Stat(filepath.Join(e.home, "qmp.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("qmp_socket_path: the monitor's socket is left after the build: %v", err)
	}
	if !strings.Contains(events, "tpm: TPM 2.0 (swtpm)") {
		t.Errorf("vtpm: no TPM in the events:\n%s", events)
	}
	if !strings.Contains(events, "floppy: 2 files, labelled clawtest") {
		t.Errorf("floppy_files: no floppy in the events:\n%s", events)
	}
	if !strings.Contains(events, "ssh: pause 2s before connecting") || !strings.Contains(events, "provision: provisioner 1 (greet)") {
		t.Errorf("events:\n%s", events)
	}
	if res.UpToDate || res.Image.Ref() != "testimg:latest" {
		t.Fatalf("result %+v", res)
	}
	// Output is streamed with the build's prefix, secrets masked.
	if !strings.Contains(out, "    testimg: hello from clawimg") || !strings.Contains(out, "the token is <sensitive>") {
		t.Fatalf("provisioner output:\n%s", out)
	}
	if strings.Contains(out, "tok-SECRET-4242") {
		t.Fatal("the sensitive value leaked into the output")
	}
	ref := res.Image.Ref()
	for path, want := range map[string]string{
		"/etc/clawimg-greeting":             "hello from clawimg\n",               // inline shell + environment_vars
		"/opt/clawimg-test/setup.txt":       "setup ran as root for testimg\n",    // script + execute_command
		"/etc/motd":                         "Welcome to a clawimg test image.\n", // file upload
		"/etc/clawimg-ansible.txt":          "testimg via ansible in clawimg\n",
		"/etc/clawimg-ansible-local.txt":    "testimg grouped extra on 127.0.0.1\n",               // ansible-local
		"/etc/clawimg-sources.txt":          readTestFile(t, "testdata/recipe/files/sources.txt"), // file sources
		"/etc/machine-id":                   "",                                                   // generalized
		"/home/debian/.ssh/authorized_keys": "",                                                   // build key gone
	} {
		if got := guestFile(t, e, ref, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// No SSH host keys, and the secret nowhere on the disk.
	dir := t.TempDir()
	raw := filepath.Join(dir, "d.raw")
	if _, err := e.store.Export(context.Background(), ref, raw, nil); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("grep", "-c", "tok-SECRET-4242", raw).Output(); strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("the sensitive value is on the disk %s times", out)
	}
	// What was deleted during the build is not in the free blocks.
	if out, _ := exec.Command("grep", "-ac", "deleted-during-build", raw).Output(); strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("deleted data is still on the disk (%s lines)", strings.TrimSpace(string(out)))
	}
	part := filepath.Join(dir, "p.img")
	exec.Command("dd", "if="+raw, "of="+part, "bs=1M", "skip=1", "conv=sparse", "status=none").Run()
	ls, _ := exec.Command("debugfs", "-R", "ls /etc/ssh", part).Output()
	if strings.Contains(string(ls), "ssh_host_") {
		t.Fatalf("host keys left in the image: %s", ls)
	}
	d, err := e.store.Inspect(ref)
	if err != nil || d.RecipeHash == "" || !strings.Contains(d.BaseImage, "@sha256:") || d.DefaultUser != "debian" {
		t.Fatalf("metadata %+v %v", d, err)
	}
	// efi_boot: the build booted through UEFI (its first provisioner
	// checked /sys/firmware/efi), the image says so, and the variable
	// store is left beside the disk, as Packer leaves it.
	if d.Firmware != "efi" {
		t.Errorf("firmware %q, want efi", d.Firmware)
	}
	if fi, err := os.Stat(filepath.Join(e.home, "output", "efivars.fd")); err != nil || fi.Size() == 0 {
		t.Errorf("efivars.fd in output_directory: %v", err)
	}
	// The post-processors ran on the host, with the image as the artifact.
	digest := res.Image.Digest
	for file, want := range map[string]string{
		"manifest.json":  `"artifact_id": "testimg:latest@` + digest + `"`,
		"image.checksum": "sha256\t" + strings.TrimPrefix(digest, "sha256:") + "\ttestimg:latest\n",
		"testimg.sha256": "sha256\t" + strings.TrimPrefix(digest, "sha256:") + "\ttestimg:latest\n",
		"testimg.md5":    "md5\t",
		"local.txt":      "testimg:latest " + digest + "\n",
		// The shell-local provisioner ran on the host during the build.
		"local-provisioner.txt": "testimg provisioned\n",
	} {
		b, err := os.ReadFile(filepath.Join(e.home, file))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s = %q (%v), want it to contain %q", file, b, err, want)
		}
	}
	// compress: the output copy in a tar.gz.
	checkTarGz(t, filepath.Join(e.home, "testimg_qemu.tar.gz"), "testimg", filepath.Join(e.home, "output", "testimg"))
	if entries, _ := os.ReadDir(filepath.Join(e.home, "builds")); len(entries) != 0 {
		t.Fatalf("build left %d work dirs", len(entries))
	}
}

// checkTarGz checks that a .tar.gz holds one file, name, with want's content.
func checkTarGz(t *testing.T, path, name, want string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(z)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != name {
		t.Fatalf("%s: first entry %+v %v", path, hdr, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, tr); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Errorf("%s: %s differs from %s", path, name, want)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("%s: more than one entry (%v)", path, err)
	}
}

func TestUnchangedBuildIsUpToDate(t *testing.T) {
	e, first, _ := sharedBuild(t)
	start := time.Now()
	// The same variables: the output directory exists, and an up-to-date
	// build writes nothing there.
	res, err := Build(context.Background(), e.options(t, "testdata/recipe", shared.vars...))
	if err != nil {
		t.Fatal(err)
	}
	if !res.UpToDate || res.Image.Digest != first.Image.Digest {
		t.Fatalf("second build: %+v", res)
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("up-to-date check took %v", d) // reported, not asserted: timing belongs to benchmarks
	}
	// A different variable value is a different build.
	opts := e.options(t, "testdata/recipe", "greeting=changed")
	key1 := first.Image.RecipeHash
	st, _ := newState(opts)
	if err := (stepFetch{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	key2, _ := cacheKey(st)
	if key1 == key2 {
		t.Fatal("a changed variable keeps the same cache key")
	}
}

// copyRecipe copies the test recipe so a test can change it.
func copyRecipe(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "recipe")
	if out, err := exec.Command("cp", "-a", "testdata/recipe", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	return dir
}

func TestChangedScriptRebuildsAndAFailureLeavesNothing(t *testing.T) {
	e, first, _ := sharedBuild(t)
	dir := copyRecipe(t)
	bad := "#!/bin/sh\necho 'about to fail'\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "setup.sh"), []byte(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := e.options(t, dir)
	out := &output{}
	opts.Output = out
	_, err := Build(context.Background(), opts)
	if err == nil {
		t.Fatal("a failing provisioner built an image")
	}
	if !strings.Contains(err.Error(), "provision: provisioner 2 (shell)") || !strings.Contains(err.Error(), "exited with status 3") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(out.String(), "testimg: about to fail") {
		t.Fatalf("the failing script's output is missing:\n%s", out)
	}
	// The image is untouched, no VM runs, no work files remain.
	img, err := e.store.Resolve("testimg:latest")
	if err != nil || img.Digest != first.Image.Digest {
		t.Fatalf("image changed: %v %v", img, err)
	}
	assertNoVM(t, e)
}

func assertNoVM(t *testing.T, e *env) {
	t.Helper()
	if entries, _ := os.ReadDir(filepath.Join(e.home, "builds")); len(entries) != 0 {
		t.Fatalf("work dirs left: %d", len(entries))
	}
	out, _ := exec.Command("pgrep", "-f", filepath.Join(e.home, "builds")).Output()
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("qemu still running: %s", out)
	}
}

func TestInterruptStopsTheVMAndCleansUp(t *testing.T) {
	needVM(t)
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := e.options(t, "testdata/recipe")
	opts.Events = func(ev Event) {
		if ev.Phase == "ssh" && !ev.Done {
			go func() { time.Sleep(2 * time.Second); cancel() }() // as SIGINT does
		}
	}
	_, err := Build(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "ssh: interrupted") {
		t.Fatalf("error %v", err)
	}
	assertNoVM(t, e)
	if list, _ := e.store.List(); len(list) != 0 {
		t.Fatalf("an interrupted build stored %v", list)
	}
}

func TestOnErrorAbortKeepsTheVM(t *testing.T) {
	needVM(t)
	e := newEnv(t)
	dir := copyRecipe(t)
	recipe := filepath.Join(dir, "build.pkr.hcl")
	b, _ := os.ReadFile(recipe)
	os.WriteFile(recipe, []byte(strings.Replace(string(b), `ssh_timeout      = "5m"`, `ssh_timeout      = "3s"`, 1)), 0o644)
	opts := e.options(t, dir)
	opts.OnError = "abort"
	_, err := Build(context.Background(), opts)
	var ab *AbortedError
	if !errors.As(err, &ab) {
		t.Fatalf("error %v, want an AbortedError", err)
	}
	defer func() {
		syscall.Kill(ab.PID, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond)
		os.RemoveAll(filepath.Join(e.home, "builds"))
	}()
	if err := syscall.Kill(ab.PID, 0); err != nil {
		t.Fatalf("the VM is not running: %v", err)
	}
	// It leads its own session (no parent-death signal), so it outlives
	// the clawimg that started it.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ab.PID))
	if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); err != nil || len(f) < 4 || f[3] != strconv.Itoa(ab.PID) {
		t.Fatalf("the kept VM is not in its own session: %s %v", stat, err)
	}
	if !strings.Contains(ab.SSHCommand, "ssh -i ") || !strings.Contains(ab.SSHCommand, "debian@127.0.0.1") {
		t.Fatalf("ssh command %q", ab.SSHCommand)
	}
	keyPath := strings.Fields(ab.SSHCommand)[2]
	if _, err := guest.LoadKey(keyPath); err != nil {
		t.Fatalf("the key for the kept VM: %v", err)
	}
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("no fixture: run make fixture")
	}
	e := newEnv(t)
	dir := copyRecipe(t)
	recipe := filepath.Join(dir, "build.pkr.hcl")
	b, _ := os.ReadFile(recipe)
	wrong := `iso_checksum     = "sha256:` + strings.Repeat("0", 64) + `"`
	os.WriteFile(recipe, []byte(strings.Replace(string(b), `iso_checksum     = "none"`, wrong, 1)), 0o644)
	_, err := Build(context.Background(), e.options(t, dir))
	if err == nil || !strings.Contains(err.Error(), "fetch: checksum mismatch") {
		t.Fatalf("error %v", err)
	}
	assertNoVM(t, e)
}

func TestDownloadIsVerifiedCachedAndResumed(t *testing.T) {
	payload := []byte(strings.Repeat("cloud image bytes ", 100000))
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			w.Write([]byte(sha256hex(payload) + " *base.img\n"))
			return
		}
		http.ServeContent(w, r, "base.img", time.Time{}, strings.NewReader(string(payload)))
	}))
	defer srv.Close()
	cache := t.TempDir()
	st := &state{opts: Options{CacheDir: cache}, plan: &hcl.Plan{Root: t.TempDir()},
		source: &hcl.QEMUSource{ISOURL: srv.URL + "/base.img", ISOChecksum: "file:" + srv.URL + "/SHA256SUMS"}}
	// A partial download from an earlier run is resumed.
	part := filepath.Join(cache, "downloads", urlKey(st.source.ISOURL)+".part")
	os.MkdirAll(filepath.Dir(part), 0o755)
	os.WriteFile(part, payload[:1000], 0o644)
	if err := (stepFetch{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if st.baseSHA256 != sha256hex(payload) || !strings.Contains(strings.Join(ranges, ","), "bytes=1000-") {
		t.Fatalf("sha %s, ranges %q", st.baseSHA256, ranges)
	}
	// Cached: no second download.
	ranges = nil
	if err := (stepFetch{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 1 { // only SHA256SUMS
		t.Fatalf("requests %q", ranges)
	}
	// A mismatch is refused and the bad file is not kept.
	st.source.ISOURL, st.source.ISOChecksum = srv.URL+"/other.img", "sha256:"+strings.Repeat("1", 64)
	err := (stepFetch{}).run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("error %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "downloads", "*")); len(left) != 0 {
		t.Fatalf("bad download kept: %v", left)
	}
	if _, err := os.Stat(filepath.Join(cache, "sha256", strings.Repeat("1", 64))); err == nil {
		t.Fatal("bad download stored under the expected checksum")
	}
}

func sha256hex(b []byte) string {
	k := sha256.Sum256(b)
	return hex.EncodeToString(k[:])
}

// TestExistingOutputDirectoryIsRefused: as Packer, a build whose
// output_directory exists stops before anything is fetched or booted.
func TestExistingOutputDirectoryIsRefused(t *testing.T) {
	home := t.TempDir()
	s, err := images.Open(filepath.Join(home, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{home: home, store: s}
	out := filepath.Join(home, "out")
	os.Mkdir(out, 0o755)
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("no fixture: run make fixture")
	}
	opts := e.options(t, "testdata/recipe", "output_dir="+out, "vm_name=x")
	_, err = Build(context.Background(), opts)
	if !errors.Is(err, ErrOutputExists) || !strings.Contains(err.Error(), "output directory exists: "+out) {
		t.Fatalf("build into an existing output directory: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(home, "builds")); len(entries) != 0 {
		t.Fatal("the refused build started")
	}
}

// installerISO is Debian's installer on a CD (make installer).
var installerISO, _ = filepath.Abs("../build/installer/debian-12-netboot.iso")

// TestBootCommandDrivesAnInstaller boots Debian's installer from its CD
// and types a boot command that sends it to a preseed file on the build's
// HTTP server, and to that server as its mirror: the installer fetching
// the file, then asking the mirror for the directory the file names,
// shows the keys, the templates, the server and the preseed at work
// together. The build is interrupted then (a whole install is make
// e2e-packer's).
func TestBootCommandDrivesAnInstaller(t *testing.T) {
	needVM(t)
	if _, err := os.Stat(installerISO); err != nil {
		t.Skip("no installer ISO: run make installer")
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	opts := e.options(t, "testdata/installer", "iso="+installerISO)
	var mu sync.Mutex
	var events []string
	var preseed, mirror time.Duration
	start := time.Now()
	opts.Events = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev.Phase+": "+ev.Detail)
		switch {
		case ev.Phase == "http" && ev.Detail == "GET /preseed.cfg 200" && preseed == 0:
			preseed = time.Since(start)
		case ev.Phase == "http" && strings.HasPrefix(ev.Detail, "GET /preseed-applied/") && mirror == 0:
			mirror = time.Since(start)
			cancel()
		}
	}
	_, err := Build(ctx, opts)
	mu.Lock()
	defer mu.Unlock()
	if preseed == 0 || mirror == 0 {
		t.Fatalf("the installer fetched its preseed file after %s, asked the mirror after %s (0: never): %v\nevents:\n%s",
			preseed, mirror, err, strings.Join(events, "\n"))
	}
	// boot_steps: typed in order, each said with its description (or,
	// without one, its command).
	typed := strings.Join(events, "\n")
	for _, want := range []string{"boot command: step 1 of 3: Automated install",
		"boot command: step 2 of 3: url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg ",
		"boot command: step 3 of 3: The mirror, and go"} {
		if !strings.Contains(typed, want) {
			t.Errorf("boot_steps: no %q in the events:\n%s", want, typed)
		}
	}
	t.Logf("the installer fetched its preseed file %s after the build started, and asked the mirror it names %s after",
		preseed.Round(time.Second), mirror.Round(time.Second))
	assertNoVM(t, e)
}

// TestISOURLsAreTriedInOrder: iso_urls are places of one file; the first
// that gives it (with the right checksum) is the base, and the image
// records that one.
func TestISOURLsAreTriedInOrder(t *testing.T) {
	payload := []byte(strings.Repeat("installer bytes ", 10000))
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		switch r.URL.Path {
		case "/mirror-b/x.iso":
			http.ServeContent(w, r, "x.iso", time.Time{}, strings.NewReader(string(payload)))
		case "/wrong/x.iso":
			w.Write([]byte("not the file"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	root := t.TempDir()
	st := &state{opts: Options{CacheDir: t.TempDir()}, plan: &hcl.Plan{Root: root},
		source: &hcl.QEMUSource{ISOURLs: []string{"missing/x.iso", srv.URL + "/mirror-a/x.iso", srv.URL + "/wrong/x.iso", srv.URL + "/mirror-b/x.iso"},
			ISOChecksum: "sha256:" + sha256hex(payload)}}
	if err := (stepFetch{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if st.baseURL != srv.URL+"/mirror-b/x.iso" || st.baseSHA256 != sha256hex(payload) {
		t.Fatalf("base %s (%s), want mirror-b's", st.baseURL, st.baseSHA256)
	}
	if strings.Join(asked, ",") != "/mirror-a/x.iso,/wrong/x.iso,/mirror-b/x.iso" {
		t.Errorf("asked %v", asked)
	}
	// None gives it: the error names every place's failure. (A fresh
	// cache: the file is kept by its checksum, whatever its URL.)
	st.opts.CacheDir = t.TempDir()
	st.source.ISOURLs = []string{"missing/x.iso", srv.URL + "/wrong/x.iso"}
	err := (stepFetch{}).run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "no place of the base image gave it") ||
		!strings.Contains(err.Error(), "missing/x.iso") || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("error %v", err)
	}
}

// isoServer serves an installer's bytes at /x.iso, counting requests.
func isoServer(t *testing.T) (*httptest.Server, []byte, *int) {
	payload := []byte(strings.Repeat("installer bytes ", 50000))
	requests := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*requests++
		http.ServeContent(w, r, "x.iso", time.Time{}, strings.NewReader(string(payload)))
	}))
	t.Cleanup(srv.Close)
	return srv, payload, requests
}

// TestISOSkipCache: with iso_skip_cache the download is the build's own:
// nothing in the download cache, downloaded again by the next build, gone
// when the build ends.
func TestISOSkipCache(t *testing.T) {
	srv, payload, requests := isoServer(t)
	cache, work := t.TempDir(), t.TempDir()
	for want := 1; want <= 2; want++ {
		st := &state{opts: Options{CacheDir: cache, WorkDir: work}, plan: &hcl.Plan{Root: t.TempDir()},
			source: &hcl.QEMUSource{ISOURL: srv.URL + "/x.iso", ISOChecksum: "sha256:" + sha256hex(payload), ISOSkipCache: true}}
		if err := (stepFetch{}).run(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(st.basePath); err != nil || !bytes.Equal(b, payload) || *requests != want || !strings.HasPrefix(st.basePath, work) {
			t.Fatalf("fetch %d: base %s (%d bytes), %d requests, %v", want, st.basePath, len(b), *requests, err)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Fatalf("fetch %d: the download cache holds %v", want, entries)
		}
		st.removeDownload()
		if _, err := os.Stat(st.basePath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("fetch %d: the download outlived the build: %v", want, err)
		}
	}
}

// TestISOTargetPath: iso_target_path keeps a copy of the download, which
// a later fetch takes without downloading while it matches the checksum.
func TestISOTargetPath(t *testing.T) {
	srv, payload, requests := isoServer(t)
	target := filepath.Join(t.TempDir(), "isos", "x.iso")
	newState := func() *state {
		return &state{opts: Options{CacheDir: t.TempDir()}, plan: &hcl.Plan{Root: t.TempDir()},
			source: &hcl.QEMUSource{ISOURL: srv.URL + "/x.iso", ISOChecksum: "sha256:" + sha256hex(payload), ISOTargetPath: target}}
	}
	st := newState()
	if err := (stepFetch{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(target); err != nil || !bytes.Equal(b, payload) || *requests != 1 {
		t.Fatalf("iso_target_path after a download: %d bytes, %d requests, %v", len(b), *requests, err)
	}
	// Another build (another cache): the copy is used, nothing downloaded.
	st = newState()
	if err := (stepFetch{}).run(context.Background(), st); err != nil || st.basePath != target || *requests != 1 {
		t.Fatalf("second fetch: base %s, %d requests, %v", st.basePath, *requests, err)
	}
	// A copy that no longer matches is downloaded again and replaced.
	os.WriteFile(target, []byte("damaged"), 0o644)
	st = newState()
	if err := (stepFetch{}).run(context.Background(), st); err != nil || *requests != 2 {
		t.Fatalf("damaged copy: %d requests, %v", *requests, err)
	}
	if b, _ := os.ReadFile(target); !bytes.Equal(b, payload) {
		t.Fatalf("the damaged copy was not replaced: %q", b[:min(len(b), 16)])
	}
}
