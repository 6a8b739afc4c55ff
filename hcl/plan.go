package hcl

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Plan is a recipe fully resolved: every expression evaluated, every variable
// given its value, every file it reads located and hashed.
type Plan struct {
	// Root is the recipe's directory (path.root), or "builtin:openclaw"
	// for the recipe embedded in clawimg.
	Root string `json:"root"`
	// Files are the recipe files that were read, in load order.
	Files     []string     `json:"files"`
	Variables []Variable   `json:"variables"`
	Sources   []QEMUSource `json:"sources"`
	// OtherSources are the recipe's sources of Packer builders other than
	// qemu ("source.amazon-ebs.NAME"): builds may name them, and skip them.
	OtherSources []string `json:"other_sources,omitempty"`
	Builds       []Build  `json:"builds"`
	// Warnings are diagnostics that did not stop the recipe from loading.
	Warnings Diagnostics `json:"warnings,omitempty"`

	files fileReader
	// secrets are the strings of sensitive variables and of every value
	// derived from one.
	secrets []string
}

// Variable is a declared input variable and the value it resolved to.
type Variable struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Sensitive   bool   `json:"sensitive"`
	// Value is the resolved value, as JSON.
	Value json.RawMessage `json:"value"`
	// Source says where the value came from: "default", "env
	// CLAWIMG_VAR_x", "file NAME.auto.pkrvars.hcl", "-var-file NAME" or "-var".
	Source string `json:"source"`
}

