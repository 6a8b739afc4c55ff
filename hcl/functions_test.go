package hcl

import "testing"

func TestGlobRegexp(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		not     []string
	}{
		{"*.sh", []string{"a.sh", ".sh"}, []string{"d/a.sh", "a.shx"}},
		{"**/*.sh", []string{"a.sh", "d/a.sh", "d/e/a.sh"}, []string{"a.txt"}},
		{"scripts/**", []string{"scripts/a", "scripts/d/b"}, []string{"other/a"}},
		{"?.cfg", []string{"a.cfg"}, []string{"ab.cfg"}},
		{"[ab].txt", []string{"a.txt", "b.txt"}, []string{"c.txt"}},
		{"[!ab].txt", []string{"c.txt"}, []string{"a.txt"}},
		{"{http,cd}/*.cfg", []string{"http/p.cfg", "cd/p.cfg"}, []string{"x/p.cfg"}},
		{"a+b(c).txt", []string{"a+b(c).txt"}, []string{"aab(c).txt"}},
	} {
		re, err := globRegexp(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		for _, m := range tc.match {
			if !re.MatchString(m) {
				t.Errorf("%q does not match %q", tc.pattern, m)
			}
		}
		for _, m := range tc.not {
			if re.MatchString(m) {
				t.Errorf("%q matches %q", tc.pattern, m)
			}
		}
	}
	for _, bad := range []string{"[ab", "{a,b"} {
		if _, err := globRegexp(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
