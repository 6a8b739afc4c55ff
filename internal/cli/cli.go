// Package cli holds what clawimg's commands share and is not API: the flag
// spelling rule (README, "Usage"), the error kinds that choose exit codes, and hints.
package cli

import (
	"errors"
	"fmt"
	"strings"
)

// longFlag matches a single-dash spelling of a long flag: -name or -name=value.
// UsageError is a mistake in how a command was called: exit code 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef makes a UsageError.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// HintError carries a suggestion printed after the error as
// "clawimg: hint: ...".
type HintError struct {
	Err  error
	Hint string
}

func (e HintError) Error() string { return e.Err.Error() }
func (e HintError) Unwrap() error { return e.Err }

// WithHint attaches a hint to err (nil stays nil).
func WithHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return HintError{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// Hints collects every hint attached to err, outermost first.
func Hints(err error) []string {
	var out []string
	for err != nil {
		var h HintError
		if !errors.As(err, &h) {
			break
		}
		out = append(out, h.Hint)
		err = h.Err
	}
	return out
}

// OneLine flattens an error message so the CLI prints exactly one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
