package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/atomicfile"
	"github.com/clawimg/clawimg/internal/guest"
)

// Manager launches and manages instances.
type Manager struct {
	cfg     Config
	store   *images.Store
	log     *slog.Logger
	drivers map[string]Factory
}

// NewManager makes a manager over the store, with the driver table.
func NewManager(cfg Config, store *images.Store, log *slog.Logger, drivers map[string]Factory) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Log == nil {
		cfg.Log = log
	}
	return &Manager{cfg: cfg, store: store, log: log, drivers: drivers}
}

func (m *Manager) instancesDir() string { return filepath.Join(m.cfg.Home, "instances") }

// ErrNoInstance is returned for a name no instance has.
var ErrNoInstance = errors.New("no such instance")

// ErrNameTaken is returned when launching under a name in use.
var ErrNameTaken = errors.New("an instance with that name exists")

// Get reads an instance's record.
func (m *Manager) Get(name string) (*Record, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(m.instancesDir(), name, recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoInstance, name)
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("instance %s: %w", name, err)
	}
	return &r, nil
}

func (m *Manager) save(r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.Path(recordFile), b, 0o600)
}

func (m *Manager) driver(name string) (Driver, error) {
	f, ok := m.drivers[name]
	if !ok {
		return nil, unknownDriver(name, m.drivers)
	}
	return f(m.cfg)
}

func unknownDriver(name string, drivers map[string]Factory) error {
	var names []string
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Errorf("unknown driver %q: use %s", name, strings.Join(names, " or "))
}

// Defaults of a launch: what the OpenClaw gateway runs well in.
const (
	DefaultMemoryMiB = 4096
	DefaultDiskBytes = 20 << 30
)

// ErrNotPublicKey is a user's SSH key that is not one line of
// authorized_keys.
var ErrNotPublicKey = errors.New("the SSH key is not a public key (one line starting ssh- or ecdsa-)")

// LaunchOptions say what to launch.
type LaunchOptions struct {
	Image     string // NAME[:TAG] or digest; default openclaw:latest
	Name      string // empty: generated
	Driver    string
	CPUs      int
	MemoryMiB int   // 0: DefaultMemoryMiB
	DiskBytes int64 // 0: DefaultDiskBytes (never less than the image)
	// APIKey is the model provider's key. With the qemu driver it stays on
	// the host (the instance's broker adds it); with multipass it goes
	// into the VM.
	APIKey string
	// Egress is how a qemu instance reaches out: hostnet.EgressProxy (the
	// default), EgressNone or EgressOpen.
	Egress string
	// Allow adds HOST:PORT entries (hostnet.ParseAllow) to the proxy's
	// allowlist.
	Allow []string
	// ProviderURL is the upstream the broker forwards to; empty: Anthropic.
	ProviderURL string
	// CACert holds PEM certificates the broker trusts for the upstream.
	CACert    []byte
	SSHKey    string // a public key (authorized_keys line) the user logs in with
	CloudInit []byte
	NoWait    bool
	// Cold boots the image even when a warm state of it fits.
	Cold    bool
	Timeout time.Duration
	// Progress reports what the launch is doing, for the CLI; Bytes the
	// byte progress of its long steps (a pull, the first unpack of an
	// image, the multipass driver's copy of it).
	Progress func(string)
	Bytes    images.ProgressFunc
}

// Launched is the outcome of a launch.
type Launched struct {
	Record
	SSH     string
	Ready   time.Duration // from the start of the launch; 0 with NoWait
	Started time.Duration // until the VM was started
	// NotReady says what did not become ready in time ("gateway: ...")
	// when the VM itself works; the launch then returns the instance
	// and the CLI reports a failure.
	NotReady string
	// Gateway says the instance runs an OpenClaw gateway (known once
	// waited for: false with NoWait); Manager.Tunnel reaches it.
	Gateway bool
	// ColdReason says, in one line, why a cold boot was chosen over a warm
	// state ("" for warm launches and for --cold).
	ColdReason string
	// Restored and Renewed split a warm launch: QEMU loading the saved VM,
	// and the instance's identity put in place (then readiness follows);
	// Token is the part of Renewed the running gateway took to apply the
	// instance's token.
	Restored, Renewed, Token time.Duration
	// KeyInVM says the API key went into the VM (a driver without a
	// broker); HasKey that the instance was given one at all.
	KeyInVM, HasKey bool
	// known is what a warm start's renewal saw ready in the guest.
	known guestReadiness
}

