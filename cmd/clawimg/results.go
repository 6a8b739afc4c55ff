package main

import (
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/launcher"
)

// The --json results of the commands that make something, for scripts:
// names, digests, sizes in bytes, times in seconds.

type buildResult struct {
	Image    images.Image `json:"image"`
	UpToDate bool         `json:"up_to_date"`
	Seconds  float64      `json:"seconds"`
	Accel    string       `json:"accel,omitempty"`
	Warm     *warmResult  `json:"warm,omitempty"`
}

type warmResult struct {
	Image      string  `json:"image"`
	Digest     string  `json:"digest"` // the warm state's
	Size       int64   `json:"size"`
	MemoryMiB  int     `json:"memory_mib"`
	CPUs       int     `json:"cpus"`
	Accel      string  `json:"accel"`
	Ready      string  `json:"ready"`
	Seconds    float64 `json:"seconds"`
	ReadyAfter float64 `json:"ready_after_seconds"`
}

func newWarmResult(w *launcher.Warmed) *warmResult {
	return &warmResult{Image: w.Image, Digest: w.State.Digest, Size: w.State.Size, MemoryMiB: w.Machine.MemoryMiB,
		CPUs: w.Machine.CPUs, Accel: w.Machine.Accel, Ready: w.Ready, Seconds: seconds(w.Took), ReadyAfter: seconds(w.ReadyAfter)}
}

type launchResult struct {
	Name    string `json:"name"`
	Image   string `json:"image"`
	Digest  string `json:"digest"`
	Driver  string `json:"driver"`
	Start   string `json:"start"` // warm or cold
	SSH     string `json:"ssh"`
	Egress  string `json:"egress,omitempty"`
	KeyInVM bool   `json:"key_in_vm"`
	// Ready is false with --no-wait and when something did not become
	// ready (NotReady says what; the exit status is then 1).
	Ready          bool    `json:"ready"`
	NotReady       string  `json:"not_ready,omitempty"`
	StartedSeconds float64 `json:"started_seconds"`
	ReadySeconds   float64 `json:"ready_seconds,omitempty"`
	ColdReason     string  `json:"cold_reason,omitempty"`
	// Verify holds the probes' results with --verify.
	Verify *launcher.Verification `json:"verify,omitempty"`
}

func newLaunchResult(r *launcher.Launched) launchResult {
	return launchResult{Name: r.Name, Image: r.Image, Digest: r.Digest, Driver: r.Driver, Start: r.Start, SSH: r.SSH,
		Egress: r.Egress, KeyInVM: r.KeyInVM, Ready: r.Ready > 0 && r.NotReady == "", NotReady: r.NotReady,
		StartedSeconds: seconds(r.Started), ReadySeconds: seconds(r.Ready), ColdReason: r.ColdReason}
}

type pushResult struct {
	Ref          string `json:"ref"`
	Digest       string `json:"digest"`
	Chunks       int    `json:"chunks"`
	Pushed       int    `json:"pushed"`
	PushedBytes  int64  `json:"pushed_bytes"`
	PresentBytes int64  `json:"present_bytes"`
	WarmStates   int    `json:"warm_states"`
}

type pullResult struct {
	Image        images.Image `json:"image"`
	Chunks       int          `json:"chunks"`
	Fetched      int          `json:"fetched"`
	FetchedBytes int64        `json:"fetched_bytes"`
	WarmStates   int          `json:"warm_states"`
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
