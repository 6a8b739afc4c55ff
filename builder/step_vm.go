package builder

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/cidata"
	"github.com/clawimg/clawimg/internal/command"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/internal/qemuimg"
	"github.com/clawimg/clawimg/internal/wait"
)

// stepWorkDir makes the directory that holds everything of the build VM.
type stepWorkDir struct{}

func (stepWorkDir) name() string { return "prepare" }

func (stepWorkDir) run(ctx context.Context, st *state) error {
	if err := os.MkdirAll(st.opts.WorkDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(st.opts.WorkDir, st.build.Name+"-*")
	if err != nil {
		return err
	}
	st.dir = dir
	return os.Chmod(dir, 0o700)
}

func (stepWorkDir) cleanup(st *state) error {
	if st.keep || st.dir == "" {
		return nil
	}
	return os.RemoveAll(st.dir)
}

// stepDisk makes the VM's disk: a qcow2 overlay on the base, grown to
// disk_size. The base is never written.
type stepDisk struct{}

func (stepDisk) name() string { return "disk" }

func (stepDisk) cleanup(*state) error { return nil } // inside the work dir

func (stepDisk) run(ctx context.Context, st *state) error {
	st.diskPath = filepath.Join(st.dir, "disk.qcow2")
	for i, size := range st.source.DiskAdditionalSize {
		p := filepath.Join(st.dir, fmt.Sprintf("disk-%d.qcow2", i+1))
		if err := qemuImgCreate(ctx, st, p, strconv.FormatInt(size, 10)); err != nil {
			return err
		}
		st.moreDisks = append(st.moreDisks, p)
	}
	if !st.source.DiskImage {
		// An installer writes onto an empty disk of disk_size.
		return qemuImgCreate(ctx, st, "-o", "cluster_size=4096", st.diskPath, strconv.FormatInt(st.source.DiskSize, 10))
	}
	meta, err := qemuimg.ReadInfo(ctx, st.opts.Log, st.basePath)
	if err != nil {
		return fmt.Errorf("read base image %s: %w", st.basePath, err)
	}
	base, _ := filepath.Abs(st.basePath)
	// 4 KiB clusters, the guest filesystem's block size: QEMU discards
	// only whole clusters, so with the default 64 KiB the generalize
	// step's fstrim would leave what was deleted during the build (logs,
	// scripts, keys) in every partly used cluster of the image.
	args := []string{"-o", "cluster_size=4096", "-F", meta.Format, "-b", base, st.diskPath}
	grow := !st.source.SkipResizeDisk && st.source.DiskSize > meta.VirtualSize
	size := strconv.FormatInt(st.source.DiskSize, 10)
	resizeArgs := imgArgs(st).Resize
	if grow && len(resizeArgs) == 0 {
		args = append(args, size)
	}
	if err := qemuImgCreate(ctx, st, args...); err != nil || !grow || len(resizeArgs) == 0 {
		return err
	}
	// qemu_img_args' resize: grown by qemu-img resize, as Packer does.
	resize := append(append([]string{"resize", "-q", "-f", "qcow2"}, resizeArgs...), st.diskPath, size)
	if out, err := command.New(ctx, st.opts.Log, "qemu-img", resize...).CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img resize: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// qemuImgCreate makes a qcow2 file: qemu-img create -q -f qcow2
// [qemu_img_args' create] ARGS.
func qemuImgCreate(ctx context.Context, st *state, args ...string) error {
	create := append(append([]string{"create", "-q", "-f", "qcow2"}, imgArgs(st).Create...), args...)
	out, err := command.New(ctx, st.opts.Log, "qemu-img", create...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// imgArgs are the recipe's qemu_img_args (none when it has none).
func imgArgs(st *state) hcl.QEMUImgArgs {
	if a := st.source.QEMUImgArgs; a != nil {
		return *a
	}
	return hcl.QEMUImgArgs{}
}

// stepSeed makes the build's SSH key and its NoCloud seed: ssh_username
// gets the key and passwordless sudo.
type stepSeed struct{}

func (stepSeed) name() string { return "seed" }

func (stepSeed) cleanup(*state) error { return nil } // inside the work dir

func (stepSeed) run(ctx context.Context, st *state) error {
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	kp, err := guest.NewKeyPair("clawimg-build-" + id)
	if err != nil {
		return err
	}
	st.key = kp
	st.keyPath = filepath.Join(st.dir, "id_ed25519")
	if err := os.WriteFile(st.keyPath, kp.PrivatePEM, 0o600); err != nil {
		return err
	}
	user := st.source.SSHUsername
	userData := fmt.Sprintf(`#cloud-config
users:
  - default
  - name: %s
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    lock_passwd: true
    ssh_authorized_keys:
      - %s
ssh_pwauth: false
`, user, kp.AuthorizedKey)
	metaData := fmt.Sprintf("instance-id: clawimg-build-%s\nlocal-hostname: %s\n", id, st.build.Name)
	st.seedPath = filepath.Join(st.dir, "seed.iso")
	return cidata.WriteISO(st.seedPath, "cidata", []cidata.File{
		{Name: "user-data", Data: []byte(userData)},
		{Name: "meta-data", Data: []byte(metaData)},
	}, time.Now())
}

// stepBoot starts QEMU with the accelerator that works here.
type stepBoot struct{}

func (stepBoot) name() string { return "boot" }

func (stepBoot) run(ctx context.Context, st *state) error {
	want := st.opts.Accel
	if want == "" || want == "auto" {
		want = st.source.Accelerator
	}
	accel, err := qemu.Resolve(ctx, st.source.QEMUBinary, want)
	if err != nil {
		return err
	}
	st.accel = accel
	st.event(Event{Phase: "boot", Detail: "accelerator " + accel})
	if st.port, err = sshPort(st.source); err != nil {
		return err
	}
	cfg := qemu.Config{
		Binary: st.source.QEMUBinary, Accel: accel, CPUs: st.source.CPUs, MemoryMiB: st.source.Memory,
		Disk: st.diskPath, DiskIf: st.source.DiskInterface, Seed: st.seedPath, NetDevice: st.source.NetDevice,
		SSHPort: st.port, Dir: st.dir, MachineType: st.source.MachineType, ExtraArgs: st.source.QEMUArgs,
		CPUModel: st.source.CPUModel, Sockets: st.source.Sockets, Cores: st.source.Cores, Threads: st.source.Threads,
		DiskCache: st.source.DiskCache, DiskDiscard: st.source.DiskDiscard, DiskDetectZeroes: st.source.DiskDetectZeroes,
		// With --on-error=abort a failed build's VM must outlive clawimg.
		Detached: st.opts.OnError == "abort",
		UUID:     uuid.NewString(),
		Log:      st.opts.Log,
	}
	if !st.source.DiskImage {
		// The installer boots once; its reboot boots what it installed.
		cfg.CDROMs, cfg.BootOnce = []string{st.basePath}, "d"
	}
	cfg.Floppy, cfg.MoreDisks = st.floppyPath, st.moreDisks
	if st.tpm != nil {
		cfg.TPM = &st.tpm.TPM
	}
	if st.cdPath != "" {
		cfg.CDROMs = append(cfg.CDROMs, st.cdPath)
	}
	if err := firmware(st, &cfg); err != nil {
		return err
	}
	if st.source.QMPEnable {
		cfg.UserQMP = userQMP(st)
		removeSocket(cfg.UserQMP) // one left by a killed build
	}
	st.vm, err = qemu.Start(ctx, cfg)
	if err == nil && cfg.UserQMP != "" {
		st.event(Event{Phase: "qmp", Detail: "monitor at " + cfg.UserQMP})
	}
	return err
}

// sshPort is the host port the build VM's SSH is forwarded from: the
// first free one of host_port_min..host_port_max, else any free one.
func sshPort(src *hcl.QEMUSource) (int, error) {
	if src.HostPortMin == 0 {
		return qemu.FreePort()
	}
	l, err := listenInRange(src.HostPortMin, src.HostPortMax)
	if err != nil {
		return 0, fmt.Errorf("host_port_min..host_port_max: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// userQMP is where qmp_enable's monitor listens: qmp_socket_path, else
// VM_NAME.monitor in the build's work directory.
func userQMP(st *state) string {
	if st.source.QMPSocketPath != "" {
		return st.source.QMPSocketPath
	}
	name := st.source.VMName
	if name == "" {
		name = "packer-" + st.source.Name
	}
	return filepath.Join(st.dir, name+".monitor")
}

func (stepBoot) cleanup(st *state) error {
	if st.vm == nil || st.keep {
		return nil
	}
	if !st.vm.Exited() {
		st.vm.Kill()
	}
	if st.source.QMPEnable {
		removeSocket(userQMP(st))
	}
	return nil
}

// removeSocket removes path if it is a Unix socket: qmp_socket_path is the
// recipe's to name, and whatever else is there is not clawimg's to delete
// (QEMU then fails to listen there, and says so).
func removeSocket(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
}

// stepSSH waits until the VM lets the build key in and cloud-init is done.
type stepSSH struct{}

func (stepSSH) name() string { return "ssh" }

func (stepSSH) run(ctx context.Context, st *state) error {
	// Like Packer, provisioning starts as soon as SSH answers; cloud-init's
	// last stage may still run (generalize waits for it).
	if err := connect(ctx, st, time.Duration(st.source.SSHTimeout)); err != nil {
		return err
	}
	// pause_before_connecting: SSH answered; wait, then connect again.
	if pause := time.Duration(st.source.PauseBeforeConnecting); pause > 0 {
		st.event(Event{Phase: "ssh", Detail: fmt.Sprintf("pause %s before connecting", pause)})
		if err := wait.Sleep(ctx, pause); err != nil {
			return err
		}
		return connect(ctx, st, time.Duration(st.source.SSHTimeout))
	}
	return nil
}

func (stepSSH) cleanup(st *state) error {
	if st.client != nil {
		st.client.Close()
	}
	if st.agent != nil {
		st.agent.Close()
	}
	return nil
}

// connect (re)connects to the build VM within timeout.
func connect(ctx context.Context, st *state, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	alive := func() error {
		if st.vm.Exited() {
			return &ConsoleError{Err: fmt.Errorf("the VM stopped while booting"), Tail: qemu.ConsoleTail(st.vm.ConsoleLog(), 15)}
		}
		return nil
	}
	login, err := sshLogin(st)
	if err != nil {
		return err
	}
	c, err := guest.WaitAuth(ctx, login, alive)
	if err != nil {
		if ctx.Err() != nil && !st.vm.Exited() {
			return &ConsoleError{Err: err, Tail: qemu.ConsoleTail(st.vm.ConsoleLog(), 15)}
		}
		return err
	}
	if st.client != nil {
		st.client.Close()
	}
	c.PTY = st.source.SSHPty
	if st.source.SSHAgentAuth && !st.source.SSHDisableAgentForwarding {
		if err := c.ForwardAgent(st.agent); err != nil {
			c.Close()
			return err
		}
	}
	st.client = c
	return nil
}
