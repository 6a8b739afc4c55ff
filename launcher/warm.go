package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/atomicfile"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

// Warmer is a driver that keeps a running, ready VM as a warm state and
// starts instances from one instead of booting them (the qemu driver; the
// others always boot cold). The Manager does the rest: the throwaway
// identity, readiness, quiescing, storing, and each instance's renewal.
type Warmer interface {
	// WarmMachine is the machine this host's warm VMs of that size run on:
	// a state is restored only on the very machine it was saved on.
	WarmMachine(ctx context.Context, cpus, memMiB int, disk int64) (WarmMachine, error)
	// BootWarm boots a warm step's VM from spec on machine. It is not
	// detached: it dies with clawimg.
	BootWarm(ctx context.Context, spec *Spec, machine WarmMachine) (WarmVM, error)
	// Restore starts an instance from a warm state's files on its machine
	// and returns once the guest runs, still with the warm VM's identity.
	Restore(ctx context.Context, spec *Spec, machine WarmMachine, state *images.UnpackedWarm) error
	// Agent is a channel to a running guest that needs no network, on
	// which identity is renewed and a warm VM quiesced.
	Agent(ctx context.Context, rec *Record) (GuestAgent, error)
}

// WarmVM is a warm step's running VM.
type WarmVM interface {
	// Save saves the running VM's device state and memory into memory and
	// ends it; its disk delta, rebased on backing (the store's copy of the
	// image's base), is returned.
	Save(ctx context.Context, memory, backing string) (disk string, err error)
	Kill()
}

// GuestAgent runs commands as root in a guest (QEMU's guest agent).
type GuestAgent interface {
	Exec(ctx context.Context, path string, args []string, input []byte) (*qemu.ExecResult, error)
	Close() error
}

// DefaultWarmDriver is the driver warm states are made with.
const DefaultWarmDriver = "qemu"

// DefaultWarmStarts bounds how often a warm step starts the gateway again
// after it gave up (systemd's own restarts come on top): under emulation a
// start can miss OpenClaw's fixed 5 s start-up deadline.
const DefaultWarmStarts = 4

// WarmMachine is the machine a warm state is restored on: QEMU's exact
// machine plus the disk size the VM saw. Launches match it field by field.
type WarmMachine struct {
	qemu.Machine
	DiskBytes int64 `json:"disk_bytes"`
}

// What a warm VM must reach before it is saved (WarmOptions.Ready).
const (
	ReadyGateway = "gateway"
	ReadySSH     = "ssh"
)

// CheckReady says whether ready is a readiness a warm VM can be saved at.
func CheckReady(ready string) error {
	if ready != ReadyGateway && ready != ReadySSH {
		return fmt.Errorf("%q: want %s or %s", ready, ReadyGateway, ReadySSH)
	}
	return nil
}

// ErrGatewayDidNotStart is a warm VM whose OpenClaw gateway did not become
// ready in the starts it was given.
var ErrGatewayDidNotStart = errors.New("the OpenClaw gateway did not become ready")

// WarmOptions say what to warm.
type WarmOptions struct {
	Image     string // NAME[:TAG] or digest; default openclaw:latest
	Driver    string // one that is a Warmer; default DefaultWarmDriver
	CPUs      int
	MemoryMiB int
	DiskBytes int64
	Timeout   time.Duration // until ready, per gateway start
	Starts    int           // gateway starts tried at most; 0: DefaultWarmStarts
	// Ready is what the VM must reach before it is saved: ReadyGateway
	// (the default: the OpenClaw gateway healthy, so instances start with it
	// running) or ReadySSH (booted, SSH up, cloud-init done: instances skip
	// the boot but start the gateway themselves, for hosts too slow for
	// OpenClaw's start-up deadline).
	Ready    string
	Progress func(string)
	Bytes    images.ProgressFunc // a pull, the first unpack, storing the state
}

// Warmed is what Warm made.
type Warmed struct {
	Image      string
	Digest     string
	State      *images.WarmState
	Machine    WarmMachine
	ReadyAfter time.Duration // boot until ready
	Attempts   int           // gateway starts it took (0: no gateway, or not waited for)
	Ready      string        // what the VM had reached: ReadyGateway or ReadySSH
	// Settled is how long the gateway took to settle before the VM was
	// saved (0: not waited for); Busy, that it was saved still busy.
	Settled time.Duration
	Busy    bool
	// Rehearsed is how long the warm VM's gateway took to take the
	// rehearsal's token (see rehearse).
	Rehearsed time.Duration
	Took      time.Duration
	// Throwaway is the warm VM's own identity, which no instance restored
	// from the state keeps (none of it is secret).
	Throwaway Throwaway
}

