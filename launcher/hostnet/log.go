package hostnet

import (
	"fmt"
	"os"
	"time"
)

// EventLog appends one line per event to a file of the instance (0600):
// the time and what happened, never a payload or a header's value. Each
// line is one write to a file opened for appending, so the lines of
// helpers running at once never interleave.
type EventLog struct{ path string }

// OpenLog logs to path; a nil *EventLog logs nothing.
func OpenLog(path string) *EventLog { return &EventLog{path: path} }

// Printf logs one line. A log that cannot be written never fails a request.
func (l *EventLog) Printf(format string, args ...any) {
	if l == nil || l.path == "" {
		return
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	line := time.Now().UTC().Format(time.RFC3339) + " " + fmt.Sprintf(format, args...) + "\n"
	f.WriteString(line)
}
