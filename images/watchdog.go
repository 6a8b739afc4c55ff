package images

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultRegistryTimeout is how long a registry may stay silent: before it
// answers a request, and in the middle of a transfer either way.
const DefaultRegistryTimeout = 60 * time.Second

// watchdog ends a request when nothing moves for a while: no byte of the
// request body read (sent), no answer, no byte of the answer's body. A
// registry that accepts a connection and then says nothing, or stalls in
// the middle of a blob, fails the transfer instead of hanging it.
type watchdog struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (w watchdog) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	var stalled atomic.Bool
	timer := time.AfterFunc(w.timeout, func() { stalled.Store(true); cancel() })
	kick := func() { timer.Reset(w.timeout) }
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &kickReader{ReadCloser: req.Body, kick: kick}
	}
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		timer.Stop()
		cancel()
		if stalled.Load() {
			return nil, fmt.Errorf("%s %s: the registry said nothing for %s", req.Method, req.URL.Redacted(), w.timeout)
		}
		return nil, err
	}
	kick()
	resp.Body = &watchedBody{ReadCloser: resp.Body, kick: kick, stalled: &stalled, timeout: w.timeout,
		done: func() { timer.Stop(); cancel() }}
	return resp, nil
}

// kickReader resets the watchdog on every read.
type kickReader struct {
	io.ReadCloser
	kick func()
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.ReadCloser.Read(p)
	k.kick()
	return n, err
}

// watchedBody is an answer's body under the watchdog.
type watchedBody struct {
	io.ReadCloser
	kick    func()
	stalled *atomic.Bool
	timeout time.Duration
	done    func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.stalled.Load() {
		return n, fmt.Errorf("the registry stalled: no data for %s", b.timeout)
	}
	b.kick()
	return n, err
}

func (b *watchedBody) Close() error {
	b.done()
	return b.ReadCloser.Close()
}