// Throwaway is the identity a warm VM had when it was saved.
type Throwaway struct {
	Hostname, MachineID, HostKey string
}

// Warm boots an image once with a throwaway identity, waits until it is
// ready (for OpenClaw images: the gateway healthy), and saves the running
// VM into the store as a warm state, which later launches restore instead
// of booting. The state holds no secret: the VM had no API key, and its
// gateway token and keys are replaced in every instance restored from it.
// An interrupted warm stores nothing (its VM dies with it).
func (m *Manager) Warm(ctx context.Context, o WarmOptions) (*Warmed, error) {
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if o.Ready == "" {
		o.Ready = ReadyGateway
	}
	if err := CheckReady(o.Ready); err != nil {
		return nil, fmt.Errorf("warm: unknown readiness %w", err)
	}
	d, wr, err := m.warmer(o.Driver)
	if err != nil {
		return nil, err
	}
	ref := o.Image
	if ref == "" {
		ref = DefaultImage
	}
	details, err := m.image(ctx, ref, progress, o.Bytes)
	if err != nil {
		return nil, err
	}
	machine, err := wr.WarmMachine(ctx, o.CPUs, o.MemoryMiB, max(o.DiskBytes, details.VirtualSize))
	if err != nil {
		return nil, err
	}
	machine.Firmware = details.Firmware // the image's, not the host's
	progress("unpack " + details.Ref())
	base, _, err := m.store.Base(ctx, details.Digest, o.Bytes)
	if err != nil {
		return nil, err
	}
	dir, err := m.warmDir(ctx, d)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rec := &Record{Name: "clawimg-warm", Driver: d.Name(), Image: details.Ref(), Digest: details.Digest,
		User: details.DefaultUser, Firmware: details.Firmware, CPUs: machine.CPUs, MemoryMiB: machine.MemoryMiB, DiskBytes: machine.DiskBytes,
		Accel: machine.Accel, Dir: dir}
	if rec.User == "" {
		rec.User = "ubuntu"
	}
	vm, warmID, err := m.bootWarm(ctx, wr, rec, base, machine, progress)
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	booted := time.Now()
	attempts, err := m.warmReady(ctx, d, rec, o, progress)
	if err != nil {
		return nil, err
	}
	readyAfter := time.Since(booted)
	progress("quiesce")
	var settled, rehearsed time.Duration
	var busy bool
	if _, err := runInWarm(ctx, wr, rec, "quiesce", dropScript, warmID.GatewayToken+"\n"); err != nil {
		return nil, err
	}
	if o.Ready == ReadyGateway && attempts > 0 { // a gateway, ready: it will take a token by hot reload
		// OpenClaw works on for minutes after it answers ready (measured
		// under TCG: ~1.6 CPUs for ~165 s); the rehearsal's reload, after
		// it, has a little more. Neither is carried into the instances.
		progress("wait for the gateway to settle")
		settled, busy = m.settle(ctx, wr, rec, settleAfterReady)
		progress("rehearse an instance's renewal")
		if rehearsed, err = rehearse(ctx, wr, rec, warmID); err != nil {
			return nil, err
		}
		progress("wait for the gateway to settle")
		again, stillBusy := m.settle(ctx, wr, rec, settleAfterReload)
		settled, busy = settled+again, stillBusy
	}
	throwaway, err := zeroFree(ctx, wr, rec)
	if err != nil {
		return nil, err
	}
	progress("save the running VM")
	mem := filepath.Join(dir, "memory")
	disk, err := vm.Save(ctx, mem, m.store.WarmBacking(details.Digest))
	if err != nil {
		return nil, err
	}
	progress("store the warm state")
	st, err := m.store.SaveWarm(ctx, images.SaveWarmOptions{
		Image: details.Digest, Machine: machine, MemoryPath: mem, DiskPath: disk,
		ReadyAfter: readyAfter, Attempts: attempts, Ready: o.Ready, Guest: warmGuest().id(), Progress: o.Bytes,
		Replaces: sameMachine(machine), Keep: true, // the first launch restores them as they are
	})
	if err != nil {
		return nil, err
	}
	return &Warmed{Image: details.Ref(), Digest: details.Digest, State: st, Machine: machine,
		ReadyAfter: readyAfter, Attempts: attempts, Ready: o.Ready, Settled: settled, Busy: busy, Rehearsed: rehearsed, Took: time.Since(start), Throwaway: throwaway}, nil
}

