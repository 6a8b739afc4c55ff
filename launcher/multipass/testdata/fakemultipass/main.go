// Command fakemultipass stands in for Canonical's multipass CLI in tests:
// it checks arguments, keeps instances in a state file, and answers with
// the texts, JSON shapes and exit codes of multipass 1.16.3 (read from
// canonical/multipass, src/client/cli). Commands given to exec run on the host, in
// the instance's fake root where they name guest paths.
//
// Environment: FAKE_MULTIPASS_DIR (state and instance roots),
// FAKE_MULTIPASS_LAUNCH_TIMEOUT=1 (launch times out as the daemon does),
// FAKE_MULTIPASS_BOOT_SECONDS (cloud-init finishes that long after launch).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type instance struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Image     string    `json:"image"`
	CPUs      int       `json:"cpus"`
	BootAfter time.Time `json:"boot_after"`
	Deleted   bool      `json:"deleted"`
}

type state struct {
	Instances map[string]*instance `json:"instances"`
}

var dir = os.Getenv("FAKE_MULTIPASS_DIR")

func load() *state {
	s := &state{Instances: map[string]*instance{}}
	if b, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		json.Unmarshal(b, s)
	}
	return s
}

func (s *state) save() {
	b, _ := json.MarshalIndent(s, "", "  ")
	os.WriteFile(filepath.Join(dir, "state.json"), b, 0o644)
}

func root(name string) string { return filepath.Join(dir, "roots", name) }

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

// logArgv records every invocation, so tests can check what never appears
// on a command line.
func logArgv() {
	f, err := os.OpenFile(filepath.Join(dir, "argv.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, strings.Join(os.Args, " "))
		f.Close()
	}
}

func main() {
	if dir == "" {
		fail(3, "fake multipass: FAKE_MULTIPASS_DIR is not set")
	}
	os.MkdirAll(dir, 0o755)
	logArgv()
	if len(os.Args) < 2 {
		fail(1, "Usage: multipass [options] <command>")
	}
	s := load()
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "version":
		if has(args, "--format") {
			fmt.Println(`{"multipass": "1.16.3", "multipassd": "1.16.3"}`)
		} else {
			fmt.Println("multipass   1.16.3\nmultipassd  1.16.3")
		}
	case "launch":
		launch(s, args)
	case "list", "ls":
		list(s, args)
	case "info":
		info(s, args)
	case "exec":
		execCmd(s, args)
	case "stop", "start":
		startStop(s, cmd, args)
	case "delete":
		del(s, args)
	case "transfer":
		transfer(s, args)
	case "shell":
		need(s, "shell", args)
		fmt.Println("fake multipass shell")
	default:
		fmt.Printf("Error: Unknown command or alias '%s'\n", cmd)
		os.Exit(1)
	}
}

