package qemu

import (
	"log/slog"

	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clawimg/clawimg/internal/command"
)

// Config describes one VM.
type Config struct {
	Binary    string // qemu-system-x86_64 or qemu-system-aarch64
	Accel     string // kvm, hvf or tcg (already resolved)
	CPUs      int
	MemoryMiB int
	Disk      string // qcow2 file
	// MoreDisks are qcow2 files attached after Disk, alike.
	MoreDisks []string
	DiskIf    string // virtio (default), ide, scsi ...
	// DiskCache, DiskDiscard and DiskDetectZeroes are the disk's cache=,
	// discard= and detect-zeroes= (defaults: QEMU's, unmap, unmap).
	DiskCache, DiskDiscard, DiskDetectZeroes string
	// Sockets, Cores and Threads, when set, are the -smp topology.
	Sockets, Cores, Threads int
	Seed                    string // NoCloud ISO, optional
	// CDROMs are read-only CD-ROM images attached before the seed, in
	// order: an installer ISO first, so that BootOnce "d" boots it.
	CDROMs []string
	// Floppy is a raw floppy image on the first floppy drive, optional.
	Floppy string
	// TPM connects an emulated TPM (swtpm) to the VM, optional.
	TPM *TPM
	// UserQMP is one more QMP monitor, at this socket, for the user
	// (Packer's qmp_enable); clawimg keeps its own.
	UserQMP string
	// BootOnce is QEMU's -boot once= drive letter ("d": the first CD-ROM)
	// for the first boot only; a reboot boots the disk.
	BootOnce  string
	NetDevice string // virtio-net (default)
	SSHPort   int    // host port forwarded to the guest's 22 on 127.0.0.1
	Dir       string // where the console log, pidfile and QMP socket go
	// Log receives the command line at debug level; may be nil.
	Log         *slog.Logger
	MachineType string
	// UUID is the VM's SMBIOS UUID. systemd derives a fresh machine-id from
	// it, so every instance needs its own: QEMU's default is the same for all.
	UUID      string
	ExtraArgs [][]string
	// Detached starts QEMU in its own session so it outlives the caller.
	Detached bool
	// CPUModel overrides the CPU model chosen from the accelerator. Warm
	// states name one, so that a state restores on any host with the same
	// QEMU ("host" differs between machines).
	CPUModel string
	// GuestAgent adds a virtio-serial port for the QEMU guest agent, its
	// host end a socket in Dir: a channel into the guest that needs no
	// network (warm launches renew the guest's identity through it).
	GuestAgent bool
	// VMGenID adds a VM generation ID device with a GUID new at every QEMU
	// start: a restored Linux guest reseeds its RNG when it changes.
	VMGenID bool
	// Incoming is an open file holding a saved VM (QMP migrate) that QEMU
	// restores instead of booting; it is handed over as fd 3.
	Incoming *os.File
	// Restrict cuts the guest off from everything but SSHPort and its
	// Guestfwds (the user network's restrict=on): no internet, no host, no
	// DNS.
	Restrict bool
	// Guestfwds hand every guest TCP connection to an address of the user
	// network to a new host process.
	Guestfwds []Guestfwd
	// EFI boots the VM through UEFI firmware in flash devices; nil boots
	// the machine's BIOS.
	EFI *EFI
	// BIOS is a firmware file for -bios (Packer's firmware), instead of
	// QEMU's own; with BIOSPflash, a read-only flash device instead
	// (Packer's use_pflash).
	BIOS       string
	BIOSPflash bool
}

// Guestfwd makes QEMU start Argv, with the connection as its standard
// input and output, for each guest connection to Addr ("IP:PORT").
type Guestfwd struct {
	Addr string
	Argv []string
}

// Files of a VM in its directory.
func (c Config) ConsoleLog() string { return filepath.Join(c.Dir, "console.log") }
func (c Config) PIDFile() string    { return filepath.Join(c.Dir, "qemu.pid") }
func (c Config) QMPSocket() string  { return filepath.Join(c.Dir, "qmp.sock") }
func (c Config) StderrLog() string  { return filepath.Join(c.Dir, "qemu.stderr") }
func (c Config) QGASocket() string  { return filepath.Join(c.Dir, "qga.sock") }

