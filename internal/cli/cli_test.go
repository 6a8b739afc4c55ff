package cli

import (
	"errors"
	"reflect"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	long := func(n string) bool { return n == "var" || n == "json" || n == "name" || n == "check" }
	tests := []struct {
		in, want []string
	}{
		{[]string{"-var", "x=1"}, []string{"--var", "x=1"}},
		{[]string{"-var=x=1", "r.pkr.hcl"}, []string{"--var=x=1", "r.pkr.hcl"}},
		{[]string{"--json"}, []string{"--json"}},
		{[]string{"-q", "-t", "a:b"}, []string{"-q", "-t", "a:b"}},
		{[]string{"-unknown"}, []string{"-unknown"}},
		{[]string{"vm", "--", "ls", "-name"}, []string{"vm", "--", "ls", "-name"}},
		{[]string{"-check", "dir"}, []string{"--check", "dir"}},
	}
	for _, tt := range tests {
		if got := NormalizeArgs(tt.in, long); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NormalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHints(t *testing.T) {
	err := WithHint(WithHint(errors.New("boom"), "inner"), "outer")
	if got := Hints(err); !reflect.DeepEqual(got, []string{"outer", "inner"}) {
		t.Fatalf("Hints = %q", got)
	}
	if WithHint(nil, "x") != nil {
		t.Fatal("WithHint(nil) must be nil")
	}
}