// QEMUSource is a `source "qemu" "NAME"` block, with Packer's field names.
type QEMUSource struct {
	Name string `json:"name"`
	// ISOURL is the base disk image (DiskImage) or the installer ISO:
	// https://, http://, file:// or a path.
	ISOURL string `json:"iso_url"`
	// ISOURLs, set instead of ISOURL, are places of the same file, tried
	// in order until one gives it (Packer's iso_urls).
	ISOURLs []string `json:"iso_urls,omitempty"`
	// ISOChecksum is "ALGO:<hex>" (md5, sha1, sha256, sha512), a bare
	// digest, "file:<url of a SHA256SUMS-style file>" or "none".
	ISOChecksum string `json:"iso_checksum"`
	// ISOTargetPath is where a downloaded iso_url is also kept, and taken
	// from by later builds while it matches ISOChecksum.
	ISOTargetPath string `json:"iso_target_path,omitempty"`
	// ISOSkipCache downloads iso_url for this build only: not into the
	// download cache, removed when the build ends.
	ISOSkipCache bool `json:"iso_skip_cache,omitempty"`
	// DiskImage: ISOURL is a bootable disk that the build VM boots from.
	// Otherwise (Packer's default) it is an installer ISO, attached as a
	// CD-ROM and booted once, that installs onto an empty disk of DiskSize
	// (typed BootCommand and the HTTP server drive it).
	DiskImage bool  `json:"disk_image"`
	DiskSize  int64 `json:"disk_size"` // bytes
	// DiskAdditionalSize are more empty disks (bytes), attached after the
	// first as Packer's; they go to output_directory as VM_NAME-1, -2...
	// (the store keeps the first disk, the image).
	DiskAdditionalSize []int64 `json:"disk_additional_size,omitempty"`
	SkipResizeDisk     bool    `json:"skip_resize_disk"`
	DiskInterface      string  `json:"disk_interface"`
	NetDevice          string  `json:"net_device"`
	Format             string  `json:"format"`
	// OutputDirectory and VMName, when either is set, also leave the built
	// disk where Packer would: OUTPUT_DIRECTORY/VM_NAME in Format
	// (defaults output-BUILD and packer-BUILD), besides the store.
	OutputDirectory string `json:"output_directory,omitempty"`
	VMName          string `json:"vm_name,omitempty"`
	CPUs            int    `json:"cpus"`
	Memory          int    `json:"memory"` // MiB
	Accelerator     string `json:"accelerator"`
	QEMUBinary      string `json:"qemu_binary"`
	MachineType     string `json:"machine_type,omitempty"`
	// CPUModel is QEMU's -cpu (default: host with an accelerator, max
	// under TCG); Sockets, Cores and Threads its -smp topology.
	CPUModel string `json:"cpu_model,omitempty"`
	Sockets  int    `json:"sockets,omitempty"`
	Cores    int    `json:"cores,omitempty"`
	Threads  int    `json:"threads,omitempty"`
	// DiskCache, DiskDiscard and DiskDetectZeroes are the build disk's
	// QEMU options (cache=, discard=, detect-zeroes=); DiskCompression
	// compresses the qcow2 left in output_directory.
	DiskCache        string `json:"disk_cache,omitempty"`
	DiskDiscard      string `json:"disk_discard,omitempty"`
	DiskDetectZeroes string `json:"disk_detect_zeroes,omitempty"`
	DiskCompression  bool   `json:"disk_compression,omitempty"`
	// UseBackingFile leaves in output_directory a qcow2 of what differs
	// from iso_url's disk image, which is its backing file (as the build
	// cached it); the store keeps the whole image.
	UseBackingFile bool       `json:"use_backing_file,omitempty"`
	QEMUArgs       [][]string `json:"qemuargs,omitempty"`
	// QEMUImgArgs are more arguments for the build's qemu-img calls.
	QEMUImgArgs *QEMUImgArgs `json:"qemu_img_args,omitempty"`
	// EFIBoot boots the build VM through UEFI: EFIFirmwareCode and a copy of
	// EFIFirmwareVars (found on the host when empty; no variable store with
	// EFIDropVars) in flash devices. The image then boots that way too.
	EFIBoot         bool   `json:"efi_boot,omitempty"`
	EFIFirmwareCode string `json:"efi_firmware_code,omitempty"`
	EFIFirmwareVars string `json:"efi_firmware_vars,omitempty"`
	EFIDropVars     bool   `json:"efi_drop_efivars,omitempty"`
	// Firmware is a BIOS file for QEMU's -bios (Packer's firmware), or
	// for a flash device with UsePflash.
	Firmware  string `json:"firmware,omitempty"`
	UsePflash bool   `json:"use_pflash,omitempty"`
	// HostPortMin..HostPortMax is where the build VM's SSH port is
	// forwarded from on the host's loopback (0: any free port).
	HostPortMin int `json:"host_port_min,omitempty"`
	HostPortMax int `json:"host_port_max,omitempty"`
	// QMPEnable opens a QMP monitor for the user at QMPSocketPath (in the
	// build's work directory when empty) while the build VM runs.
	QMPEnable     bool   `json:"qmp_enable,omitempty"`
	QMPSocketPath string `json:"qmp_socket_path,omitempty"`
	// VTPM gives the build VM an emulated TPM 2.0 (1.2 with UseTPM1),
	// QEMU's device TPMDeviceType (tpm-tis when empty).
	VTPM          bool   `json:"vtpm,omitempty"`
	UseTPM1       bool   `json:"use_tpm1,omitempty"`
	TPMDeviceType string `json:"tpm_device_type,omitempty"`
	Headless      bool   `json:"headless"`
	Communicator  string `json:"communicator"`
	SSHUsername   string `json:"ssh_username"`
	// SSHPassword is offered after clawimg's own key (for a guest without
	// cloud-init); never in JSON, output or the cache key.
	SSHPassword    string `json:"-"`
	SSHPasswordSet bool   `json:"ssh_password_set,omitempty"`
	// SSHPrivateKeyFile is offered after clawimg's own key (a key the
	// installer or the image already knows, data "sshkey"'s say).
	SSHPrivateKeyFile string `json:"ssh_private_key_file,omitempty"`
	// SSHCertificateFile is a CA's certificate for SSHPrivateKeyFile,
	// offered with it (for guests that trust the CA).
	SSHCertificateFile string `json:"ssh_certificate_file,omitempty"`
	// SSHBastion or SSHProxy is the way the build's SSH reaches the
	// forwarded port (Packer's ssh_bastion_* and ssh_proxy_*).
	SSHBastion *SSHBastion `json:"ssh_bastion,omitempty"`
	SSHProxy   *SSHProxy   `json:"ssh_proxy,omitempty"`
	// SSHAgentAuth offers the host's SSH agent's keys too, and forwards
	// the agent into the build VM unless SSHDisableAgentForwarding.
	SSHAgentAuth              bool `json:"ssh_agent_auth,omitempty"`
	SSHDisableAgentForwarding bool `json:"ssh_disable_agent_forwarding,omitempty"`
	// SSHPty runs the provisioners' commands on a pseudo-terminal.
	SSHPty     bool     `json:"ssh_pty,omitempty"`
	SSHPort    int      `json:"ssh_port"`
	SSHTimeout Duration `json:"ssh_timeout"`
	// SSHHandshakeAttempts ends the wait for SSH after that many failed
	// handshakes with a server that answered (0: only ssh_timeout does).
	SSHHandshakeAttempts int `json:"ssh_handshake_attempts,omitempty"`
	// PauseBeforeConnecting: once SSH first answers, wait this long and
	// connect again (for guests whose setup restarts sshd).
	PauseBeforeConnecting Duration `json:"pause_before_connecting,omitempty"`
	BootWait              Duration `json:"boot_wait"`
	// BootCommand is typed into the VM after BootWait, in Packer's key
	// syntax ("<enter>", "<wait5>", "<leftCtrlOn>"...), its templates
	// ({{ .HTTPIP }}, {{ .HTTPPort }}, {{ .Name }}) filled in then.
	BootCommand []string `json:"boot_command,omitempty"`
	// BootSteps is the boot command in steps, each said as it is typed
	// (Packer's boot_steps); a recipe has this or BootCommand.
	BootSteps       []BootStep `json:"boot_steps,omitempty"`
	BootKeyInterval Duration   `json:"boot_key_interval,omitempty"`
	// HTTPDirectory and HTTPContent are served to the VM during the build
	// (content first), from the host's loopback; the guest reaches them
	// at {{ .HTTPIP }}:{{ .HTTPPort }}, a port in HTTPPortMin..HTTPPortMax.
	HTTPDirectory *FileRef          `json:"http_directory,omitempty"`
	HTTPContent   map[string]string `json:"http_content,omitempty"`
	HTTPPortMin   int               `json:"http_port_min"`
	HTTPPortMax   int               `json:"http_port_max"`
	// CDFiles and CDContent make a CD-ROM (ISO 9660 with Joliet and Rock
	// Ridge names) labelled CDLabel, attached to the build VM.
	CDFiles   []FileRef         `json:"cd_files,omitempty"`
	CDContent map[string]string `json:"cd_content,omitempty"`
	CDLabel   string            `json:"cd_label,omitempty"`
	// FloppyFiles, FloppyDirs and FloppyContent make a 1.44 MB FAT12
	// floppy labelled FloppyLabel (Packer's "packer" when empty),
	// attached to the build VM: the files (a directory's files too) at its
	// root, each directory under its own name with its tree, the content
	// at its paths.
	FloppyFiles     []FileRef         `json:"floppy_files,omitempty"`
	FloppyDirs      []FileRef         `json:"floppy_dirs,omitempty"`
	FloppyContent   map[string]string `json:"floppy_content,omitempty"`
	FloppyLabel     string            `json:"floppy_label,omitempty"`
	ShutdownCommand string            `json:"shutdown_command,omitempty"`
	ShutdownTimeout Duration          `json:"shutdown_timeout"`
	// Arch is the guest architecture implied by qemu_binary: amd64 or arm64.
	Arch string `json:"arch"`
	// Sensitive names the fields whose value derives from a sensitive
	// variable (recipe attribute names); Redacted masks them.
	Sensitive []string `json:"sensitive_fields,omitempty"`
}

