package builder

import (
	"bytes"
	"io"
	"sync"

	"github.com/clawimg/clawimg/hcl"
)

// lineWriter prefixes every line written to it and masks secrets, so
// provisioner output reads like Packer's ("    openclaw: ...") and never shows
// a sensitive value.
type lineWriter struct {
	mu      *sync.Mutex
	out     io.Writer
	prefix  string
	secrets []string
	buf     []byte
}

func newLineWriter(mu *sync.Mutex, out io.Writer, prefix string, secrets []string) *lineWriter {
	return &lineWriter{mu: mu, out: out, prefix: prefix, secrets: secrets}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Flush writes a last line that had no newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) emit(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	io.WriteString(w.out, w.prefix+hcl.Redact(line, w.secrets)+"\n")
}
