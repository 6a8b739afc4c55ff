package hcl

// decodeMachine reads the build VM's CPU topology and model, its disk's
// QEMU options and the output's compression, and names the display
// fields, which have no meaning for clawimg's headless builds.
func decodeMachine(d *decoder, s *QEMUSource) {
	d.str("cpu_model", &s.CPUModel)
	d.integer("sockets", &s.Sockets)
	d.integer("cores", &s.Cores)
	d.integer("threads", &s.Threads)
	for _, f := range []struct {
		name string
		n    int
	}{{"sockets", s.Sockets}, {"cores", s.Cores}, {"threads", s.Threads}} {
		if a, ok := d.attrs[f.name]; ok && f.n < 1 {
			d.errorf(a, "Invalid value", "%s must be at least 1.", f.name)
		}
	}
	// Packer: with a topology, cpus is what it makes unless set too.
	if topo := max(s.Sockets, 1) * max(s.Cores, 1) * max(s.Threads, 1); s.Sockets+s.Cores+s.Threads > 0 {
		if !d.has("cpus") {
			s.CPUs = topo
		} else if s.CPUs > topo {
			d.errorf(d.attrs["cpus"], "Invalid value", "cpus %d is more than sockets × cores × threads (%d).", s.CPUs, topo)
		}
	}
	d.str("disk_cache", &s.DiskCache)
	d.str("disk_discard", &s.DiskDiscard)
	d.str("disk_detect_zeroes", &s.DiskDetectZeroes)
	d.boolean("disk_compression", &s.DiskCompression)
	if s.DiskCache != "" {
		d.oneOf("disk_cache", s.DiskCache, "writeback", "writethrough", "none", "unsafe", "directsync")
	}
	if s.DiskDiscard != "" {
		d.oneOf("disk_discard", s.DiskDiscard, "unmap", "ignore")
	}
	if s.DiskDetectZeroes != "" {
		d.oneOf("disk_detect_zeroes", s.DiskDetectZeroes, "on", "off", "unmap")
	}
	if a, ok := d.attrs["disk_compression"]; ok && s.DiskCompression && s.Format == "raw" {
		d.errorf(a, "Invalid value", "disk_compression needs format = \"qcow2\" (a raw file cannot be compressed).")
	}
	d.boolean("use_backing_file", &s.UseBackingFile)
	if a, ok := d.attrs["use_backing_file"]; ok && s.UseBackingFile && (s.Format != "qcow2" || !s.DiskImage) {
		d.errorf(a, "Invalid value", "use_backing_file needs format = \"qcow2\" and disk_image = true (the output's backing file is the disk image of iso_url).")
	}
	if a, ok := d.attrs["skip_compaction"]; ok {
		d.warnf(a, "Argument ignored", "skip_compaction: output_directory's disk is exported from clawimg's store, which keeps no free space, so there is no compaction to skip.")
	}
	for _, name := range []string{"vnc_bind_address", "vnc_port_min", "vnc_port_max", "vnc_use_password", "use_default_display", "display"} {
		if a, ok := d.attrs[name]; ok {
			d.warnf(a, "Argument ignored", "%s: clawimg builds without a display and types boot commands through QEMU's monitor, so there is no VNC server or window.", name)
		}
	}
}

// decodeAccess reads how the host reaches the build VM: the range its
// SSH port is forwarded from (host_port_min/_max, or Packer's older
// ssh_host_port_min/_max) and a QMP monitor for the user (qmp_enable,
// qmp_socket_path).
func decodeAccess(d *decoder, s *QEMUSource) {
	for _, f := range []struct {
		name, older string
		dst         *int
	}{{"host_port_min", "ssh_host_port_min", &s.HostPortMin}, {"host_port_max", "ssh_host_port_max", &s.HostPortMax}} {
		d.integer(f.name, f.dst)
		if d.olderName(f.older, f.name) {
			d.integer(f.older, f.dst)
		}
	}
	if s.HostPortMin != 0 || s.HostPortMax != 0 {
		if s.HostPortMin == 0 {
			s.HostPortMin = 2222 // Packer's defaults
		}
		if s.HostPortMax == 0 {
			s.HostPortMax = 4444
		}
		d.portRange(s.HostPortMin, s.HostPortMax, "host_port_min", "host_port_max", "ssh_host_port_min", "ssh_host_port_max")
	}
	d.boolean("qmp_enable", &s.QMPEnable)
	d.str("qmp_socket_path", &s.QMPSocketPath)
	d.onlyWith(s.QMPEnable, "qmp_enable = true", "qmp_socket_path")
	// clawimg always takes the build's key out of the image (generalize).
	var clear bool
	d.boolean("ssh_clear_authorized_keys", &clear)
	if a, ok := d.attrs["ssh_clear_authorized_keys"]; ok && !clear {
		d.warnf(a, "Argument ignored", "clawimg always removes the build's key from the image's authorized_keys, as ssh_clear_authorized_keys = true does.")
	}
}
