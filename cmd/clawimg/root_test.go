package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

// TestLibraryErrorsGetHints: the libraries name what went wrong without CLI
// words; report adds the hint that names the flag or command to use.
func TestLibraryErrorsGetHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("pull r/x:1: %w to 10.0.0.1:5000", images.ErrPlainHTTP), "clawimg: hint: use --insecure to allow plain HTTP to this registry\n"},
		{fmt.Errorf("push: %w (401)", images.ErrCredentialsRefused), "clawimg: hint: run 'clawimg login REGISTRY', or check the user name and password\n"},
	} {
		var b bytes.Buffer
		if code := report(&b, tc.err); code != 1 || !bytes.HasSuffix(b.Bytes(), []byte(tc.want)) {
			t.Errorf("report(%v) = %d:\n%s", tc.err, code, b.String())
		}
	}
}

// Every command people run shows an example in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(newRoot(&env{}))
}