// warmer is the named driver (default DefaultWarmDriver) as a Warmer.
func (m *Manager) warmer(name string) (Driver, Warmer, error) {
	if name == "" {
		name = DefaultWarmDriver
	}
	d, err := m.driver(name)
	if err != nil {
		return nil, nil, err
	}
	wr, ok := d.(Warmer)
	if !ok {
		return nil, nil, fmt.Errorf("warm: the %s driver cannot keep warm states", name)
	}
	return d, wr, nil
}

// sameMachine says whether a stored state was saved on machine: a new
// state replaces the image's state of the same machine only.
func sameMachine(machine WarmMachine) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var old WarmMachine
		return json.Unmarshal(raw, &old) == nil && old == machine
	}
}

// warmDir makes a private directory for one warm VM under
// $CLAWIMG_HOME/warming, and removes what killed warms left there (their
// VMs died with them: warm VMs are not detached).
func (m *Manager) warmDir(ctx context.Context, d Driver) (string, error) {
	parent := filepath.Join(m.cfg.Home, "warming")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		dir := filepath.Join(parent, e.Name())
		if st, err := d.State(ctx, &Record{Dir: dir}); err == nil && st == StateStopped {
			if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.RemoveAll(dir)
			}
		}
	}
	return os.MkdirTemp(parent, "warm-*")
}

// bootWarm starts the throwaway VM, whose identity it returns: a seed
// with a throwaway key and gateway token and no API key, the warm machine.
func (m *Manager) bootWarm(ctx context.Context, wr Warmer, rec *Record, base string, machine WarmMachine, progress func(string)) (WarmVM, identity, error) {
	kp, err := guest.NewKeyPair("clawimg-warm")
	if err != nil {
		return nil, identity{}, err
	}
	if err := atomicfile.WriteFile(rec.KeyPath(), kp.PrivatePEM, 0o600); err != nil {
		return nil, identity{}, err
	}
	// The warm VM's guest is set up as an instance with the default egress
	// is, so that its gateway starts with the environment those instances
	// need; its broker has no key and its proxy lets nothing through.
	if len(m.cfg.Helper) == 0 {
		return nil, identity{}, errors.New("launcher: no guestfwd helper configured (Config.Helper)")
	}
	rec.Egress = hostnet.EgressNone
	if err := writeHostnet(rec.Dir, hostnet.Config{Instance: rec.Name, Egress: hostnet.EgressNone}, nil, ""); err != nil {
		return nil, identity{}, err
	}
	id := warmIdentity(rec, []string{kp.AuthorizedKey})
	ud, err := makeUserData(userDataSpec{Hostname: id.Hostname, User: id.User, Keys: id.Keys, Env: id.Env, Endpoints: id.Endpoints})
	if err != nil {
		return nil, identity{}, err
	}
	progress("boot " + rec.Image + " (" + machine.Accel + ")")
	spec := &Spec{Record: *rec, Base: base, UserData: ud, Key: kp.PrivatePEM}
	vm, err := wr.BootWarm(ctx, spec, machine)
	if err != nil {
		return nil, identity{}, err
	}
	*rec = spec.Record // with its SSH port
	return vm, id, nil
}

// warmIdentity is a throwaway identity for the warm VM rec: a fresh
// gateway token, the guest setup of instances with the default egress.
func warmIdentity(rec *Record, keys []string) identity {
	gn := warmGuest()
	token := newGatewayToken()
	return identity{Hostname: rec.Name, User: rec.User, Keys: keys, GatewayToken: token,
		Env: gn.gatewayEnv(token, ""), Endpoints: gn.endpoints(), Guest: gn.id()}
}

// warmGuest is the guest setup of warm VMs: an instance's with the default
// egress.
func warmGuest() guestNet { return netFor(hostnet.EgressProxy) }

