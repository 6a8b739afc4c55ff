// Package launchertest holds what the drivers' tests share.
package launchertest

import (
	"context"
	"testing"

	"github.com/clawimg/clawimg/launcher"
)

// APIKey is an API key the tests give instances; it must never show up
// where secrets must not be.
const APIKey = "sk-ant-test-0123456789-SECRET"

// State is the named instance's state as List reports it ("absent" when
// it is not listed).
func State(t testing.TB, m *launcher.Manager, name string) string {
	t.Helper()
	list, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Name == name {
			return l.State
		}
	}
	return "absent"
}