// BootStep is one step of boot_steps.
type BootStep struct {
	Command     string `json:"command"`
	Description string `json:"description,omitempty"`
}

// Steps is the boot command as steps: BootSteps, or BootCommand as one
// step.
func (s *QEMUSource) Steps() []BootStep {
	if len(s.BootSteps) > 0 || len(s.BootCommand) == 0 {
		return s.BootSteps
	}
	return []BootStep{{Command: strings.Join(s.BootCommand, "")}}
}

// QEMUImgArgs are Packer's qemu_img_args: arguments added to qemu-img
// create (the build's disks, after -f qcow2), resize (after -f FORMAT,
// run when the disk grows) and convert (the output's conversions, after
// "convert").
type QEMUImgArgs struct {
	Convert []string `json:"convert,omitempty"`
	Create  []string `json:"create,omitempty"`
	Resize  []string `json:"resize,omitempty"`
}

// Places says where the base image comes from: iso_url, or the places of
// iso_urls in the order they are tried.
func (s *QEMUSource) Places() string {
	if len(s.ISOURLs) > 0 {
		return strings.Join(s.ISOURLs, " or ")
	}
	return s.ISOURL
}

// Build is a `build` block: the sources it runs on and what it does to them.
type Build struct {
	// Name defaults to the first source's name; the image is tagged NAME:latest
	// unless the user says otherwise.
	Name           string          `json:"name"`
	Description    string          `json:"description,omitempty"`
	Sources        []string        `json:"sources"` // "source.qemu.NAME"
	Provisioners   []Provisioner   `json:"provisioners"`
	PostProcessors []PostProcessor `json:"post_processors,omitempty"`
	// Sensitive names the fields whose value derives from a sensitive
	// variable (recipe attribute names); Redacted masks them.
	Sensitive []string `json:"sensitive_fields,omitempty"`
}

