package cli

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeFlags(t *testing.T) {
	long := map[string]Flag{"var": {true, true}, "name": {true, true}, "force": {true, false}, "only": {true, true}, "tag": {true, true}, "quiet": {true, false}}
	short := map[byte]Flag{'t': {true, true}, 'q': {true, false}}
	f := Flags{Long: func(n string) Flag { return long[n] }, Short: func(c byte) Flag { return short[c] }}
	for _, tc := range []struct {
		in          string
		passThrough int
		want, err   string
	}{
		{"-var x=1 recipe", 0, "--var x=1 recipe", ""},
		{"-var=x=1 -force", 0, "--var=x=1 --force", ""},
		{"-t demo:1 -q", 0, "-t demo:1 -q", ""},
		{"--name -name", 0, "--name -name", ""}, // a value is never rewritten
		{"-only=a,b", 0, "--only=a,b", ""},
		{"-timestamp-ui", 0, "", "unknown flag: -timestamp-ui (a single dash spells a long flag"},
		{"-tq", 0, "", "unknown flag: -tq"},
		{"--nosuch", 0, "", "unknown flag: --nosuch"},
		{"-x", 0, "", "unknown flag: -x"},
		{"vm ls -la", 1, "vm -- ls -la", ""},
		{"vm echo -name", 1, "vm -- echo -name", ""},
		{"vm -- ls -la", 1, "vm -- ls -la", ""},
		{"-q vm ls", 1, "-q vm -- ls", ""},
		{"recipe -- -weird", 0, "recipe -- -weird", ""},
		{"--disk -1", 0, "", "unknown flag: --disk"},
	} {
		got, err := NormalizeFlags(strings.Fields(tc.in), f, tc.passThrough)
		if tc.err != "" {
			var u UsageError
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &u) {
				t.Errorf("%q: %q %v, want usage error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, strings.Fields(tc.want)) {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}
