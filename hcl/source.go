package hcl

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// qemuFields are the Packer qemu builder fields clawimg implements.
var qemuFields = slices.Concat([]string{
	"iso_url", "iso_checksum", "disk_image", "disk_size", "skip_resize_disk",
	"disk_interface", "net_device", "format", "cpus", "memory", "accelerator",
	"qemu_binary", "machine_type", "qemuargs", "headless", "communicator",
	"ssh_username", "ssh_password", "ssh_port", "ssh_timeout", "ssh_wait_timeout", "pause_before_connecting", "boot_wait",
	"shutdown_command", "shutdown_timeout", "output_directory", "vm_name",
	"boot_command", "boot_key_interval", "http_directory", "http_content", "http_port_min", "http_port_max",
	"http_bind_address", "cd_files", "cd_content", "cd_label", "ssh_handshake_attempts",
	"iso_urls", "cpu_model", "sockets", "cores", "threads", "disk_cache", "disk_discard", "disk_detect_zeroes",
	"disk_compression", "vnc_bind_address", "vnc_port_min", "vnc_port_max", "vnc_use_password",
	"use_default_display", "display", "ssh_private_key_file",
	"efi_boot", "efi_firmware_code", "efi_firmware_vars", "efi_drop_efivars", "firmware",
	"floppy_files", "floppy_dirs", "floppy_content", "floppy_label", "disk_additional_size",
	"use_backing_file", "skip_compaction", "boot_steps", "boot_keygroup_interval",
	"host_port_min", "host_port_max", "ssh_host_port_min", "ssh_host_port_max", "qmp_enable", "qmp_socket_path",
	"ssh_clear_authorized_keys", "iso_target_path", "iso_target_extension", "iso_skip_cache", "use_pflash", "vtpm", "use_tpm1", "tpm_device_type",
}, sshFields)

// qemuUnsupported are Packer qemu builder fields clawimg knows but does not
// implement; naming them beats a "did you mean" for someone porting a recipe.
var qemuUnsupported = []string{
	"ssh_host", "skip_nat_mapping",
	"winrm_username", "winrm_password", "winrm_timeout",
	"net_bridge",
}

// httpTemplate is Packer's template for its HTTP server's address.
var httpTemplate = regexp.MustCompile(`\{\{\s*\.HTTP(IP|Port)\s*\}\}`)

// packerBuilders are Packer source types other than qemu.
var packerBuilders = []string{
	"amazon-ebs", "amazon-instance", "amazon-chroot", "azure-arm", "docker",
	"file", "googlecompute", "hyperv-iso", "hyperv-vmcx", "lxc", "lxd", "null",
	"parallels-iso", "proxmox-iso", "proxmox-clone", "vagrant", "virtualbox-iso",
	"virtualbox-ovf", "vmware-iso", "vmware-vmx", "vsphere-iso", "vsphere-clone",
	"tart-cli",
}

