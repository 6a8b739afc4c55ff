package cli

import (
	"errors"
	"reflect"
	"testing"
)

func TestHints(t *testing.T) {
	err := WithHint(WithHint(errors.New("boom"), "inner"), "outer")
	if got := Hints(err); !reflect.DeepEqual(got, []string{"outer", "inner"}) {
		t.Fatalf("Hints = %q", got)
	}
	if WithHint(nil, "x") != nil {
		t.Fatal("WithHint(nil) must be nil")
	}
}