func has(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

var nameRe = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
var sizeRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[KMG]?$`)

func launch(s *state, args []string) {
	var name, cloudInit, image string
	cpus := 1
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() string {
			if i+1 >= len(args) {
				fail(1, "Missing value for option '%s'.", a)
			}
			i++
			return args[i]
		}
		switch a {
		case "-n", "--name":
			name = val()
		case "-c", "--cpus":
			v := val()
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				fail(1, "error: invalid CPU count '%s', need a positive integer value.", v)
			}
			cpus = n
		case "-m", "--memory":
			if v := val(); !sizeRe.MatchString(v) {
				fail(2, "launch failed: Invalid arguments supplied\nInvalid memory size value supplied: %s.", v)
			}
		case "-d", "--disk":
			if v := val(); !sizeRe.MatchString(v) {
				fail(2, "launch failed: Invalid arguments supplied\nInvalid disk size value supplied: %s.", v)
			}
		case "--cloud-init":
			cloudInit = val()
		case "--timeout":
			if n, err := strconv.Atoi(val()); err != nil || n <= 0 {
				fail(1, "error: --timeout value has to be a positive integer")
			}
		default:
			if strings.HasPrefix(a, "-") {
				fail(1, "Unknown option '%s'.", a)
			}
			if image != "" {
				fail(1, "Too many arguments supplied")
			}
			image = a
		}
	}
	if name == "" {
		name = "fake-instance"
	}
	if !nameRe.MatchString(name) {
		fail(2, "launch failed: Invalid arguments supplied\nInvalid instance name supplied: %s", name)
	}
	if path, ok := strings.CutPrefix(image, "file://"); ok {
		abs, _ := filepath.Abs(path)
		// Snap confinement: the daemon sees neither /tmp nor hidden folders.
		_, err := os.Stat(abs)
		if err != nil || strings.HasPrefix(abs, "/tmp/") || strings.Contains(abs, "/.") {
			fail(2, "launch failed: Custom image `%s` does not exist.", abs)
		}
	}
	var userData []byte
	switch cloudInit {
	case "":
	case "-":
		userData, _ = io.ReadAll(os.Stdin)
	default:
		b, err := os.ReadFile(cloudInit)
		if err != nil {
			fail(1, "Could not load cloud-init configuration: %v\nPlease ensure that Multipass can read it.", err)
		}
		userData = b
	}
	if len(userData) > 0 && !strings.HasPrefix(string(userData), "#cloud-config") && !strings.Contains(string(userData), ":") {
		fail(1, "Could not load cloud-init configuration: yaml-cpp: error at line 1, column 1: invalid node")
	}
	if old, ok := s.Instances[name]; ok {
		_ = old
		fail(2, "launch failed: instance \"%s\" already exists", name)
	}
	inst := &instance{Name: name, State: "Running", Image: image, CPUs: cpus}
	boot, _ := strconv.Atoi(os.Getenv("FAKE_MULTIPASS_BOOT_SECONDS"))
	inst.BootAfter = time.Now().Add(time.Duration(boot) * time.Second)
	r := root(name)
	os.MkdirAll(filepath.Join(r, "etc"), 0o755)
	os.MkdirAll(filepath.Join(r, "var/lib/cloud/instance"), 0o755)
	os.WriteFile(filepath.Join(r, "etc/machine-id"), []byte(fmt.Sprintf("%032x\n", time.Now().UnixNano())), 0o644)
	os.WriteFile(filepath.Join(r, "user-data"), userData, 0o600)
	s.Instances[name] = inst
	if os.Getenv("FAKE_MULTIPASS_LAUNCH_TIMEOUT") != "" {
		inst.State = "Unknown"
		s.save()
		fail(2, "launch failed: The following errors occurred:\n%s: timed out waiting for response", name)
	}
	s.save()
	fmt.Printf("Launched: %s\n", name)
}

// need checks that every name exists, with multipass's error text.
func need(s *state, cmd string, names []string) {
	var missing []string
	for _, n := range names {
		if inst, ok := s.Instances[n]; !ok || inst.Deleted {
			missing = append(missing, fmt.Sprintf("instance \"%s\" does not exist", n))
		}
	}
	if len(missing) > 0 {
		fail(2, "%s failed: The following errors occurred:\n%s", cmd, strings.Join(missing, "\n"))
	}
}

func ipv4(inst *instance) []string {
	if inst.State != "Running" {
		return []string{}
	}
	return []string{"10.21.124.56"}
}

func list(s *state, args []string) {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && a != "json" && a != "table" && a != "csv" && a != "yaml" {
			fail(1, "This command takes no arguments")
		}
	}
	type row struct {
		IPv4    []string `json:"ipv4"`
		Name    string   `json:"name"`
		Release string   `json:"release"`
		State   string   `json:"state"`
	}
	rows := []row{}
	for _, inst := range sorted(s) {
		rows = append(rows, row{ipv4(inst), inst.Name, "Not Available", inst.State})
	}
	b, _ := json.MarshalIndent(map[string]any{"list": rows}, "", "    ")
	fmt.Println(string(b))
}

func sorted(s *state) []*instance {
	var out []*instance
	for _, inst := range s.Instances {
		if !inst.Deleted {
			out = append(out, inst)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func info(s *state, args []string) {
	var names []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--format" {
			i++
			continue
		}
		names = append(names, args[i])
	}
	need(s, "info", names)
	out := map[string]any{}
	for _, n := range names {
		inst := s.Instances[n]
		entry := map[string]any{
			"image_hash": "1797c5c82016c1e65f4008fcf89deae3a044ef76087a9ec5b907c6d64a3609ac", "image_release": "",
			"ipv4": ipv4(inst), "mounts": map[string]any{}, "snapshot_count": "0", "state": inst.State,
		}
		if inst.State == "Running" {
			entry["cpu_count"] = strconv.Itoa(inst.CPUs)
			entry["disks"] = map[string]any{"sda1": map[string]string{"total": "21474836480", "used": "1288490188"}}
			entry["memory"] = map[string]int64{"total": 4102688768, "used": 60817408}
			entry["load"] = []float64{0.45, 0.51, 0.15}
			entry["release"] = "Debian GNU/Linux 12 (bookworm)"
		} else {
			entry["cpu_count"], entry["disks"], entry["memory"] = "", map[string]any{"sda1": map[string]any{}}, map[string]any{}
			entry["load"], entry["release"] = []float64{}, ""
		}
		out[n] = entry
	}
	b, _ := json.MarshalIndent(map[string]any{"errors": []any{}, "info": out}, "", "    ")
	fmt.Println(string(b))
}

func execCmd(s *state, args []string) {
	if len(args) < 2 {
		fail(1, "Wrong number of arguments")
	}
	name, rest := args[0], args[1:]
	if rest[0] == "--" {
		rest = rest[1:]
	} else if strings.HasPrefix(rest[0], "-") {
		fail(1, "Unknown option '%s'.\nOptions to the inner command should come after \"--\", like this:\nmultipass exec <instance> -- <command>", rest[0])
	}
	need(s, "exec", []string{name})
	inst := s.Instances[name]
	if inst.State != "Running" { // the real client starts it and retries
		inst.State = "Running"
		s.save()
	}
	r := root(name)
	if time.Now().After(inst.BootAfter) {
		os.WriteFile(filepath.Join(r, "var/lib/cloud/instance/boot-finished"), nil, 0o644)
	}
	// Guest paths live in the instance's fake root.
	for i, a := range rest {
		for _, p := range []string{"/var/lib/cloud/", "/etc/machine-id"} {
			a = strings.ReplaceAll(a, p, r+p)
		}
		rest[i] = a
	}
	// The guest has cloud-init; the host running the fake may not.
	// FAKE_MULTIPASS_GUEST_BIN holds a test's stand-ins for more of the
	// guest's commands.
	guestBin := filepath.Join(dir, "guestbin")
	os.MkdirAll(guestBin, 0o755)
	os.WriteFile(filepath.Join(guestBin, "cloud-init"), []byte("#!/bin/sh\necho 'status: done'\n"), 0o755)
	// The default user has passwordless sudo in the guest; the host may
	// have no sudo at all: run the command as is.
	os.WriteFile(filepath.Join(guestBin, "sudo"), []byte("#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in -n|-i) shift ;; -u) shift 2 ;; *) break ;; esac; done\nexec \"$@\"\n"), 0o755)
	for attempt := 0; ; attempt++ {
		c := exec.Command(rest[0], rest[1:]...)
		path := guestBin + ":" + os.Getenv("PATH")
		if extra := os.Getenv("FAKE_MULTIPASS_GUEST_BIN"); extra != "" {
			path = extra + ":" + path
		}
		c.Env = append(os.Environ(), "PATH="+path)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			fail(2, "exec failed: %v", err)
		}
		if code != 4 {
			os.Exit(code)
		}
		// multipass <= 1.16 re-runs the command while it exits 4 (#3771).
		if attempt == 5 {
			fail(99, "fake multipass: exit status 4 would make multipass 1.16 loop forever (#3771)")
		}
	}
}

func startStop(s *state, cmd string, names []string) {
	if len(names) == 0 {
		fail(1, "Name argument or --all is required")
	}
	if cmd == "start" {
		var missing []string
		for _, n := range names {
			if _, ok := s.Instances[n]; !ok {
				missing = append(missing, fmt.Sprintf("Instance '%s' does not exist.", n))
			}
		}
		if len(missing) > 0 {
			fail(2, "start failed: instance(s) missing\n%s", strings.Join(missing, "\n"))
		}
	}
	need(s, cmd, names)
	for _, n := range names {
		if cmd == "stop" {
			s.Instances[n].State = "Stopped"
		} else {
			s.Instances[n].State = "Running"
		}
	}
	s.save()
}

func del(s *state, args []string) {
	purge := false
	var names []string
	for _, a := range args {
		switch a {
		case "-p", "--purge":
			purge = true
		default:
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		fail(1, "Name argument or --all is required")
	}
	need(s, "delete", names)
	for _, n := range names {
		if purge {
			delete(s.Instances, n)
			os.RemoveAll(root(n))
		} else {
			s.Instances[n].Deleted = true
		}
	}
	s.save()
}

// transfer copies between the host and an instance's fake root with cp.
func transfer(s *state, args []string) {
	recursive := false
	var paths []string
	for _, a := range args {
		switch a {
		case "-r", "--recursive":
			recursive = true
		case "-p", "--parents":
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				fail(1, "Unknown option '%s'.", a)
			}
			paths = append(paths, a)
		}
	}
	if len(paths) < 2 {
		fail(1, "Not enough arguments given")
	}
	inGuest := func(p string) (string, bool) {
		name, rest, ok := strings.Cut(p, ":")
		if !ok || strings.Contains(name, "/") {
			return p, false
		}
		need(s, "transfer", []string{name})
		return filepath.Join(root(name), rest), true
	}
	dst, dstGuest := inGuest(paths[len(paths)-1])
	srcs := paths[:len(paths)-1]
	for i, p := range srcs {
		var g bool
		srcs[i], g = inGuest(p)
		switch {
		case g && dstGuest:
			fail(1, "Cannot specify an instance name for both source and destination")
		case !g && !dstGuest:
			fail(1, "An instance name is needed for either source or destination")
		}
	}
	for _, src := range srcs {
		if fi, err := os.Stat(src); err == nil && fi.IsDir() && !recursive {
			fail(2, "transfer failed: Cannot copy %q: it is a directory; use --recursive", src)
		}
		cpArgs := []string{"-P", "--preserve=mode"}
		if recursive {
			cpArgs = append(cpArgs, "-R")
		}
		if out, err := exec.Command("cp", append(cpArgs, src, dst)...).CombinedOutput(); err != nil {
			fail(2, "transfer failed: %s", strings.TrimSpace(string(out)))
		}
	}
}
