package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/clawimg/clawimg/builder"
	"github.com/clawimg/clawimg/images"
)

// progress renders byte progress: a bar with throughput and ETA on a
// terminal, a plain line every 10% otherwise, nothing with quiet. Call the
// returned function when the work ends.
func (e *env) progress(quiet bool) (images.ProgressFunc, func()) {
	if quiet {
		return nil, func() {}
	}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return serialized(barProgress(e.stderr))
	}
	return serialized(lineProgress(e.stderr))
}

// serialized makes a renderer safe to call from the store's parallel
// workers (unpack and verify report from each of them).
func serialized(f images.ProgressFunc, done func()) (images.ProgressFunc, func()) {
	var mu sync.Mutex
	return func(p images.Progress) {
			mu.Lock()
			defer mu.Unlock()
			f(p)
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			done()
		}
}

func barProgress(w io.Writer) (images.ProgressFunc, func()) {
	var bar *progressbar.ProgressBar
	phase := ""
	return func(p images.Progress) {
			if bar == nil || p.Phase != phase {
				if bar != nil {
					_ = bar.Finish()
				}
				phase = p.Phase
				opts := []progressbar.Option{
					progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription(p.Phase),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100 * time.Millisecond),
					progressbar.OptionClearOnFinish(),
				}
				if p.Items {
					opts = append(opts, progressbar.OptionShowCount())
				} else {
					opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true))
				}
				bar = progressbar.NewOptions64(p.Total, opts...)
			}
			_ = bar.Set64(p.Done)
		}, func() {
			if bar != nil {
				_ = bar.Finish()
				bar, phase = nil, ""
			}
		}
}

// steps renders a long operation's steps as "==> PREFIXstep" lines and
// its byte progress as progress() does; a step line first ends the bar
// of the step before. Call the returned function when the work ends.
func (e *env) steps(prefix string, quiet bool) (func(string), images.ProgressFunc, func()) {
	if quiet {
		return nil, nil, func() {}
	}
	bytes, done := e.progress(false)
	return func(s string) {
		done()
		fmt.Fprintf(e.stderr, "==> %s%s\n", prefix, s)
	}, bytes, done
}

func lineProgress(w io.Writer) (images.ProgressFunc, func()) {
	last := map[string]int64{}
	start := map[string]time.Time{}
	return func(p images.Progress) {
		if p.Total <= 0 {
			return
		}
		if _, ok := start[p.Phase]; !ok {
			start[p.Phase] = time.Now()
		}
		step := p.Done * 10 / p.Total
		if prev, ok := last[p.Phase]; ok && step <= prev {
			return
		}
		last[p.Phase] = step
		if p.Items {
			fmt.Fprintf(w, "%s: %3d%% %d of %d\n", p.Phase, step*10, p.Done, p.Total)
			return
		}
		secs := time.Since(start[p.Phase]).Seconds()
		rate := ""
		if secs > 0 {
			rate = fmt.Sprintf(", %s/s", images.HumanBytes(int64(float64(p.Done)/secs)))
		}
		fmt.Fprintf(w, "%s: %3d%% %s of %s%s\n", p.Phase, step*10, images.HumanBytes(p.Done), images.HumanBytes(p.Total), rate)
	}, func() {}
}

// buildEvents renders a build's phases as lines and its byte progress as
// a bar (on a terminal) or as lines.
func (e *env) buildEvents(quiet bool) (func(builder.Event), func()) {
	if quiet {
		return nil, func() {}
	}
	bytes, done := e.progress(false)
	return func(ev builder.Event) {
		switch {
		case ev.Bytes != nil:
			bytes(*ev.Bytes)
		case ev.Done && ev.Detail != "":
			fmt.Fprintf(e.stderr, "    %s done in %s\n", ev.Detail, ev.Elapsed.Round(time.Second))
		case ev.Done:
			fmt.Fprintf(e.stderr, "==> %s done in %s\n", ev.Phase, ev.Elapsed.Round(100*time.Millisecond))
		case ev.Detail != "":
			fmt.Fprintf(e.stderr, "==> %s: %s\n", ev.Phase, ev.Detail)
		default:
			fmt.Fprintf(e.stderr, "==> %s\n", ev.Phase)
		}
	}, done
}
