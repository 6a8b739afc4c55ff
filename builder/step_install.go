package builder

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawimg/clawimg/internal/cidata"
	"github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/internal/wait"
)

// guestHostIP is the host as the build VM sees it on QEMU's user network:
// the HTTP server's {{ .HTTPIP }}.
const guestHostIP = "10.0.2.2"

// stepHTTP serves http_content and http_directory to the build VM (an
// installer fetching its preseed or kickstart file), on the host's
// loopback, which the guest reaches as guestHostIP. Each request is an
// event.
type stepHTTP struct{ srv *http.Server }

func (*stepHTTP) name() string { return "http" }

func (s *stepHTTP) run(ctx context.Context, st *state) error {
	src := st.source
	if src.HTTPDirectory == nil && len(src.HTTPContent) == 0 {
		return nil
	}
	l, err := listenInRange(src.HTTPPortMin, src.HTTPPortMax)
	if err != nil {
		return err
	}
	st.httpPort = l.Addr().(*net.TCPAddr).Port
	dir := ""
	if src.HTTPDirectory != nil {
		dir = src.HTTPDirectory.Path
	}
	s.srv = &http.Server{Handler: httpHandler(dir, src.HTTPContent, func(method, p string, code int) {
		st.event(Event{Phase: "http", Detail: fmt.Sprintf("%s %s %d", method, p, code)})
	}), ReadHeaderTimeout: 30 * time.Second}
	go s.srv.Serve(l)
	st.event(Event{Phase: "http", Detail: fmt.Sprintf("serving on 127.0.0.1:%d (the VM: %s:%d)", st.httpPort, guestHostIP, st.httpPort)})
	return nil
}

func (s *stepHTTP) cleanup(*state) error {
	if s.srv != nil {
		return s.srv.Close()
	}
	return nil
}

