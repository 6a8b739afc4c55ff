package hcl

import (
	hcl2 "github.com/hashicorp/hcl/v2"
)

// AnsibleLocal is a `provisioner "ansible-local"`: the playbooks and
// what they use are uploaded into StagingDirectory in the build VM, and
// Command runs them there against the VM itself (-c local), as Packer's.
// The VM needs Ansible (an earlier provisioner installs it).
type AnsibleLocal struct {
	// PlaybookFiles are run in order (playbook_file, or playbook_files).
	PlaybookFiles []FileRef `json:"playbook_files"`
	// PlaybookDir is uploaded as the staging directory's contents, before
	// the playbooks.
	PlaybookDir    *FileRef `json:"playbook_dir,omitempty"`
	Command        string   `json:"command"`
	ExtraArguments []string `json:"extra_arguments,omitempty"`
	// InventoryGroups put 127.0.0.1 in those groups of the inventory
	// clawimg writes; InventoryFile is uploaded and used instead.
	InventoryGroups []string `json:"inventory_groups,omitempty"`
	InventoryFile   *FileRef `json:"inventory_file,omitempty"`
	// GroupVars and HostVars are uploaded as group_vars/ and host_vars/,
	// each of RolePaths as roles/NAME.
	GroupVars *FileRef  `json:"group_vars,omitempty"`
	HostVars  *FileRef  `json:"host_vars,omitempty"`
	RolePaths []FileRef `json:"role_paths,omitempty"`
	// StagingDirectory defaults to a new directory under
	// /tmp/packer-provisioner-ansible-local; it is removed afterwards with
	// CleanStagingDirectory.
	StagingDirectory      string `json:"staging_directory,omitempty"`
	CleanStagingDirectory bool   `json:"clean_staging_directory,omitempty"`
}

// DefaultAnsibleLocalCommand is Packer's ansible-local command.
const DefaultAnsibleLocalCommand = "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook"

var ansibleLocalFields = []string{
	"playbook_file", "playbook_files", "playbook_dir", "command", "extra_arguments",
	"inventory_groups", "inventory_file", "group_vars", "host_vars", "role_paths",
	"staging_directory", "clean_staging_directory",
}

// Galaxy needs the network of the build VM and Ansible Galaxy's servers.
var ansibleLocalUnsupported = []string{
	"galaxy_file", "galaxy_command", "galaxy_roles_path", "galaxy_collections_path", "galaxy_force_install", "override",
}

func (ev *evaluator) decodeAnsibleLocal(d *decoder, b *hcl2.Block) *AnsibleLocal {
	a := &AnsibleLocal{Command: DefaultAnsibleLocalCommand}
	one := func(refs []FileRef) *FileRef {
		if len(refs) == 0 {
			return nil
		}
		return &refs[0]
	}
	single, many := ev.fileRefs(d, "playbook_file", false, fileOnly), ev.fileRefs(d, "playbook_files", true, fileOnly)
	switch {
	case d.has("playbook_file") && d.has("playbook_files"):
		d.errorf(d.attrs["playbook_files"], "Conflicting arguments", "playbook_file and playbook_files: set one of them.")
	case !d.has("playbook_file") && !d.has("playbook_files"):
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Missing required argument",
			Detail: "The ansible-local provisioner needs playbook_file or playbook_files.", Subject: b.DefRange.Ptr(),
		})
	}
	a.PlaybookFiles = append(single, many...)
	a.PlaybookDir = one(ev.fileRefs(d, "playbook_dir", false, dirOnly))
	a.InventoryFile = one(ev.fileRefs(d, "inventory_file", false, fileOnly))
	a.GroupVars = one(ev.fileRefs(d, "group_vars", false, dirOnly))
	a.HostVars = one(ev.fileRefs(d, "host_vars", false, dirOnly))
	a.RolePaths = ev.fileRefs(d, "role_paths", true, dirOnly)
	d.str("command", &a.Command)
	d.strList("extra_arguments", &a.ExtraArguments)
	d.strList("inventory_groups", &a.InventoryGroups)
	d.str("staging_directory", &a.StagingDirectory)
	d.boolean("clean_staging_directory", &a.CleanStagingDirectory)
	if attr, ok := d.attrs["inventory_groups"]; ok && a.InventoryFile != nil {
		d.warnf(attr, "Argument ignored", "inventory_groups: inventory_file is used as it is.")
	}
	return a
}