// Launch makes and starts an instance, and waits until it is ready
// unless NoWait. A failed launch leaves nothing behind.
func (m *Manager) Launch(ctx context.Context, o LaunchOptions) (*Launched, error) {
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if o.Name != "" {
		if err := CheckName(o.Name); err != nil {
			return nil, err
		}
	}
	d, err := m.driver(o.Driver)
	if err != nil {
		return nil, err
	}
	memMiB, disk := o.MemoryMiB, o.DiskBytes
	if memMiB <= 0 {
		memMiB = DefaultMemoryMiB
	}
	if disk <= 0 {
		disk = DefaultDiskBytes
	}
	userKey := strings.TrimSpace(o.SSHKey)
	if userKey != "" && ((!strings.HasPrefix(userKey, "ssh-") && !strings.HasPrefix(userKey, "ecdsa-")) || strings.ContainsAny(userKey, "\r\n")) {
		return nil, ErrNotPublicKey
	}
	ref := o.Image
	if ref == "" {
		ref = DefaultImage
	}
	details, err := m.image(ctx, ref, progress, o.Bytes)
	if err != nil {
		return nil, err
	}
	name, dir, err := m.claim(o.Name)
	if err != nil {
		return nil, err
	}
	rec := Record{
		Name: name, Driver: d.Name(), Image: details.Ref(), Digest: details.Digest,
		Created: time.Now().UTC().Truncate(time.Second), User: details.DefaultUser, Firmware: details.Firmware,
		CPUs: o.CPUs, MemoryMiB: memMiB, DiskBytes: max(disk, details.VirtualSize), Dir: dir,
	}
	if u := d.Caps().LoginUser; u != "" {
		rec.User = u // Multipass logs in as ubuntu, whatever the image
	} else if rec.User == "" {
		rec.User = "ubuntu"
	}
	launched, err := m.launch(ctx, d, &rec, o, userKey, progress)
	if err != nil {
		_ = d.Delete(context.Background(), &rec)
		_ = m.store.Release(name)
		os.RemoveAll(dir)
		return nil, err
	}
	if !o.NoWait {
		gw, err := m.waitReady(ctx, d, &rec, readyWait{Timeout: o.Timeout, MaxRestarts: -1, Known: launched.known}, progress)
		launched.Gateway = gw.Installed
		if err != nil {
			var nr *NotReadyError
			if !errors.As(err, &nr) || !nr.Soft {
				return launched, err
			}
			launched.NotReady = nr.Stage + ": " + nr.Detail
		}
		launched.Ready = time.Since(start)
	}
	return launched, nil
}

// claim takes an instance's name (a generated one when name is empty) by
// making its directory, which is atomic: two launches never share one.
func (m *Manager) claim(name string) (string, string, error) {
	if err := os.MkdirAll(m.instancesDir(), 0o755); err != nil {
		return "", "", err
	}
	if name == "" {
		var err error
		if name, err = generateName(func(n string) bool { _, err := os.Stat(filepath.Join(m.instancesDir(), n)); return err == nil }); err != nil {
			return "", "", err
		}
	}
	dir := filepath.Join(m.instancesDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", "", fmt.Errorf("%w: %s", ErrNameTaken, name)
		}
		return "", "", err
	}
	return name, dir, nil
}

func (m *Manager) launch(ctx context.Context, d Driver, rec *Record, o LaunchOptions, userKey string, progress func(string)) (*Launched, error) {
	start := time.Now()
	if err := m.store.Hold(rec.Name, rec.Digest); err != nil {
		return nil, err
	}
	progress("unpack " + rec.Image)
	base, _, err := m.store.Base(ctx, rec.Digest, o.Bytes)
	if err != nil {
		return nil, err
	}
	kp, err := guest.NewKeyPair("clawimg-" + rec.Name)
	if err != nil {
		return nil, err
	}
	keys := []string{kp.AuthorizedKey}
	if userKey != "" {
		keys = append(keys, userKey)
	}
	token := newGatewayToken()
	gn, vmKey, err := m.prepareNet(d, rec, o)
	if err != nil {
		return nil, err
	}
	env := gn.gatewayEnv(token, vmKey)
	ud, err := makeUserData(userDataSpec{Hostname: rec.Name, User: rec.User, Keys: keys, Env: env, Endpoints: gn.endpoints(), Extra: o.CloudInit})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(rec.KeyPath(), kp.PrivatePEM, 0o600); err != nil {
		return nil, err
	}
	if err := m.save(rec); err != nil {
		return nil, err
	}
	spec := &Spec{Record: *rec, Base: base, UserData: ud, Key: kp.PrivatePEM, Bytes: o.Bytes}
	id := identity{Hostname: rec.Name, User: rec.User, Keys: keys, GatewayToken: token, Env: env, Endpoints: gn.endpoints(), Guest: gn.id()}
	w := &warmStart{ID: id}
	why := m.startWarm(ctx, d, spec, w, o, progress)
	if why != "" || o.Cold {
		progress("boot " + rec.Name)
		spec.Start = StartCold
		if err := d.Launch(ctx, spec); err != nil {
			return nil, err
		}
	}
	*rec = spec.Record
	if err := m.save(rec); err != nil {
		return nil, err
	}
	// w.Known is set only by a restore that succeeded.
	return &Launched{Record: *rec, SSH: d.SSH(rec), Started: time.Since(start), ColdReason: why,
		Restored: w.Restored, Renewed: w.Renewed, Token: w.Token, known: w.Known, KeyInVM: vmKey != "", HasKey: o.APIKey != ""}, nil
}