// Args is the QEMU command line for c.
func (c Config) Args() []string {
	accel := c.Accel
	if accel == TCG {
		accel = "tcg,thread=multi"
	}
	cpu := "max"
	if c.Accel == KVM || c.Accel == HVF {
		cpu = "host"
	}
	if c.CPUModel != "" {
		cpu = c.CPUModel
	}
	diskIf := c.DiskIf
	if diskIf == "" || diskIf == "virtio" {
		diskIf = "virtio"
	}
	nic := c.NetDevice
	if nic == "" || nic == "virtio-net" {
		nic = "virtio-net-pci"
	}
	args := []string{
		"-name", filepath.Base(c.Dir),
		"-accel", accel, "-cpu", cpu,
		"-smp", c.smp(), "-m", strconv.Itoa(c.MemoryMiB),
		"-nodefaults", "-display", "none", "-vga", "none",
		"-serial", "file:" + c.ConsoleLog(),
		"-pidfile", c.PIDFile(),
		"-qmp", "unix:" + c.QMPSocket() + ",server=on,wait=off",
		"-drive", "file=" + c.Disk + ",format=qcow2,if=" + diskIf + c.diskOptions(),
		"-netdev", c.netdev(),
		"-device", nic + ",netdev=net0",
		"-device", "virtio-rng-pci",
	}
	if c.UserQMP != "" {
		args = append(args, "-qmp", "unix:"+strings.ReplaceAll(c.UserQMP, ",", ",,")+",server=on,wait=off")
	}
	for _, d := range c.MoreDisks {
		args = append(args, "-drive", "file="+d+",format=qcow2,if="+diskIf+c.diskOptions())
	}
	args = append(args, c.firmwareArgs()...)
	if c.UUID != "" {
		args = append(args, "-uuid", c.UUID)
	}
	if c.MachineType != "" {
		args = append(args, "-machine", c.MachineType)
	}
	for _, cd := range append(slices.Clone(c.CDROMs), c.Seed) {
		if cd != "" {
			args = append(args, "-drive", "file="+cd+",format=raw,media=cdrom,readonly=on")
		}
	}
	if c.Floppy != "" {
		args = append(args, "-drive", "file="+c.Floppy+",format=raw,if=floppy,index=0")
	}
	if c.TPM != nil {
		dev := c.TPM.Device
		if dev == "" {
			dev = "tpm-tis"
		}
		args = append(args, "-chardev", "socket,id=chrtpm,path="+c.TPM.Socket,
			"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", dev+",tpmdev=tpm0")
	}
	if c.BootOnce != "" {
		args = append(args, "-boot", "once="+c.BootOnce)
	}
	if c.GuestAgent {
		args = append(args, "-device", "virtio-serial-pci,id=vser0",
			"-chardev", "socket,id=qga0,path="+c.QGASocket()+",server=on,wait=off",
			"-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0")
	}
	if c.VMGenID {
		args = append(args, "-device", "vmgenid,guid=auto")
	}
	if c.Incoming != nil {
		args = append(args, "-incoming", "fd:3")
	}
	for _, a := range c.ExtraArgs {
		args = append(args, a...)
	}
	return args
}

// smp is -smp: the CPUs, and the topology when one is set.
func (c Config) smp() string {
	s := strconv.Itoa(max(c.CPUs, 1))
	for _, t := range []struct {
		name string
		n    int
	}{{"sockets", c.Sockets}, {"cores", c.Cores}, {"threads", c.Threads}} {
		if t.n > 0 {
			s += "," + t.name + "=" + strconv.Itoa(t.n)
		}
	}
	return s
}

// diskOptions are the disk's -drive options after its interface.
func (c Config) diskOptions() string {
	discard, zeroes := c.DiskDiscard, c.DiskDetectZeroes
	if discard == "" {
		discard = "unmap"
	}
	if zeroes == "" {
		zeroes = "unmap"
	}
	if zeroes == "unmap" && discard != "unmap" {
		zeroes = "on" // QEMU refuses detect-zeroes=unmap without discard=unmap
	}
	s := ",discard=" + discard + ",detect-zeroes=" + zeroes
	if c.DiskCache != "" {
		s += ",cache=" + c.DiskCache
	}
	return s
}

