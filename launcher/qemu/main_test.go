package qemu

import (
	"context"
	"os"
	"testing"

	"github.com/clawimg/clawimg/launcher/hostnet"
)

// TestMain lets the test binary be the guestfwd helper QEMU runs for the
// instances these tests launch, as clawimg itself is for the CLI's.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "guestfwd" {
		if err := hostnet.ServeStdio(context.Background(), os.Args[2], os.Args[3]); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testHelper is Config.Helper for tests: this test binary.
func testHelper() []string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return []string{exe, "guestfwd"}
}
