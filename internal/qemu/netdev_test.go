package qemu

import (
	"strings"
	"testing"
)

func TestNetdev(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"plain NAT", Config{SSHPort: 2222}, "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22"},
		{"restricted with helpers", Config{SSHPort: 2222, Restrict: true, Guestfwds: []Guestfwd{
			{Addr: "10.0.2.100:80", Argv: []string{"/opt/clawimg", "guestfwd", "broker", "/home/u/inst"}},
		}}, "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:'/opt/clawimg' 'guestfwd' 'broker' '/home/u/inst'"},
		// A comma would end QEMU's option; a quote or space would split
		// libslirp's command line.
		{"awkward path", Config{SSHPort: 1, Guestfwds: []Guestfwd{
			{Addr: "10.0.2.100:3128", Argv: []string{"/tmp/a b,c/it's/clawimg"}},
		}}, `user,id=net0,hostfwd=tcp:127.0.0.1:1-:22,guestfwd=tcp:10.0.2.100:3128-cmd:'/tmp/a b,,c/it'\''s/clawimg'`},
	} {
		if got := tc.cfg.netdev(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestEnvironDropsCredentials(t *testing.T) {
	got := strings.Join(Environ([]string{"PATH=/bin", "ANTHROPIC_API_KEY=sk", "GITHUB_TOKEN=x", "AWS_PROFILE=p",
		"MY_SECRET=s", "HOME=/root", "DB_PASSWORD=p", "LANG=C"}), " ")
	if got != "PATH=/bin HOME=/root LANG=C" {
		t.Errorf("Environ kept %s", got)
	}
}

func TestMachineArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // in this order in the command line
	}{
		{"defaults", Config{CPUs: 2}, []string{"-smp 2 ", "if=virtio,discard=unmap,detect-zeroes=unmap -netdev"}},
		{"topology", Config{CPUs: 4, Sockets: 1, Cores: 2, Threads: 2}, []string{"-smp 4,sockets=1,cores=2,threads=2 "}},
		{"disk options", Config{DiskCache: "none", DiskDiscard: "ignore"}, []string{"discard=ignore,detect-zeroes=on,cache=none -netdev"}},
		{"detect zeroes off", Config{DiskDetectZeroes: "off"}, []string{"discard=unmap,detect-zeroes=off -netdev"}},
		{"installer first, then the CD, then the seed, booted once", Config{CDROMs: []string{"/i.iso", "/cd.iso"}, Seed: "/seed.iso", BootOnce: "d"},
			[]string{"file=/i.iso,format=raw,media=cdrom", "file=/cd.iso,format=raw,media=cdrom", "file=/seed.iso,format=raw,media=cdrom", "-boot once=d"}},
		{"more disks after the first, alike", Config{Disk: "/d.qcow2", MoreDisks: []string{"/d-1.qcow2", "/d-2.qcow2"}, DiskIf: "scsi", DiskCache: "unsafe"},
			[]string{"file=/d.qcow2,format=qcow2,if=scsi,discard=unmap,detect-zeroes=unmap,cache=unsafe ", "file=/d-1.qcow2,format=qcow2,if=scsi,discard=unmap,detect-zeroes=unmap,cache=unsafe ", "file=/d-2.qcow2,"}},
		{"floppy", Config{Floppy: "/f.img"}, []string{"-drive file=/f.img,format=raw,if=floppy,index=0 "}},
		{"TPM, tpm-tis by default", Config{TPM: &TPM{Socket: "/t/swtpm.sock"}},
			[]string{"-chardev socket,id=chrtpm,path=/t/swtpm.sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 "}},
		{"a QMP monitor for the user too", Config{Dir: "/d", UserQMP: "/o/vm,1.monitor"},
			[]string{"-qmp unix:/d/qmp.sock,server=on,wait=off ", "-qmp unix:/o/vm,,1.monitor,server=on,wait=off "}},
		{"TPM, another device", Config{TPM: &TPM{Socket: "/s", Device: "tpm-crb"}}, []string{"-device tpm-crb,tpmdev=tpm0 "}},
	} {
		args := strings.Join(tc.cfg.Args(), " ") + " "
		at := 0
		for _, w := range tc.want {
			i := strings.Index(args[at:], w)
			if i < 0 {
				t.Errorf("%s: %q not found (in order) in %s", tc.name, w, args)
				break
			}
			at += i + len(w)
		}
	}
}