// netdev is the user network: SSH forwarded from the host's loopback, and
// the restriction and guest forwards asked for.
func (c Config) netdev() string {
	nd := fmt.Sprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22", c.SSHPort)
	if c.Restrict {
		nd += ",restrict=on"
	}
	for _, g := range c.Guestfwds {
		words := make([]string, len(g.Argv))
		for i, a := range g.Argv {
			words[i] = shellQuote(a)
		}
		// QEMU's option syntax doubles a comma inside a value; libslirp
		// splits the command as a shell would (g_shell_parse_argv).
		nd += ",guestfwd=tcp:" + g.Addr + "-cmd:" + strings.ReplaceAll(strings.Join(words, " "), ",", ",,")
	}
	return nd
}

// shellQuote quotes s for a POSIX shell's word splitting.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// credentialName matches environment variables that may hold a secret.
var credentialName = regexp.MustCompile(`(?i)(key|token|secret|passw|credential|auth|cookie|session)|^(ANTHROPIC|OPENAI|AWS|GOOGLE|AZURE)_`)

// Environ is the environment QEMU runs with: the caller's without anything
// that may be a credential. QEMU's guestfwd helpers inherit it, and an API
// key given in ANTHROPIC_API_KEY has no business there.
func Environ(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !credentialName.MatchString(name) {
			out = append(out, kv)
		}
	}
	return out
}

// VM is a running QEMU.
type VM struct {
	Config
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start launches QEMU. Unless Detached, it is killed if ctx ends.
func Start(ctx context.Context, c Config) (*VM, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	command.Log(ctx, c.Log, c.Binary, c.Args())
	cmd := exec.Command(c.Binary, c.Args()...)
	cmd.Env = Environ(os.Environ())
	stderr, err := os.Create(c.StderrLog())
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if c.Incoming != nil {
		cmd.ExtraFiles = []*os.File{c.Incoming}
	}
	if c.Detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Own process group, so a ^C in the terminal reaches clawimg first
		// and clawimg shuts the VM down in order.
		cmd.SysProcAttr = attachedAttr()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Binary, err)
	}
	vm := &VM{Config: c, cmd: cmd, done: make(chan struct{})}
	go func() {
		vm.err = cmd.Wait()
		close(vm.done)
	}()
	// QEMU fails fast on a bad command line or a busy port.
	select {
	case <-vm.done:
		msg, _ := os.ReadFile(c.StderrLog())
		return nil, fmt.Errorf("qemu exited at start: %s", strings.TrimSpace(string(msg)))
	case <-time.After(300 * time.Millisecond):
	case <-ctx.Done():
		vm.Kill()
		return nil, ctx.Err()
	}
	return vm, nil
}

// PID of the QEMU process.
func (vm *VM) PID() int { return vm.cmd.Process.Pid }

// Done is closed when QEMU has exited.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.done:
		return true
	default:
		return false
	}
}

// Kill stops QEMU at once and waits for it.
func (vm *VM) Kill() {
	_ = vm.cmd.Process.Kill()
	<-vm.done
}

// Shutdown asks the guest to power off (ACPI), waits up to timeout, then
// kills QEMU. It reports whether the guest shut down by itself.
func (vm *VM) Shutdown(ctx context.Context, timeout time.Duration) bool {
	if !vm.Exited() {
		_ = QMP(ctx, vm.QMPSocket(), "system_powerdown")
	}
	return vm.Wait(ctx, timeout)
}

// Wait waits up to timeout for QEMU to exit by itself, then kills it. It
// reports whether QEMU exited by itself.
func (vm *VM) Wait(ctx context.Context, timeout time.Duration) bool {
	select {
	case <-vm.done:
		return true
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	vm.Kill()
	return false
}

// ConsoleTail returns the last n lines of the serial console.
func ConsoleTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TPM is an emulated TPM: swtpm's control socket, and QEMU's device for
// it (tpm-tis when empty; tpm-crb, or tpm-tis-device on arm64).
type TPM struct {
	Socket, Device string
}