// warmReady waits until the warm VM is ready. An OpenClaw gateway that
// gave up (under emulation it can miss its 5 s start-up deadline) is
// started again, up to o.Starts times. It returns the starts it took.
func (m *Manager) warmReady(ctx context.Context, d Driver, rec *Record, o WarmOptions, progress func(string)) (int, error) {
	starts := o.Starts
	if starts <= 0 {
		starts = DefaultWarmStarts
	}
	// Starts counts every start of the gateway: ours, and systemd's own
	// restarts after a failed start (its NRestarts, reset by ours), so the
	// budget is spent as starts fail rather than in whole time-outs.
	total := 0
	for {
		gw, err := m.waitReady(ctx, d, rec, readyWait{Timeout: o.Timeout, MaxRestarts: starts - total - 1, SkipGateway: o.Ready == ReadySSH}, progress)
		if err == nil {
			if !gw.Installed {
				return 0, nil
			}
			return total + 1 + gw.restarts(), nil // the starts that failed, and this one
		}
		total += gw.failedStarts()
		var nr *NotReadyError
		if !errors.As(err, &nr) || nr.Stage != "gateway" || ctx.Err() != nil {
			return 0, err
		}
		if total >= starts {
			return 0, fmt.Errorf("%w in %d start(s) (last: %s); no warm state was saved", ErrGatewayDidNotStart, total, nr.Detail)
		}
		progress(fmt.Sprintf("the gateway did not start (%s); start %d of %d", nr.Detail, total+1, starts))
		restart := `u=$(id -u openclaw); runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$u sh -c 'systemctl --user reset-failed ` +
			gatewayUnit + `; systemctl --user restart --no-block ` + gatewayUnit + `'`
		if code, err := d.Exec(ctx, rec, []string{"sudo", "-n", "sh", "-c", restart}, nil, nil, nil); err != nil || code != 0 {
			return 0, fmt.Errorf("restart the gateway: exit %d: %v", code, err)
		}
	}
}

// dropScript is the first part of quiescing a warm VM: cloud-init's
// copies of the throwaway user-data (the token is on stdin, first line)
// are deleted and the page cache is dropped.
const dropScript = `set -eu
read -r token
printf '%s\n' "$token" | { grep -rlF -f - /var/lib/cloud /run/cloud-init 2>/dev/null || true; } | xargs -r rm -f
sync
echo 3 > /proc/sys/vm/drop_caches
`

// rehearse renews the warm VM's identity once more, with another
// throwaway one, exactly as every instance's is renewed after a restore.
// What that renewal needs is then already in the saved VM, not loaded in
// each instance from a cold disk under emulation: the gateway's code for
// a hot reload of its token (imported and compiled on first use), and the
// page cache of the programs the renewal runs.
func rehearse(ctx context.Context, wr Warmer, rec *Record, boot identity) (time.Duration, error) {
	id := warmIdentity(rec, boot.Keys)
	out, err := reidentify(ctx, wr, rec, id, nil)
	if err != nil {
		return 0, fmt.Errorf("rehearse the renewal: %w", err)
	}
	token, _ := readRenewal(out)
	return token, nil
}

// settleScript waits, up to $1 seconds, until the gateway's service has
// used under 0.3 of a CPU over the last 10 seconds (its cgroup's CPU
// time), and prints how long that took. Right after it answers ready,
// and after the rehearsal's token reload, OpenClaw goes on working for a
// while (plugins, sidecars, catalog refreshes, maintenance: ~1.8 CPUs for
// ~30 s after ready here); a VM saved then would hand that work to every
// instance restored from it, where it competes with the instance's first
// use for the guest's CPUs. An idle gateway is not at zero under TCG:
// measured in 10-s steps over 5 minutes, 0.05-0.2 of a CPU, with single
// steps up to 0.6 (timers, the plugin feed), so a stricter threshold (a
// tenth of a CPU for 10 s) was never met and every warm waited its whole
// limit. (Settling is not what makes the token's hot reload slow: measured
// from states saved busy and settled alike, OpenClaw's reload itself takes
// most of it.)
var settleScript = `u=$(id -u openclaw 2>/dev/null) || { echo settle=no-gateway; exit 0; }
pid=$(runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$u systemctl --user show ` + gatewayUnit + ` -p MainPID --value 2>/dev/null)
cg=/sys/fs/cgroup$(cut -d: -f3 /proc/"$pid"/cgroup 2>/dev/null | head -n 1)
[ -n "$pid" ] && [ "$pid" != 0 ] && [ -f "$cg/cpu.stat" ] || { echo settle=no-gateway; exit 0; }
usage() { awk '$1 == "usage_usec" {print $2}' "$cg/cpu.stat"; }
limit=$1; t0=$(date +%s%N); last=""
# last: the cgroup's CPU time (µs) at each of the last 11 seconds.
while [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt "$limit" ]; do
  last=$(echo $last $(usage) | awk '{for (i = (NF > 11 ? NF - 10 : 1); i <= NF; i++) printf "%s ", $i}')
  if echo $last | awk '{exit !(NF == 11 && $11 - $1 < 3000000)}'; then echo "settled_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"; exit 0; fi
  sleep 1
done
echo settle=busy`

