// Package builder turns a recipe's build plan into a stored disk image: it
// boots the base image in a QEMU VM, provisions it over SSH, generalizes it
// so every instance made from it gets its own identity, and hands the disk
// to the image store.
//
// A build is a pipeline of steps (step_*.go), each with a cleanup. When a
// step fails, or the context ends (SIGINT, SIGTERM), the cleanups of the
// steps that ran are called in reverse order, and the error names the step.
package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/qemu"
)

// Options say what to build and how.
type Options struct {
	Plan *hcl.Plan
	// Build is the build's name; empty means the recipe's only build.
	Build string
	// Only and Except select builds and sources as Packer's -only and
	// -except: TYPE.NAME or BUILD.TYPE.NAME patterns, with globs.
	Only, Except []string
	// Tag is NAME[:TAG] for the image; empty means the build's name.
	Tag   string
	Force bool
	// OnError is "cleanup" (stop the VM, remove temp files) or "abort"
	// (leave the VM running to debug it over SSH).
	OnError string
	// Accel overrides the source's accelerator: auto, kvm, hvf or tcg.
	Accel string
	// CACerts are PEM files the build VM trusts while it is provisioned.
	CACerts []string
	// SSHAgentSocket is the host's SSH agent (SSH_AUTH_SOCK), for recipes
	// with ssh_agent_auth or ssh_bastion_agent_auth.
	SSHAgentSocket string
	// CacheDir keeps downloaded base images, by checksum.
	CacheDir string
	// WorkDir holds the build's VM (overlay disk, seed, key, console log).
	WorkDir string
	Store   *images.Store
	// Version of clawimg, part of the build cache key.
	Version string
	Log     *slog.Logger
	// Events receives the build's phases and byte progress; may be nil.
	Events func(Event)
	// Output receives provisioner output, line by line, prefixed with the
	// build's name and with sensitive values masked.
	Output io.Writer
}

// Event reports the build's progress: a phase starting (Done false) or
// ending, or bytes moving within a phase (Bytes set, in the store's one
// progress type, as images and the launcher report it).
type Event struct {
	Phase   string
	Detail  string
	Done    bool
	Elapsed time.Duration
	Bytes   *images.Progress
}

// Result is a finished build.
type Result struct {
	Image    *images.Image
	UpToDate bool
	Accel    string
	Duration time.Duration
}

// AbortedError is a failed build whose VM was left running (--on-error=abort).
type AbortedError struct {
	Err        error
	SSHCommand string
	PID        int
}

func (e *AbortedError) Error() string { return e.Err.Error() }
func (e *AbortedError) Unwrap() error { return e.Err }

// ConsoleError is a failure where the VM's serial console tells more.
type ConsoleError struct {
	Err  error
	Tail string // the last lines of the console
}

func (e *ConsoleError) Error() string { return e.Err.Error() }
func (e *ConsoleError) Unwrap() error { return e.Err }

// state is what the steps hand each other.
type state struct {
	opts   Options
	plan   *hcl.Plan
	build  hcl.Build
	source *hcl.QEMUSource
	tag    images.Ref
	dir    string

	basePath   string // the base image file
	baseURL    string // where it came from (iso_url, or the one of iso_urls that gave it)
	baseSHA256 string
	key        *guest.KeyPair
	keyPath    string
	diskPath   string
	moreDisks  []string // disk_additional_size's, in order
	seedPath   string
	cdPath     string      // the CD-ROM of cd_files and cd_content, if any
	floppyPath string      // the floppy of floppy_files, _dirs and _content, if any
	tpm        *qemu.Swtpm // vtpm's, if any
	httpPort   int         // the build's HTTP server, if any
	accel      string
	port       int
	vm         *qemu.VM
	client     *guest.Client
	agent      *guest.Agent // the host's SSH agent, with ssh_agent_auth
	fetchDir   string       // iso_skip_cache's download, removed when the build ends
	caPath     string       // where the injected CA certificates are in the guest
	cacheKey   string
	image      *images.Image
	keep       bool // leave the VM running on failure
	secrets    []string
	skipped    []string   // sources of other builders, not built
	outMu      sync.Mutex // one writer of Output at a time
}

func (st *state) event(e Event) {
	if st.opts.Events != nil {
		st.opts.Events(e)
	}
}

// step is one stage of a build.
type step interface {
	name() string
	run(ctx context.Context, st *state) error
	cleanup(st *state) error
}

