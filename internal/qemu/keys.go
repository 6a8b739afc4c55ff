package qemu

import "context"

// Keys presses (down) or releases the keys, QEMU qcodes, in order, as one
// input event batch: how a boot command is typed into a VM's keyboard.
func (m *Monitor) Keys(ctx context.Context, codes []string, down bool) error {
	type key struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	type data struct {
		Down bool `json:"down"`
		Key  key  `json:"key"`
	}
	type event struct {
		Type string `json:"type"`
		Data data   `json:"data"`
	}
	events := make([]event, len(codes))
	for i, c := range codes {
		events[i] = event{Type: "key", Data: data{Down: down, Key: key{Type: "qcode", Data: c}}}
	}
	return m.Execute(ctx, "input-send-event", map[string]any{"events": events}, nil)
}