// Provisioner runs in the build VM, in order. Exactly one of Shell and File
// is set, as Type says.
type Provisioner struct {
	Type string `json:"type"` // "shell", "file", "shell-local", "ansible" or "ansible-local"
	// Name labels the provisioner in the build's output (Packer's name).
	Name        string   `json:"name,omitempty"`
	PauseBefore Duration `json:"pause_before,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
	MaxRetries  int      `json:"max_retries,omitempty"`
	Only        []string `json:"only,omitempty"`
	Except      []string `json:"except,omitempty"`
	Shell       *Shell   `json:"shell,omitempty"`
	File        *File    `json:"file,omitempty"`
	Local       *Local   `json:"shell_local,omitempty"`
	Ansible     *Ansible `json:"ansible,omitempty"`
	// AnsibleLocal is a `provisioner "ansible-local"`.
	AnsibleLocal *AnsibleLocal `json:"ansible_local,omitempty"`
	// Sensitive names the fields whose value derives from a sensitive
	// variable (recipe attribute names); Redacted masks them.
	Sensitive []string `json:"sensitive_fields,omitempty"`
}

// Ansible is a `provisioner "ansible"`: Command (ansible-playbook) runs
// on the host against the build VM, reached over SSH on its forwarded
// port with clawimg's build key, as HostAlias in Groups.
type Ansible struct {
	PlaybookFile   FileRef  `json:"playbook_file"`
	Command        string   `json:"command"`
	ExtraArguments []string `json:"extra_arguments,omitempty"`
	EnvVars        []string `json:"ansible_env_vars,omitempty"`
	// User logs in (default: ssh_username).
	User         string   `json:"user,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	HostAlias    string   `json:"host_alias"`
	SSHExtraArgs []string `json:"ansible_ssh_extra_args,omitempty"`
	// UseProxy is Packer's SSH adapter; clawimg always connects straight to
	// the VM's forwarded port, which is the same to the playbook.
	UseProxy          bool `json:"use_proxy,omitempty"`
	KeepInventoryFile bool `json:"keep_inventory_file,omitempty"`
}

// Local is a `provisioner "shell-local"`: commands run on the host, in
// the recipe's directory, while the VM is being provisioned.
type Local struct {
	Inline          []string  `json:"inline,omitempty"`
	Scripts         []FileRef `json:"scripts,omitempty"`
	EnvironmentVars []string  `json:"environment_vars,omitempty"`
}

// Shell is a `provisioner "shell"`.
type Shell struct {
	Inline           []string          `json:"inline,omitempty"`
	Scripts          []FileRef         `json:"scripts,omitempty"` // script and scripts, in order
	EnvironmentVars  []string          `json:"environment_vars,omitempty"`
	Env              map[string]string `json:"env,omitempty"`
	ExecuteCommand   string            `json:"execute_command"`
	InlineShebang    string            `json:"inline_shebang"`
	RemoteFolder     string            `json:"remote_folder"`
	ExpectDisconnect bool              `json:"expect_disconnect"`
	ValidExitCodes   []int             `json:"valid_exit_codes"`
}

