package builder

import (
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/guest"
)

// ansibleLocalStaging is where Packer's ansible-local stages its files
// when the recipe names no staging_directory.
const ansibleLocalStaging = "/tmp/packer-provisioner-ansible-local"

// runAnsibleLocal uploads an ansible-local provisioner's files into a
// staging directory of the build VM and runs each playbook there against
// the VM itself, as Packer's ansible-local does: cd STAGING && COMMAND
// PLAYBOOK --extra-vars "packer_build_name=... packer_builder_type=qemu
// packer_http_addr=..." -c local -i INVENTORY EXTRA_ARGUMENTS.
func runAnsibleLocal(ctx context.Context, st *state, a *hcl.AnsibleLocal, out io.Writer) error {
	staging := a.StagingDirectory
	if staging == "" {
		staging = path.Join(ansibleLocalStaging, randomHex(8))
	}
	inventory, err := stageAnsibleLocal(st, a, staging)
	if err != nil {
		return err
	}
	vars := fmt.Sprintf("packer_build_name=%s packer_builder_type=qemu packer_http_addr=%s", st.build.Name, httpAddr(st))
	for _, pb := range a.PlaybookFiles {
		// extra_arguments join as they are, as in Packer: the recipe
		// quotes what the shell must not split.
		cmd := fmt.Sprintf("cd %s && %s %s --extra-vars %s -c local -i %s", guest.Quote(staging), a.Command,
			guest.Quote(path.Base(filepath.ToSlash(pb.Path))), guest.Quote(vars), guest.Quote(inventory))
		if len(a.ExtraArguments) > 0 {
			cmd += " " + strings.Join(a.ExtraArguments, " ")
		}
		code, err := st.client.Run(ctx, cmd, nil, out, out)
		if err != nil {
			return fmt.Errorf("%s: %w", pb.Path, err)
		}
		if code != 0 {
			return fmt.Errorf("%s: ansible-playbook exited with status %d", pb.Path, code)
		}
	}
	if a.CleanStagingDirectory {
		if _, err := st.client.Output(ctx, "rm -rf "+guest.Quote(staging)); err != nil {
			return fmt.Errorf("clean %s: %w", staging, err)
		}
	}
	return nil
}

// stageAnsibleLocal uploads what the playbooks use into staging:
// playbook_dir's contents, the playbooks, group_vars/, host_vars/,
// roles/NAME and the inventory (the recipe's, or 127.0.0.1 in
// inventory_groups). It returns the inventory's name there.
func stageAnsibleLocal(st *state, a *hcl.AnsibleLocal, staging string) (string, error) {
	sc, err := st.client.SFTP()
	if err != nil {
		return "", fmt.Errorf("sftp: %w", err)
	}
	defer sc.Close()
	if err := sc.MkdirAll(staging); err != nil {
		return "", fmt.Errorf("mkdir %s: %w", staging, err)
	}
	if a.PlaybookDir != nil {
		if err := uploadDir(sc, a.PlaybookDir.Path+"/", staging); err != nil {
			return "", err
		}
	}
	for _, pb := range a.PlaybookFiles {
		if err := uploadFile(st, sc, pb.Path, staging+"/"); err != nil {
			return "", err
		}
	}
	for dir, ref := range map[string]*hcl.FileRef{"group_vars": a.GroupVars, "host_vars": a.HostVars} {
		if ref != nil {
			if err := uploadInto(sc, ref.Path, path.Join(staging, dir)); err != nil {
				return "", err
			}
		}
	}
	for _, role := range a.RolePaths {
		if err := uploadInto(sc, role.Path, path.Join(staging, "roles", filepath.Base(role.Path))); err != nil {
			return "", err
		}
	}
	if a.InventoryFile != nil {
		if err := uploadFile(st, sc, a.InventoryFile.Path, staging+"/"); err != nil {
			return "", err
		}
		return filepath.Base(a.InventoryFile.Path), nil
	}
	inv := "127.0.0.1\n"
	for _, g := range a.InventoryGroups {
		inv += "\n[" + g + "]\n127.0.0.1\n"
	}
	name := "packer-provisioner-ansible-local-inventory"
	return name, putFile(sc, path.Join(staging, name), []byte(inv), 0o644)
}

// uploadInto copies a host directory's contents into dst, made first.
func uploadInto(sc *sftp.Client, src, dst string) error {
	if err := sc.MkdirAll(dst); err != nil {
		return fmt.Errorf("mkdir %s: %w", dst, err)
	}
	return uploadDir(sc, src+"/", dst)
}
