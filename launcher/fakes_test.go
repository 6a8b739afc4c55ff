package launcher

import (
	"context"

	"github.com/clawimg/clawimg/internal/qemu"
)

// statedDriver is a driver that states its name and capabilities and
// does nothing else (its other methods are nil): the Manager's own logic,
// without a VM.
type statedDriver struct {
	Driver
	name string
	caps Caps
}

func (d statedDriver) Name() string { return d.name }
func (d statedDriver) Caps() Caps   { return d.caps }

// statedDrivers stands for the real table (launcher/drivers) with the
// capabilities its drivers state.
func statedDrivers() map[string]Factory {
	return map[string]Factory{
		"qemu": func(Config) (Driver, error) {
			return statedDriver{name: "qemu", caps: Caps{Broker: true}}, nil
		},
		"multipass": func(Config) (Driver, error) {
			return statedDriver{name: "multipass", caps: Caps{LoginUser: "ubuntu"}}, nil
		},
	}
}

// fixedWarmer is a Warmer whose host machine is fixed, sized as asked.
type fixedWarmer struct {
	Warmer
	host qemu.Machine
}

func (w fixedWarmer) WarmMachine(_ context.Context, cpus, memMiB int, disk int64) (WarmMachine, error) {
	m := w.host
	m.CPUs, m.MemoryMiB = cpus, memMiB
	return WarmMachine{Machine: m, DiskBytes: disk}, nil
}
