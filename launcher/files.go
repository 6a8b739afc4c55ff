package launcher

import (
	"path/filepath"

	"github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

// The files of an instance, all in its directory (Record.Dir), named in
// this one place. QEMU's own (pidfile, QMP socket, console, stderr) are
// internal/qemu's; the broker's and the proxy's (key, settings, logs) are
// hostnet's.
const (
	recordFile = "instance.json" // the Record
	keyFile    = "id_ed25519"    // clawimg's private key for the instance
	diskFile   = "disk.qcow2"    // a qemu instance's overlay
	seedFile   = "seed.iso"      // its NoCloud seed, removed once QEMU has it
)

func (r *Record) path(name string) string { return filepath.Join(r.Dir, name) }

// KeyPath is the instance's private key, for ssh -i.
func (r *Record) KeyPath() string { return r.path(keyFile) }

// qemuFiles names what QEMU writes in a qemu instance's directory.
func (r *Record) qemuFiles() qemu.Config { return qemu.Config{Dir: r.Dir} }

// apiKeyPath is where a qemu instance's API key is kept on the host.
func (r *Record) apiKeyPath() string { return r.path(hostnet.KeyFile) }
