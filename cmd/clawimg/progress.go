package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

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
		return barProgress(e.stderr)
	}
	return lineProgress(e.stderr)
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
				bar = progressbar.NewOptions64(p.Total,
					progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription(p.Phase),
					progressbar.OptionShowBytes(true),
					progressbar.OptionShowTotalBytes(true),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(),
				)
			}
			_ = bar.Set64(p.Done)
		}, func() {
			if bar != nil {
				_ = bar.Finish()
			}
		}
}

func lineProgress(w io.Writer) (images.ProgressFunc, func()) {
	last := map[string]int64{}
	start := time.Now()
	return func(p images.Progress) {
		if p.Total <= 0 {
			return
		}
		step := p.Done * 10 / p.Total
		if prev, ok := last[p.Phase]; ok && step <= prev {
			return
		}
		last[p.Phase] = step
		secs := time.Since(start).Seconds()
		rate := ""
		if secs > 0 {
			rate = fmt.Sprintf(", %s/s", images.HumanBytes(int64(float64(p.Done)/secs)))
		}
		fmt.Fprintf(w, "%s: %3d%% %s of %s%s\n", p.Phase, step*10, images.HumanBytes(p.Done), images.HumanBytes(p.Total), rate)
	}, func() {}
}