// listenInRange listens on the first free loopback port of min..max.
func listenInRange(min, max int) (net.Listener, error) {
	for p := min; p <= max; p++ {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("http server: no free port in %d-%d", min, max)
}

// httpHandler serves content (by path, "/" added in front when missing)
// first, then the files of dir, and reports each request.
func httpHandler(dir string, content map[string]string, report func(method, path string, code int)) http.Handler {
	var files http.Handler = http.NotFoundHandler()
	if dir != "" {
		files = http.FileServer(http.Dir(dir))
	}
	byPath := map[string]string{}
	for p, c := range content {
		byPath[path.Clean("/"+p)] = c
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		if c, ok := byPath[path.Clean(r.URL.Path)]; ok {
			http.ServeContent(rec, r, path.Base(r.URL.Path), time.Time{}, strings.NewReader(c))
		} else {
			files.ServeHTTP(rec, r)
		}
		report(r.Method, r.URL.Path, rec.code)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// stepCD makes the CD-ROM of cd_files and cd_content.
type stepCD struct{}

func (stepCD) name() string { return "cd" }

func (stepCD) cleanup(*state) error { return nil } // inside the work dir

func (stepCD) run(ctx context.Context, st *state) error {
	src := st.source
	if len(src.CDFiles) == 0 && len(src.CDContent) == 0 {
		return nil
	}
	var files []cidata.File
	seen := map[string]bool{}
	add := func(name string, data []byte) error {
		if seen[name] {
			return fmt.Errorf("cd: two files named %s", name)
		}
		seen[name] = true
		files = append(files, cidata.File{Name: name, Data: data})
		return nil
	}
	for _, f := range src.CDFiles {
		if f.Dir {
			return fmt.Errorf("cd_files: %s is a directory; the CD holds files only (list them)", f.Path)
		}
		b, err := st.plan.ReadFile(f.Path)
		if err != nil {
			return err
		}
		if err := add(filepath.Base(f.Path), b); err != nil {
			return err
		}
	}
	for _, n := range slices.Sorted(maps.Keys(src.CDContent)) {
		if err := add(n, []byte(src.CDContent[n])); err != nil {
			return err
		}
	}
	label := src.CDLabel
	if label == "" {
		label = "CDROM"
	}
	st.cdPath = filepath.Join(st.dir, "cd.iso")
	return cidata.WriteISO(st.cdPath, label, files, time.Now())
}

// bootVars are what a boot command's templates can name, as Packer's.
type bootVars struct {
	HTTPIP       string
	HTTPPort     int
	Name         string
	SSHPublicKey string
}

// stepBootCommand waits boot_wait, then types boot_command into the VM's
// keyboard through QMP.
type stepBootCommand struct{}

func (stepBootCommand) name() string { return "boot command" }

func (stepBootCommand) cleanup(*state) error { return nil }

func (stepBootCommand) run(ctx context.Context, st *state) error {
	src := st.source
	if err := wait.Sleep(ctx, time.Duration(src.BootWait)); err != nil {
		return err
	}
	steps := src.Steps()
	if len(steps) == 0 {
		return nil
	}
	name := src.VMName
	if name == "" {
		name = "packer-" + src.Name
	}
	vars := bootVars{HTTPIP: guestHostIP, HTTPPort: st.httpPort, Name: name, SSHPublicKey: st.key.AuthorizedKey}
	// Every step is read before any key is typed: a mistake in the last
	// one stops the build before the installer gets half a command.
	strokes := make([][]keyStroke, len(steps))
	for i, step := range steps {
		var err error
		if strokes[i], err = renderBootCommand(step.Command, vars); err != nil {
			return err
		}
	}
	mon, err := qemu.DialQMP(ctx, st.vm.QMPSocket())
	if err != nil {
		return err
	}
	defer mon.Close()
	interval := time.Duration(src.BootKeyInterval)
	if interval <= 0 {
		interval = 100 * time.Millisecond // Packer's default for QEMU
	}
	for i, step := range steps {
		detail := fmt.Sprintf("typing %d keystrokes", len(strokes[i]))
		if len(src.BootSteps) > 0 {
			detail = fmt.Sprintf("step %d of %d: %s", i+1, len(steps), cmp.Or(step.Description, step.Command))
		}
		st.event(Event{Phase: "boot command", Detail: detail})
		if err := typeStrokes(ctx, mon, strokes[i], interval); err != nil {
			return err
		}
	}
	return nil
}

// renderBootCommand fills in the templates of a boot command and reads
// the keystrokes.
func renderBootCommand(cmd string, vars bootVars) ([]keyStroke, error) {
	typed, err := fillTemplate(cmd, vars)
	if err != nil {
		return nil, fmt.Errorf("boot_command: %w", err)
	}
	return parseBootCommand(typed)
}

// keyboard is where keystrokes go (a QMP monitor).
type keyboard interface {
	Keys(ctx context.Context, codes []string, down bool) error
}

// typeStrokes types keystrokes, interval after each: a combination is
// pressed in order and released in reverse.
func typeStrokes(ctx context.Context, kb keyboard, strokes []keyStroke, interval time.Duration) error {
	for _, k := range strokes {
		var err error
		switch {
		case k.Down == "" && k.Up == "" && len(k.Keys) == 0:
			if err := wait.Sleep(ctx, k.Wait); err != nil {
				return fmt.Errorf("type the boot command: %w", err)
			}
			continue // a pause: no interval after it
		case k.Down != "":
			err = kb.Keys(ctx, []string{k.Down}, true)
		case k.Up != "":
			err = kb.Keys(ctx, []string{k.Up}, false)
		default:
			if err = kb.Keys(ctx, k.Keys, true); err == nil {
				rev := slices.Clone(k.Keys)
				slices.Reverse(rev)
				err = kb.Keys(ctx, rev, false)
			}
		}
		if err != nil {
			return fmt.Errorf("type the boot command: %w", err)
		}
		if err := wait.Sleep(ctx, interval); err != nil {
			return err
		}
	}
	return nil
}