// startWarm restores the instance from a fitting warm state when the
// driver can. It returns "" when it did, else why not, in one line.
func (m *Manager) startWarm(ctx context.Context, d Driver, spec *Spec, w *warmStart, o LaunchOptions, progress func(string)) string {
	wr, ok := d.(Warmer)
	switch {
	case o.Cold:
		return ""
	case !ok:
		return "the " + d.Name() + " driver always boots cold"
	case len(bytes.TrimSpace(o.CloudInit)) > 0:
		return "extra cloud-init user-data runs at a first boot only"
	}
	st, machine, why := m.findWarm(ctx, wr, &spec.Record)
	if st == nil {
		return why
	}
	progress("unpack warm state " + images.ShortDigest(st.Digest))
	files, err := m.store.UnpackWarm(ctx, st, nil)
	if err != nil {
		return "the warm state cannot be used: " + err.Error()
	}
	progress("restore " + spec.Name + " from its warm state")
	w.Machine, w.Files = machine, files
	// A state saved with its gateway ready keeps it running: it takes the
	// instance's token by hot reload. One saved before (at ssh) has a
	// gateway still starting, restarted with the instance's identity.
	// So is one whose services started with another guest setup (their
	// environment names the endpoints).
	w.ID.RestartGateway = st.Config.Ready == ReadySSH || st.Config.Guest != w.ID.Guest
	// A gateway that was running when the state was saved (Attempts: its
	// starts) takes the token while the clock still lags.
	w.ID.ClockLast = !w.ID.RestartGateway && st.Config.Attempts > 0
	if err := m.restore(ctx, d, wr, spec, w); err != nil {
		m.log.Warn("warm launch failed", "instance", spec.Name, "err", err)
		os.Remove(spec.Path(DiskFile))
		return "the warm state did not restore: " + err.Error()
	}
	spec.Start = StartWarm
	return ""
}

// List returns every instance with its state, reconciled with reality
// (a VM that died shows stopped).
func (m *Manager) List(ctx context.Context) ([]Listed, error) {
	entries, err := os.ReadDir(m.instancesDir())
	if errors.Is(err, os.ErrNotExist) {
		return []Listed{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Listed{}
	for _, e := range entries {
		r, err := m.Get(e.Name())
		if err != nil {
			continue // a launch in progress, or not an instance
		}
		l := Listed{Name: r.Name, State: StateUnknown, Image: r.Image, Digest: r.Digest, Driver: r.Driver, IPv4: r.IPv4, Created: r.Created, Start: r.Start}
		if l.Start == "" {
			l.Start = StartCold // instances from before warm launch
		}
		if d, err := m.driver(r.Driver); err == nil {
			if st, err := d.State(ctx, r); err == nil {
				l.State = st
			}
			l.SSH = d.SSH(r)
		}
		out = append(out, l)
	}
	return out, nil
}

// Listed is one row of `clawimg list`.
type Listed struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Image   string    `json:"image"`
	Digest  string    `json:"digest"`
	Driver  string    `json:"driver"`
	IPv4    string    `json:"ipv4"`
	SSH     string    `json:"ssh"`
	Created time.Time `json:"created"`
	Start   string    `json:"start"` // warm or cold
}

func (m *Manager) withDriver(name string) (*Record, Driver, error) {
	r, err := m.Get(name)
	if err != nil {
		return nil, nil, err
	}
	d, err := m.driver(r.Driver)
	return r, d, err
}

// Exec runs argv in an instance and returns its exit status.
func (m *Manager) Exec(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	r, d, err := m.withDriver(name)
	if err != nil {
		return -1, err
	}
	return d.Exec(ctx, r, argv, stdin, stdout, stderr)
}

// Shell opens an interactive shell in an instance.
func (m *Manager) Shell(ctx context.Context, name string, stdin io.Reader, stdout, stderr io.Writer) error {
	r, d, err := m.withDriver(name)
	if err != nil {
		return err
	}
	return d.Shell(ctx, r, stdin, stdout, stderr)
}

// Stop stops instances cleanly.
func (m *Manager) Stop(ctx context.Context, names []string) error {
	return m.each(names, func(r *Record, d Driver) error { return d.Stop(ctx, r) })
}

// Start starts stopped instances.
func (m *Manager) Start(ctx context.Context, names []string) error {
	return m.each(names, func(r *Record, d Driver) error {
		if err := d.Start(ctx, r); err != nil {
			return err
		}
		return m.save(r)
	})
}

// Delete stops instances and removes everything of them on the host.
func (m *Manager) Delete(ctx context.Context, names []string, all bool) ([]string, error) {
	if all {
		list, err := m.List(ctx)
		if err != nil {
			return nil, err
		}
		names = nil
		for _, l := range list {
			names = append(names, l.Name)
		}
	}
	var deleted []string
	err := m.each(names, func(r *Record, d Driver) error {
		if err := d.Delete(ctx, r); err != nil {
			return err
		}
		if err := os.RemoveAll(r.Dir); err != nil {
			return err
		}
		deleted = append(deleted, r.Name)
		return m.store.Release(r.Name)
	})
	return deleted, err
}

// each applies fn to every named instance, all of them even when one fails.
func (m *Manager) each(names []string, fn func(*Record, Driver) error) error {
	var errs []error
	for _, n := range names {
		r, d, err := m.withDriver(n)
		if err == nil {
			err = fn(r, d)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
