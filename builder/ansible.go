package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/command"
)

// runAnsible runs ansible-playbook on the host against the build VM: an
// inventory with the VM's forwarded SSH port and clawimg's build key, and
// Packer's extra variables (packer_build_name, packer_builder_type). The
// guest needs Python, as for any Ansible target.
func runAnsible(ctx context.Context, st *state, a *hcl.Ansible, out io.Writer) error {
	user := a.User
	if user == "" {
		user = st.source.SSHUsername
	}
	inventory, err := writeInventory(st, a, user)
	if err != nil {
		return err
	}
	if !a.KeepInventoryFile {
		defer os.Remove(inventory)
	}
	playbook, _ := filepath.Abs(a.PlaybookFile.Path)
	args := []string{"-i", inventory, playbook,
		"-e", "packer_build_name=" + st.build.Name, "-e", "packer_builder_type=qemu", "-e", "packer_http_addr=" + httpAddr(st)}
	args = append(args, a.ExtraArguments...)
	sshArgs := append([]string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes"}, a.SSHExtraArgs...)
	env := append(os.Environ(),
		"ANSIBLE_HOST_KEY_CHECKING=False", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=False",
		"ANSIBLE_SSH_ARGS="+strings.Join(sshArgs, " "), "PACKER_BUILD_NAME="+st.build.Name, "PACKER_BUILDER_TYPE=qemu")
	env = append(env, a.EnvVars...)
	cmd := command.New(ctx, st.opts.Log, a.Command, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, out, out, localDir(st)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", a.Command, err)
	}
	return nil
}

// writeInventory writes the one-host inventory of the build VM, in its
// groups, into the build's directory (private to the build).
func writeInventory(st *state, a *hcl.Ansible, user string) (string, error) {
	host := fmt.Sprintf("%s ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s\n",
		a.HostAlias, st.port, user, st.keyPath)
	inv := host
	for _, g := range a.Groups {
		inv += "\n[" + g + "]\n" + a.HostAlias + "\n"
	}
	path := filepath.Join(st.dir, "ansible-inventory")
	return path, os.WriteFile(path, []byte(inv), 0o600)
}

// httpAddr is the build's HTTP server as the VM reaches it ("" without one).
func httpAddr(st *state) string {
	if st.httpPort == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", guestHostIP, st.httpPort)
}
