// Package layout holds no code: its test checks the boundaries between
// clawimg's packages (what may import what, and that only cmd/ speaks in
// the CLI's flags), over `go list`.
package layout
