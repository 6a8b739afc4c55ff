// Package launcher makes disposable instances from stored images, with a
// driver per hypervisor front-end, each in its own package: launcher/qemu
// (clawimg runs QEMU itself) and launcher/multipass (Canonical's Multipass
// CLI); launcher/drivers is the table of them. The Manager does what is
// common: names, the image's unpacked base, per-instance secrets, warm
// states, readiness and the instance registry.
package launcher

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/clawimg/clawimg/images"
)

// Driver runs instances on one hypervisor front-end.
type Driver interface {
	Name() string
	// Launch creates and starts an instance from a prepared spec.
	Launch(ctx context.Context, spec *Spec) error
	// State reports an instance's state: starting, running, stopped or unknown.
	State(ctx context.Context, rec *Record) (string, error)
	// Exec runs argv in the instance and returns its exit status.
	Exec(ctx context.Context, rec *Record, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	// Shell opens an interactive login shell.
	Shell(ctx context.Context, rec *Record, stdin io.Reader, stdout, stderr io.Writer) error
	Stop(ctx context.Context, rec *Record) error
	Start(ctx context.Context, rec *Record) error
	// Delete stops the instance and removes everything of it.
	Delete(ctx context.Context, rec *Record) error
	// SSH is a ready-to-paste command that logs into the instance.
	SSH(rec *Record) string
	// Copy copies a file or directory between the host and the instance.
	Copy(ctx context.Context, rec *Record, c Copy) error
	// Address is where the instance's sshd answers the host (the
	// instance's own key logs in there as rec.User).
	Address(ctx context.Context, rec *Record) (host string, port int, err error)
	// Caps says what the driver can do beyond this interface.
	Caps() Caps
}

// Caps is what a driver states it can do, so that nothing decides by a
// driver's name. (Warm states are the Warmer interface.)
type Caps struct {
	// Broker: the driver runs the instance's network itself, restricted,
	// with the key broker and the egress proxy on the host. Without it the
	// API key goes into the VM and the guest has the hypervisor's NAT.
	Broker bool
	// LoginUser is the user the driver always logs in as, whatever the
	// image says ("": the image's default user).
	LoginUser string
}

// ErrStopped is an operation that needs a running instance.
var ErrStopped = errors.New("the instance is not running")

// consoler is a driver that keeps an instance's serial console, whose last
// lines say why a VM did not become ready.
type consoler interface {
	Console(rec *Record) string
}

// DriverCaps is what the named driver of the table can do.
func DriverCaps(drivers map[string]Factory, name string) (Caps, error) {
	f, ok := drivers[name]
	if !ok {
		return Caps{}, unknownDriver(name, drivers)
	}
	d, err := f(Config{})
	if err != nil {
		return Caps{}, err
	}
	return d.Caps(), nil
}

// Copy is one copy between the host and an instance, with cp's rules: a
// destination that is a directory receives the source inside it, and a
// directory is copied only when Recursive.
type Copy struct {
	ToGuest   bool
	Host      string // the path on the host
	Guest     string // the path in the instance
	Recursive bool
}

// DefaultImage is what launch and warm take when no image is named.
const DefaultImage = "openclaw:latest"

// States an instance can be in.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateStopped  = "stopped"
	StateUnknown  = "unknown"
)

// Spec is everything a driver needs to launch one instance.
type Spec struct {
	Record
	// Base is the image's unpacked read-only raw disk.
	Base string
	// UserData is the instance's cloud-init user-data. It can hold the API
	// key: drivers never write it anywhere others can read, never pass it
	// on a command line, and remove any file holding it once the VM has it.
	UserData []byte
	// Key is the per-instance private key clawimg uses to reach the VM.
	Key []byte
	// Bytes reports the byte progress of a driver's long steps; may be nil.
	Bytes images.ProgressFunc
}

// Record is what clawimg remembers about an instance (instance.json).
type Record struct {
	Name      string    `json:"name"`
	Driver    string    `json:"driver"`
	Image     string    `json:"image"`
	Digest    string    `json:"digest"`
	Created   time.Time `json:"created"`
	User      string    `json:"user"`
	CPUs      int       `json:"cpus"`
	MemoryMiB int       `json:"memory_mib"`
	DiskBytes int64     `json:"disk_bytes"`
	Accel     string    `json:"accel,omitempty"`
	UUID      string    `json:"uuid,omitempty"` // SMBIOS UUID of a qemu instance
	SSHPort   int       `json:"ssh_port,omitempty"`
	IPv4      string    `json:"ipv4,omitempty"`
	// Start says whether the instance was restored from a warm state
	// (warm) or booted (cold).
	Start string `json:"start,omitempty"`
	// Firmware is the image's: "efi" boots it through UEFI, "" the BIOS.
	Firmware string `json:"firmware,omitempty"`
	// Egress is how a qemu instance reaches out (proxy, none or open: see
	// package hostnet); empty for instances with plain NAT and the key in
	// the VM (multipass, and qemu instances from before the broker).
	Egress string `json:"egress,omitempty"`
	// Dir holds the instance's files (disk, key, logs).
	Dir string `json:"dir"`
}

// Factory makes a driver.
type Factory func(cfg Config) (Driver, error)

// Config is what drivers are made with.
type Config struct {
	Home string // $CLAWIMG_HOME
	// MultipassBin is the multipass executable; empty means "multipass".
	MultipassBin string
	// ImageDir is where images handed to Multipass are kept: its daemon
	// cannot read /tmp or hidden directories.
	ImageDir string
	Accel    string
	// Log receives the drivers' debug lines (every command they run);
	// NewManager sets it to the manager's logger.
	Log *slog.Logger
	// Helper is the command QEMU runs to serve one guest connection to the
	// broker or the proxy ("clawimg guestfwd"); the kind and the instance's
	// directory are appended. Empty: qemu instances get plain NAT and no
	// broker.
	Helper []string
}
