package hcl

import (
	"net"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// decodeInstall reads what drives an installer: the typed boot command,
// the build's HTTP server and the extra CD-ROM.
func (ev *evaluator) decodeInstall(d *decoder, s *QEMUSource) {
	s.HTTPPortMin, s.HTTPPortMax = 8000, 9000 // Packer's defaults
	d.strList("boot_command", &s.BootCommand)
	decodeBootSteps(d, s)
	d.duration("boot_key_interval", &s.BootKeyInterval)
	if a, ok := d.attrs["boot_keygroup_interval"]; ok {
		var unused Duration
		d.duration("boot_keygroup_interval", &unused)
		d.warnf(a, "Argument ignored", "boot_keygroup_interval paces key groups of other builders' keyboards; QEMU's is typed key by key, boot_key_interval apart (Packer's qemu builder ignores it too).")
	}
	if (len(s.BootCommand) > 0 || len(s.BootSteps) > 0) && !d.has("boot_wait") {
		s.BootWait = Duration(10e9) // Packer's default, with a boot command
	}
	if a, ok := d.attrs["http_directory"]; ok {
		var dir string
		d.str("http_directory", &dir)
		if dir != "" {
			if ref, ok := ev.fileRef(d, a, dir); ok {
				if !ref.Dir {
					d.errorf(a, "Invalid value", "http_directory %s is a file, not a directory.", dir)
				} else {
					s.HTTPDirectory = &ref
				}
			}
		}
	}
	d.strMap("http_content", &s.HTTPContent)
	d.integer("http_port_min", &s.HTTPPortMin)
	d.integer("http_port_max", &s.HTTPPortMax)
	d.portRange(s.HTTPPortMin, s.HTTPPortMax, "http_port_min", "http_port_max")
	if a, ok := d.attrs["http_bind_address"]; ok {
		var addr string
		d.str("http_bind_address", &addr)
		// The server listens on the host's loopback only: the guest reaches
		// it through QEMU's user network, and nothing else needs to.
		if ip := net.ParseIP(addr); addr != "" && addr != "0.0.0.0" && (ip == nil || !ip.IsLoopback()) {
			d.warnf(a, "Argument ignored", "clawimg's build HTTP server listens on 127.0.0.1 only (the VM reaches it as {{ .HTTPIP }}), not on %s.", addr)
		}
	}
	s.CDFiles = ev.fileRefs(d, "cd_files", true, fileOrDir)
	d.strMap("cd_content", &s.CDContent)
	ev.decodeFloppy(d, s)
	d.str("cd_label", &s.CDLabel)
	if a, ok := d.attrs["cd_label"]; ok && len(s.CDLabel) > 32 {
		d.errorf(a, "Invalid value", "cd_label is at most 32 characters (an ISO 9660 volume label).")
	}
}

// attrOf is the first of the named attributes the block sets.
func attrOf(d *decoder, names ...string) *hcl2.Attribute {
	for _, n := range names {
		if a, ok := d.attrs[n]; ok {
			return a
		}
	}
	return nil
}

// decodeFloppy reads the floppy's files, directories, content and label.
func (ev *evaluator) decodeFloppy(d *decoder, s *QEMUSource) {
	s.FloppyFiles = ev.fileRefs(d, "floppy_files", true, fileOrDir)
	s.FloppyDirs = ev.fileRefs(d, "floppy_dirs", true, dirOnly)
	d.strMap("floppy_content", &s.FloppyContent)
	d.str("floppy_label", &s.FloppyLabel)
	if a, ok := d.attrs["floppy_label"]; ok && len(s.FloppyLabel) > 11 {
		d.errorf(a, "Invalid value", "floppy_label is at most 11 characters (a FAT volume label).")
	}
}

// decodeBootSteps reads boot_steps: the boot command as steps, each a
// command and, optionally, what it does (said as it is typed).
func decodeBootSteps(d *decoder, s *QEMUSource) {
	a, ok := d.attrs["boot_steps"]
	if !ok {
		return
	}
	var rows [][]string
	d.strLists("boot_steps", &rows)
	for i, r := range rows {
		if len(r) < 1 || len(r) > 2 {
			d.errorf(a, "Invalid value", "boot_steps[%d] has %d elements: each step is [COMMAND] or [COMMAND, DESCRIPTION].", i, len(r))
			return
		}
		step := BootStep{Command: r[0]}
		if len(r) == 2 {
			step.Description = r[1]
		}
		s.BootSteps = append(s.BootSteps, step)
	}
	if len(s.BootSteps) > 0 && len(s.BootCommand) > 0 {
		d.errorf(a, "Conflicting arguments", "boot_command and boot_steps are two ways to give the boot command: set one of them.")
	}
}