// File is a `provisioner "file"`: an upload (or download) of a file or
// directory, of several (Sources, into the directory Destination), or of
// literal content.
type File struct {
	Source      *FileRef  `json:"source,omitempty"`
	Sources     []FileRef `json:"sources,omitempty"`
	Content     *string   `json:"content,omitempty"`
	Destination string    `json:"destination"`
	Direction   string    `json:"direction"` // "upload" or "download"
}

// FileRef is a host file a recipe reads. SHA256 covers its content (for a
// directory, every file's name and content), so the build cache notices edits.
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"` // empty for a download destination
	Dir    bool   `json:"dir,omitempty"`
}

// PostProcessor runs on the host after the image is stored.
type PostProcessor struct {
	Type string `json:"type"` // "manifest", "checksum" or "shell-local"
	Name string `json:"name,omitempty"`
	// Chain is the number of the post-processors block the post-processor
	// is in (0: a post-processor of its own). A chain's post-processors
	// run in order, each on the build's image, as every post-processor
	// clawimg has works on the image and its files.
	Chain            int               `json:"chain,omitempty"`
	Only             []string          `json:"only,omitempty"`
	Except           []string          `json:"except,omitempty"`
	Output           string            `json:"output,omitempty"`            // manifest, checksum
	StripPath        bool              `json:"strip_path,omitempty"`        // manifest
	CustomData       map[string]string `json:"custom_data,omitempty"`       // manifest
	ChecksumTypes    []string          `json:"checksum_types,omitempty"`    // checksum
	Format           string            `json:"format,omitempty"`            // compress: ".tar.gz"...
	CompressionLevel int               `json:"compression_level,omitempty"` // compress
	Inline           []string          `json:"inline,omitempty"`            // shell-local
	Scripts          []FileRef         `json:"scripts,omitempty"`           // shell-local
	EnvironmentVars  []string          `json:"environment_vars,omitempty"`  // shell-local
	// Sensitive names the fields whose value derives from a sensitive
	// variable (recipe attribute names); Redacted masks them.
	Sensitive []string `json:"sensitive_fields,omitempty"`
}

// Source returns the source block called NAME, or nil.
func (p *Plan) Source(name string) *QEMUSource {
	for i := range p.Sources {
		if p.Sources[i].Name == name {
			return &p.Sources[i]
		}
	}
	return nil
}

// ReadFile reads a file the recipe refers to (a FileRef.Path), whether it is
// on disk or embedded in clawimg.
func (p *Plan) ReadFile(path string) ([]byte, error) {
	return p.files.ReadFile(path)
}

// WalkFiles calls fn with the slash-separated path, relative to dir, of
// every file under a directory the recipe refers to (a FileRef with Dir).
func (p *Plan) WalkFiles(dir string, fn func(rel string) error) error {
	return p.files.WalkFiles(dir, fn)
}

// SensitiveValues are the strings of sensitive variables and of every value
// the recipe derived from one (upper(), base64encode(), interpolations...),
// for masking text clawimg does not parse, such as a build's output.
func (p *Plan) SensitiveValues() []string {
	return slices.Clone(p.secrets)
}

// Duration is a time.Duration that reads as "5m0s" in JSON.
type Duration time.Duration

// MarshalJSON renders the duration as Go's duration text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String is the duration as Go prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// SSHBastion is an SSH server the build's SSH goes through (ssh -J).
type SSHBastion struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	// Password is never in JSON, output or the cache key.
	Password        string `json:"-"`
	PrivateKeyFile  string `json:"private_key_file,omitempty"`
	CertificateFile string `json:"certificate_file,omitempty"`
	AgentAuth       bool   `json:"agent_auth,omitempty"`
	// Interactive answers the bastion's keyboard-interactive prompts
	// with Password.
	Interactive bool `json:"interactive,omitempty"`
}

// Secret is the bastion's password ("" for none, or no bastion).
func (b *SSHBastion) Secret() string {
	if b == nil {
		return ""
	}
	return b.Password
}

// SSHProxy is a SOCKS5 proxy the build's SSH goes through.
type SSHProxy struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username,omitempty"`
	// Password is never in JSON, output or the cache key.
	Password string `json:"-"`
}

// Secret is the proxy's password ("" for none, or no proxy).
func (p *SSHProxy) Secret() string {
	if p == nil {
		return ""
	}
	return p.Password
}
