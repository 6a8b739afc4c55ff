// Package drivers is the table of the launcher's drivers by name, kept
// apart from package launcher so that each driver's package can build on
// launcher's types while launcher depends on none of them.
package drivers

import (
	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/multipass"
	"github.com/clawimg/clawimg/launcher/qemu"
)

// All is every driver clawimg has, by name.
func All() map[string]launcher.Factory {
	return map[string]launcher.Factory{
		"qemu":      qemu.New,
		"multipass": multipass.New,
	}
}