// How long a warm step waits at most for its gateway to settle: after
// the first ready (its post-ready work), and after the rehearsal's reload.
const (
	settleAfterReady  = 5 * time.Minute
	settleAfterReload = time.Minute
)

// settle waits, at most limit, for the warm VM's gateway to settle
// (settleScript) and returns how long it waited, and whether the gateway
// was still busy. A busy gateway is saved anyway: it works, only its
// instances start with that work still to do.
func (m *Manager) settle(ctx context.Context, wr Warmer, rec *Record, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	out, err := runInWarmFor(ctx, wr, rec, "settle", settleScript, "", limit+30*time.Second, strconv.Itoa(int(limit/time.Second)))
	if err != nil {
		m.log.Warn("warm: could not watch the gateway settle", "err", err)
		return 0, false
	}
	return time.Since(start), keyValues(out).get("settle") == "busy"
}

// zeroScript is the last part of quiescing: the free memory is zeroed
// (the kernel zeroes each page it hands to dd, and dd takes only free
// memory, so the page cache stays), so the saved memory is what the guest
// uses; then it prints the identity the VM is saved with.
const zeroScript = `set -eu
free=$(awk '/^MemFree:/ {print int($2/1024)}' /proc/meminfo)
if [ "$free" -gt 192 ]; then dd if=/dev/zero of=/dev/null bs=$((free - 128))M count=1 status=none 2>/dev/null || true; fi
echo "hostname=$(hostname)"
echo "machine-id=$(cat /etc/machine-id)"
echo "host-key=$(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)"
`

// zeroFree runs zeroScript and returns the identity the warm VM is saved
// with.
func zeroFree(ctx context.Context, wr Warmer, rec *Record) (Throwaway, error) {
	out, err := runInWarm(ctx, wr, rec, "quiesce", zeroScript, "")
	if err != nil {
		return Throwaway{}, err
	}
	kv := keyValues(out)
	return Throwaway{Hostname: kv.get("hostname"), MachineID: kv.get("machine-id"), HostKey: kv.get("host-key")}, nil
}

// runInWarm runs script as root in the warm VM through the guest agent,
// input on its stdin, and returns its stdout.
func runInWarm(ctx context.Context, wr Warmer, rec *Record, op, script, input string) (string, error) {
	return runInWarmFor(ctx, wr, rec, op, script, input, 2*time.Minute)
}

// runInWarmFor is runInWarm with a time limit of its own, and arguments
// for the script.
func runInWarmFor(ctx context.Context, wr Warmer, rec *Record, op, script, input string, limit time.Duration, args ...string) (string, error) {
	dctx, dcancel := context.WithTimeout(ctx, 45*time.Second)
	defer dcancel()
	a, err := wr.Agent(dctx, rec)
	if err != nil {
		return "", fmt.Errorf("%s: %w (warm launch needs qemu-guest-agent in the image)", op, err)
	}
	defer a.Close()
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return runScript(actx, a, op, script, input, args...)
}

// runScript runs script as root through the guest agent a, input on its
// stdin, and returns its stdout; errors, and a script that fails, are
// reported as op's.
func runScript(ctx context.Context, a GuestAgent, op, script, input string, args ...string) (string, error) {
	res, err := a.Exec(ctx, "/bin/sh", append([]string{"-c", script, "sh"}, args...), []byte(input))
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if res.Code != 0 {
		return "", fmt.Errorf("%s: exit status %d: %s", op, res.Code, strings.TrimSpace(string(res.Stderr)))
	}
	return string(res.Stdout), nil
}
