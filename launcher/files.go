package launcher

import (
	"path/filepath"

	"github.com/clawimg/clawimg/launcher/hostnet"
)

// The files of an instance, all in its directory (Record.Dir), named in
// this one place. QEMU's own (pidfile, QMP socket, console, stderr) are
// internal/qemu's; the broker's and the proxy's (key, settings, logs) are
// hostnet's.
const (
	recordFile = "instance.json" // the Record
	keyFile    = "id_ed25519"    // clawimg's private key for the instance
	// DiskFile is a qemu instance's overlay (and a warm VM's).
	DiskFile = "disk.qcow2"
	// SeedFile is its NoCloud seed, removed once QEMU has it.
	SeedFile = "seed.iso"
	// EFIVarsFile is the UEFI variable store of an instance of an image
	// that boots through UEFI.
	EFIVarsFile = "efivars.fd"
)

// Path is the named file of the instance (one of the names above).
func (r *Record) Path(name string) string { return filepath.Join(r.Dir, name) }

// KeyPath is the instance's private key, for ssh -i.
func (r *Record) KeyPath() string { return r.Path(keyFile) }

// apiKeyPath is where a qemu instance's API key is kept on the host.
func (r *Record) apiKeyPath() string { return r.Path(hostnet.KeyFile) }
