package hcl

import (
	"os"
)

// sshFields are the SSH communicator's fields beyond the login itself:
// the way to the build VM, the host's agent, the terminal.
var sshFields = []string{
	"ssh_bastion_host", "ssh_bastion_port", "ssh_bastion_username", "ssh_bastion_password",
	"ssh_bastion_private_key_file", "ssh_bastion_certificate_file", "ssh_bastion_agent_auth", "ssh_bastion_interactive",
	"ssh_proxy_host", "ssh_proxy_port", "ssh_proxy_username", "ssh_proxy_password",
	"ssh_agent_auth", "ssh_disable_agent_forwarding", "ssh_pty", "ssh_keypair_name",
	"ssh_file_transfer_method", "ssh_certificate_file",
}

// decodeSSH reads the SSH communicator's fields; the login's own
// (ssh_username, ssh_password, ssh_port) are read before.
func (ev *evaluator) decodeSSH(d *decoder, s *QEMUSource) {
	ev.keyFile(d, "ssh_private_key_file", &s.SSHPrivateKeyFile)
	ev.certFile(d, "ssh_certificate_file", &s.SSHCertificateFile, s.SSHPrivateKeyFile, "ssh_private_key_file")
	d.boolean("ssh_agent_auth", &s.SSHAgentAuth)
	d.boolean("ssh_disable_agent_forwarding", &s.SSHDisableAgentForwarding)
	d.boolean("ssh_pty", &s.SSHPty)
	d.onlyWith(s.SSHAgentAuth, "ssh_agent_auth = true (only then is the host's agent forwarded)", "ssh_disable_agent_forwarding")
	// ssh_keypair_name names a key a cloud knows; a qemu build logs in with
	// the key file or the agent it goes with.
	var keypair string
	d.str("ssh_keypair_name", &keypair)
	if a, ok := d.attrs["ssh_keypair_name"]; ok && keypair != "" && s.SSHPrivateKeyFile == "" && !s.SSHAgentAuth {
		d.errorf(a, "Missing key", "ssh_keypair_name needs ssh_private_key_file or ssh_agent_auth = true: they hold the key it names.")
	}
	method := "sftp"
	d.str("ssh_file_transfer_method", &method)
	if a, ok := d.attrs["ssh_file_transfer_method"]; ok {
		d.oneOf("ssh_file_transfer_method", method, "scp", "sftp")
		if method == "scp" {
			d.warnf(a, "Argument ignored", "clawimg copies files over SFTP (the guest's sftp-server), not scp.")
		}
	}
	// A host set to null or "" (a variable's default, say) is no route.
	var bastionHost, proxyHost string
	d.str("ssh_bastion_host", &bastionHost)
	d.str("ssh_proxy_host", &proxyHost)
	if bastionHost != "" {
		s.SSHBastion = ev.decodeBastion(d, s, bastionHost)
	}
	d.onlyWith(bastionHost != "", "ssh_bastion_host", "ssh_bastion_port", "ssh_bastion_username", "ssh_bastion_password",
		"ssh_bastion_private_key_file", "ssh_bastion_certificate_file", "ssh_bastion_agent_auth", "ssh_bastion_interactive")
	if proxyHost != "" {
		p := &SSHProxy{Host: proxyHost, Port: 1080}
		d.integer("ssh_proxy_port", &p.Port)
		d.str("ssh_proxy_username", &p.Username)
		d.str("ssh_proxy_password", &p.Password)
		d.port("ssh_proxy_port", p.Port)
		if s.SSHBastion != nil {
			d.errorf(d.attrs["ssh_proxy_host"], "Conflicting arguments", "Set one of ssh_bastion_host and ssh_proxy_host: the build's SSH goes through one of them.")
		}
		s.SSHProxy = p
	}
	d.onlyWith(proxyHost != "", "ssh_proxy_host", "ssh_proxy_port", "ssh_proxy_username", "ssh_proxy_password")
}

// decodeBastion reads ssh_bastion_*, with Packer's defaults: port 22, the
// build's key and certificate files; the user is the build's when not given.
func (ev *evaluator) decodeBastion(d *decoder, s *QEMUSource, host string) *SSHBastion {
	b := &SSHBastion{Host: host, Port: 22, Username: s.SSHUsername, PrivateKeyFile: s.SSHPrivateKeyFile, CertificateFile: s.SSHCertificateFile}
	d.integer("ssh_bastion_port", &b.Port)
	d.port("ssh_bastion_port", b.Port)
	d.str("ssh_bastion_username", &b.Username)
	d.str("ssh_bastion_password", &b.Password)
	ev.keyFile(d, "ssh_bastion_private_key_file", &b.PrivateKeyFile)
	ev.certFile(d, "ssh_bastion_certificate_file", &b.CertificateFile, b.PrivateKeyFile, "ssh_bastion_private_key_file (or ssh_private_key_file)")
	d.boolean("ssh_bastion_agent_auth", &b.AgentAuth)
	d.boolean("ssh_bastion_interactive", &b.Interactive)
	if a := d.attrs["ssh_bastion_host"]; !b.AgentAuth && b.Password == "" && b.PrivateKeyFile == "" {
		d.errorf(a, "Missing bastion login", "ssh_bastion_host needs ssh_bastion_password, ssh_bastion_private_key_file (or ssh_private_key_file) or ssh_bastion_agent_auth = true.")
	}
	if a, ok := d.attrs["ssh_bastion_interactive"]; ok && b.Interactive && b.Password == "" {
		d.errorf(a, "Missing bastion password", "ssh_bastion_interactive answers the bastion's prompts with ssh_bastion_password, which is not set.")
	}
	return b
}

// certFile reads a certificate's path as keyFile does; the certificate is
// for key, which keyNames names, and which must be there.
func (ev *evaluator) certFile(d *decoder, name string, dst *string, key, keyNames string) {
	ev.keyFile(d, name, dst)
	if a, ok := d.attrs[name]; ok && *dst != "" && key == "" {
		d.errorf(a, "Missing key", "%s needs %s: the certificate is for that key.", name, keyNames)
	}
}

// keyFile reads a private key's path, relative to the recipe, and checks
// that it can be read.
func (ev *evaluator) keyFile(d *decoder, name string, dst *string) {
	a, ok := d.attrs[name]
	if !ok {
		return
	}
	d.str(name, dst)
	if *dst == "" {
		return
	}
	*dst = join(ev.root, *dst)
	if _, err := os.Stat(*dst); err != nil {
		d.errorf(a, "Unreadable file", "%s: %s.", *dst, errText(err))
	}
}