// Build runs a build to its end.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	st, err := newState(opts)
	if err != nil {
		return nil, err
	}
	for _, s := range st.skipped {
		st.event(Event{Phase: "skip", Detail: s + ": clawimg builds qemu sources only"})
	}
	st.event(Event{Phase: "fetch", Detail: st.source.Places()})
	defer st.removeDownload()
	if err := (&stepFetch{}).run(ctx, st); err != nil {
		return nil, fmt.Errorf("build %s: fetch: %w", st.build.Name, err)
	}
	st.event(Event{Phase: "fetch", Done: true, Elapsed: time.Since(start)})
	st.cacheKey, err = cacheKey(st)
	if err != nil {
		return nil, err
	}
	if !opts.Force {
		if img, err := opts.Store.Resolve(st.tag.String()); err == nil && img.RecipeHash == st.cacheKey {
			// Up to date; the output file is written again only if gone.
			if p := outputPath(st.build, st.source); p != "" {
				if _, err := os.Stat(p); err != nil {
					if err := writeOutput(ctx, st, img); err != nil {
						return nil, fmt.Errorf("build %s: %w", st.build.Name, err)
					}
				}
			}
			return &Result{Image: img, UpToDate: true, Duration: time.Since(start)}, nil
		}
	}
	// An image that is up to date builds nothing: only a real build
	// refuses an existing output directory.
	if err := checkOutput(st); err != nil {
		return nil, fmt.Errorf("build %s: %w", st.build.Name, err)
	}
	steps := []step{
		&stepWorkDir{}, &stepDisk{}, &stepSeed{}, &stepCD{}, &stepFloppy{}, &stepTPM{}, &stepHTTP{}, &stepBoot{}, &stepBootCommand{}, &stepSSH{}, &stepCACerts{},
		&stepProvision{}, &stepGeneralize{}, &stepShutdown{}, &stepStore{}, &stepOutput{}, &stepPostProcess{},
	}
	if err := runSteps(ctx, st, steps); err != nil {
		if st.keep && st.vm != nil && !st.vm.Exited() {
			return nil, &AbortedError{Err: err, SSHCommand: sshCommand(st), PID: st.vm.PID()}
		}
		return nil, err
	}
	return &Result{Image: st.image, Accel: st.accel, Duration: time.Since(start)}, nil
}

// runSteps runs steps in order; on failure it runs the cleanups of the
// steps that started, in reverse, and names the failed step in the error.
func runSteps(ctx context.Context, st *state, steps []step) error {
	var ran []step
	var failure error
	for _, s := range steps {
		ran = append(ran, s)
		began := time.Now()
		st.event(Event{Phase: s.name()})
		if err := s.run(ctx, st); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("interrupted: %w", ctx.Err())
			}
			failure = fmt.Errorf("build %s: %s: %w", st.build.Name, s.name(), err)
			break
		}
		st.event(Event{Phase: s.name(), Done: true, Elapsed: time.Since(began)})
	}
	if failure != nil && st.opts.OnError == "abort" {
		st.keep = true
	}
	var cleanupErrs []error
	for i := len(ran) - 1; i >= 0; i-- {
		if err := ran[i].cleanup(st); err != nil {
			cleanupErrs = append(cleanupErrs, fmt.Errorf("clean up %s: %w", ran[i].name(), err))
		}
	}
	if failure != nil {
		return errors.Join(append([]error{failure}, cleanupErrs...)...)
	}
	return errors.Join(cleanupErrs...)
}

func newState(opts Options) (*state, error) {
	p := opts.Plan
	sel, err := selectBuild(p, opts.Build, opts.Only, opts.Except)
	if err != nil {
		return nil, err
	}
	b := *sel.build
	b.Sources = []string{sel.source}
	src := p.Source(sel.source[len("source.qemu."):])
	tag := opts.Tag
	if tag == "" {
		tag = b.Name
	}
	ref, err := images.ParseRef(tag)
	if err != nil {
		return nil, err
	}
	if ref.Digest != "" {
		return nil, fmt.Errorf("%w: -t needs NAME[:TAG], not a digest", images.ErrInvalidReference)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	secrets := p.SensitiveValues()
	secrets = append(secrets, passwords(src)...) // masked in the build's output
	return &state{opts: opts, plan: p, build: b, source: src, tag: ref, secrets: secrets, skipped: sel.skipped}, nil
}

// removeDownload removes iso_skip_cache's download.
func (st *state) removeDownload() {
	if st.fetchDir != "" {
		os.RemoveAll(st.fetchDir)
	}
}

func sshCommand(st *state) string {
	return fmt.Sprintf("ssh -i %s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null %s@127.0.0.1",
		st.keyPath, st.port, st.source.SSHUsername)
}