// decodeSources reads every `source "qemu" "NAME"` block, with Packer's
// defaults for what is left out. Sources of Packer's other builders are
// listed (a build skips them, saying so), with a warning here.
func (ev *evaluator) decodeSources(blocks []*hcl2.Block) ([]QEMUSource, []string) {
	var out []QEMUSource
	var others []string
	seen := map[string]hcl2.Range{}
	for _, b := range blocks {
		typ, name := b.Labels[0], b.Labels[1]
		if typ != "qemu" && slices.Contains(packerBuilders, typ) {
			others = append(others, "source."+typ+"."+name)
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagWarning,
				Summary:  "Source skipped",
				Detail:   fmt.Sprintf("source.%s.%s: clawimg builds qemu sources only; builds skip this one.", typ, name),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if typ != "qemu" {
			ev.unsupportedType(b, "source", typ, []string{"qemu"}, packerBuilders)
			continue
		}
		if prev, ok := seen[name]; ok {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Duplicate source",
				Detail:   fmt.Sprintf("source.qemu.%s was already defined at %s.", name, prev),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		seen[name] = b.DefRange
		// Kept even when invalid, so builds that name it get no second error.
		out = append(out, ev.decodeQEMU(b))
	}
	return out, others
}

func (ev *evaluator) decodeQEMU(b *hcl2.Block) QEMUSource {
	name := b.Labels[1]
	s := QEMUSource{
		Name:            name,
		DiskImage:       false,
		DiskSize:        40960 << 20,
		DiskInterface:   "virtio",
		NetDevice:       "virtio-net",
		Format:          "qcow2",
		CPUs:            1,
		Memory:          512,
		Accelerator:     "auto",
		QEMUBinary:      "qemu-system-x86_64",
		Headless:        true,
		Communicator:    "ssh",
		SSHPort:         22,
		SSHTimeout:      Duration(5 * time.Minute),
		ShutdownTimeout: Duration(5 * time.Minute),
	}
	d, c, diags := ev.content(b.Body, "source.qemu."+name, qemuFields, []hcl2.BlockHeaderSchema{{Type: "qemu_img_args"}}, qemuUnsupported)
	ev.diags = append(ev.diags, diags...)
	s.QEMUImgArgs = ev.decodeQEMUImgArgs(c.Blocks)
	d.str("iso_url", &s.ISOURL)
	d.strList("iso_urls", &s.ISOURLs)
	d.str("iso_checksum", &s.ISOChecksum)
	d.str("iso_target_path", &s.ISOTargetPath)
	d.boolean("iso_skip_cache", &s.ISOSkipCache)
	if a, ok := d.attrs["iso_target_extension"]; ok {
		var ext string
		d.str("iso_target_extension", &ext)
		d.warnf(a, "Argument ignored", "clawimg's download cache names files by their checksum; iso_target_path names the copy it keeps.")
	}
	d.boolean("disk_image", &s.DiskImage)
	d.size("disk_size", &s.DiskSize)
	d.sizes("disk_additional_size", &s.DiskAdditionalSize)
	d.boolean("skip_resize_disk", &s.SkipResizeDisk)
	d.str("disk_interface", &s.DiskInterface)
	d.str("net_device", &s.NetDevice)
	d.str("format", &s.Format)
	d.str("output_directory", &s.OutputDirectory)
	d.str("vm_name", &s.VMName)
	if a, ok := d.attrs["disk_additional_size"]; ok && len(s.DiskAdditionalSize) > 0 && s.OutputDirectory == "" && s.VMName == "" {
		d.warnf(a, "Disks not kept", "the additional disks are attached to the build VM and left only in output_directory, as VM_NAME-1...; set output_directory or vm_name to keep them (the store keeps the first disk).")
	}
	d.integer("cpus", &s.CPUs)
	d.integer("memory", &s.Memory)
	d.str("accelerator", &s.Accelerator)
	d.str("qemu_binary", &s.QEMUBinary)
	d.str("machine_type", &s.MachineType)
	d.strLists("qemuargs", &s.QEMUArgs)
	d.boolean("headless", &s.Headless)
	d.str("communicator", &s.Communicator)
	d.str("ssh_username", &s.SSHUsername)
	d.str("ssh_password", &s.SSHPassword)
	s.SSHPasswordSet = s.SSHPassword != ""
	d.integer("ssh_port", &s.SSHPort)
	d.duration("ssh_timeout", &s.SSHTimeout)
	if d.olderName("ssh_wait_timeout", "ssh_timeout") {
		d.duration("ssh_wait_timeout", &s.SSHTimeout)
	}
	d.duration("pause_before_connecting", &s.PauseBeforeConnecting)
	d.integer("ssh_handshake_attempts", &s.SSHHandshakeAttempts)
	ev.decodeSSH(d, &s)
	d.duration("boot_wait", &s.BootWait)
	ev.decodeInstall(d, &s)
	decodeMachine(d, &s)
	decodeAccess(d, &s)
	ev.decodeFirmware(d, &s)
	ev.decodeTPM(d, &s)
	d.str("shutdown_command", &s.ShutdownCommand)
	d.duration("shutdown_timeout", &s.ShutdownTimeout)

	checkQEMU(d, b, &s)
	s.Sensitive = d.sensitive
	ev.diags = append(ev.diags, d.diags...)
	return s
}

// checkQEMU checks a decoded qemu source's values against each other and
// what clawimg can build, and sets what they imply (the architecture).
func checkQEMU(d *decoder, b *hcl2.Block, s *QEMUSource) {
	name := s.Name
	serves := s.HTTPDirectory != nil || len(s.HTTPContent) > 0
	if a, ok := d.attrs["qemuargs"]; ok && !serves {
		for _, arg := range s.QEMUArgs {
			if m := httpTemplate.FindString(strings.Join(arg, " ")); m != "" {
				d.errorf(a, "Missing HTTP server", "qemuargs uses %s, the address of the build's HTTP server, which runs only with http_directory or http_content.", m)
				break
			}
		}
	}
	for _, name := range []string{"boot_command", "boot_steps"} {
		if a, ok := d.attrs[name]; ok && !serves {
			for _, step := range s.Steps() {
				if m := httpTemplate.FindString(step.Command); m != "" {
					d.errorf(a, "Missing HTTP server", "%s uses %s, the address of the build's HTTP server, which runs only with http_directory or http_content.", name, m)
					break
				}
			}
		}
	}
	d.oneOf("accelerator", s.Accelerator, "auto", "kvm", "hvf", "tcg")
	d.oneOf("format", s.Format, "qcow2", "raw")
	d.oneOf("communicator", s.Communicator, "ssh")
	d.oneOf("disk_interface", s.DiskInterface, "virtio", "virtio-scsi", "scsi", "ide", "sata")
	switch {
	case strings.HasSuffix(s.QEMUBinary, "x86_64"):
		s.Arch = "amd64"
	case strings.HasSuffix(s.QEMUBinary, "aarch64"):
		s.Arch = "arm64"
	default:
		if a, ok := d.attrs["qemu_binary"]; ok {
			d.errorf(a, "Invalid value", "qemu_binary must be qemu-system-x86_64 or qemu-system-aarch64 (optionally a path to one), not %q.", s.QEMUBinary)
		}
	}
	if a, ok := d.attrs["headless"]; ok && !s.Headless {
		d.errorf(a, "Invalid value", "clawimg always builds headless; headless = false is not supported.")
	}
	if a, ok := d.attrs["iso_urls"]; ok && d.has("iso_url") {
		d.errorf(a, "Conflicting arguments", "Set one of iso_url and iso_urls (the places to try, in order).")
	}
	for _, req := range []string{"iso_url", "iso_checksum", "ssh_username"} {
		if req == "iso_url" && d.has("iso_urls") {
			continue
		}
		if !d.has(req) {
			d.diags = append(d.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("source.qemu.%s needs %s.", name, req),
				Subject:  b.DefRange.Ptr(),
			})
		}
	}
	if a, ok := d.attrs["skip_resize_disk"]; ok && s.SkipResizeDisk && !s.DiskImage {
		d.errorf(a, "Invalid value", "skip_resize_disk needs disk_image = true: an installer writes onto an empty disk of disk_size.")
	}
	if a, ok := d.attrs["iso_checksum"]; ok && s.ISOChecksum != "" {
		if err := checkChecksum(s.ISOChecksum); err != nil {
			d.errorf(a, "Invalid iso_checksum", "%v.", err)
		}
	}
	if s.CPUs < 1 {
		d.errorf(d.attrs["cpus"], "Invalid value", "cpus must be at least 1.")
	}
	if s.Memory < 128 {
		d.errorf(d.attrs["memory"], "Invalid value", "memory is in MiB and must be at least 128.")
	}
}

// checkChecksum accepts "sha256:<64 hex>", "file:<url>" and "none".
func checkChecksum(c string) error {
	switch {
	case c == "none":
		return nil
	case strings.HasPrefix(c, "file:"):
		if len(c) == len("file:") {
			return fmt.Errorf("file: needs the URL or path of a SHA256SUMS file")
		}
		return nil
	}
	_, _, err := ParseDigest(c)
	return err
}

// digestLengths are the hex lengths of the digests iso_checksum may name.
var digestLengths = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

// ParseDigest reads an iso_checksum digest as Packer writes it: ALGO:HEX
// (md5, sha1, sha256, sha512), or a bare HEX whose length names the
// algorithm. The hex comes back in lower case.
func ParseDigest(c string) (algo, hex string, err error) {
	algo, hex, ok := strings.Cut(c, ":")
	if !ok {
		hex = c
		for a, n := range digestLengths {
			if len(c) == n {
				algo = a
			}
		}
	}
	n, known := digestLengths[algo]
	switch {
	case !known:
		return "", "", fmt.Errorf("%q must be \"sha256:<hex>\" (or md5:, sha1:, sha512:, a bare digest), \"file:<url of SHA256SUMS>\" or \"none\"", c)
	case len(hex) != n || strings.Trim(strings.ToLower(hex), "0123456789abcdef") != "":
		return "", "", fmt.Errorf("%q is not a %s digest: %d hex digits are needed", hex, algo, n)
	}
	return algo, strings.ToLower(hex), nil
}

// unsupportedType reports a block whose type label clawimg does not handle:
// a Packer plugin it does not implement, or an unknown name (with a
// suggestion).
func (ev *evaluator) unsupportedType(b *hcl2.Block, kind, typ string, supported, packer []string) {
	detail := fmt.Sprintf("clawimg supports the %s types %s.", kind, quoteList(supported))
	summary := fmt.Sprintf("Unknown %s type %q", kind, typ)
	for _, p := range packer {
		if p == typ {
			summary = fmt.Sprintf("Unsupported Packer %s type %q", kind, typ)
			break
		}
	}
	if s := suggest(typ, supported); s != "" {
		detail += s
	}
	ev.diags = append(ev.diags, &hcl2.Diagnostic{
		Severity: hcl2.DiagError, Summary: summary, Detail: detail, Subject: b.LabelRanges[0].Ptr(),
	})
}

// decodeQEMUImgArgs reads the qemu_img_args block: more arguments for the
// build's qemu-img create, resize and convert, placed where Packer places
// them.
func (ev *evaluator) decodeQEMUImgArgs(blocks hcl2.Blocks) *QEMUImgArgs {
	var out *QEMUImgArgs
	for _, b := range blocks {
		if out != nil {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{Severity: hcl2.DiagError, Summary: "Duplicate qemu_img_args block",
				Detail: "qemu_img_args may be given once per source.", Subject: b.DefRange.Ptr()})
			continue
		}
		d, _, diags := ev.content(b.Body, "qemu_img_args", []string{"convert", "create", "resize"}, nil, nil)
		ev.diags = append(ev.diags, diags...)
		out = &QEMUImgArgs{}
		d.strList("convert", &out.Convert)
		d.strList("create", &out.Create)
		d.strList("resize", &out.Resize)
		ev.diags = append(ev.diags, d.diags...)
	}
	return out
}
