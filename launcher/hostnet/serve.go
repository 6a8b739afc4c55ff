package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Limits of one guest connection.
const (
	// MaxHeaderBytes: a larger request head is answered 431.
	MaxHeaderBytes = 64 << 10
	// HeaderTimeout: a request whose head has not arrived by then ends
	// the connection (a guest holding helpers open costs the host).
	HeaderTimeout = 30 * time.Second
	// RequestTimeout bounds reading a whole request, body included.
	RequestTimeout = 5 * time.Minute
	// IdleTimeout ends a kept-alive connection with nothing to do.
	IdleTimeout = 2 * time.Minute
)

// Kinds of helper.
const (
	KindBroker = "broker"
	KindProxy  = "proxy"
)

// ServeConn serves HTTP on one connection until it closes, idles out or
// ctx ends, and returns once every request on it is done (a CONNECT
// tunnel included).
func ServeConn(ctx context.Context, conn net.Conn, h http.Handler) error {
	var active sync.WaitGroup
	done := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			active.Add(1)
			defer active.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: HeaderTimeout,
		ReadTimeout:       RequestTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          nil,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				finish()
			}
		},
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	srv.SetKeepAlivesEnabled(true)
	go func() {
		select {
		case <-ctx.Done():
			conn.Close()
			finish()
		case <-done:
		}
	}()
	err := srv.Serve(&oneConn{conn: conn, done: done})
	active.Wait()
	if errors.Is(err, errServed) {
		return nil
	}
	return err
}

var errServed = errors.New("connection served")

// oneConn is a listener that yields one connection, then waits until it
// is done.
type oneConn struct {
	conn net.Conn
	done chan struct{}
	mu   sync.Mutex
	used bool
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	first := !l.used
	l.used = true
	l.mu.Unlock()
	if first {
		return l.conn, nil
	}
	<-l.done
	return nil, errServed
}

func (l *oneConn) Close() error   { return nil }
func (l *oneConn) Addr() net.Addr { return l.conn.LocalAddr() }

// Handler is the helper of the given kind for the instance whose files
// are in dir.
func Handler(kind, dir string) (http.Handler, error) {
	c, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindBroker:
		return NewBroker(dir, c)
	case KindProxy:
		return NewProxy(dir, c), nil
	}
	return nil, fmt.Errorf("unknown helper %q: want %s or %s", kind, KindBroker, KindProxy)
}

// ServeStdio serves the one guest connection QEMU handed over as standard
// input and output. QEMU gives the same socket as standard error: nothing
// may be written there (the guest would read it), so fd 2 is pointed at the
// instance's log of this kind first, which also catches a crash's trace.
func ServeStdio(ctx context.Context, kind, dir string) error {
	logName := BrokerLog
	if kind == KindProxy {
		logName = EgressLog
	}
	if f, err := os.OpenFile(dir+"/"+logName, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		redirectStderr(f)
		f.Close()
	}
	h, err := Handler(kind, dir)
	if err != nil {
		OpenLog(dir+"/"+logName).Printf("helper: %v", err)
		return err
	}
	conn, err := net.FileConn(os.Stdin)
	if err != nil {
		return fmt.Errorf("standard input is not a connection: %w", err)
	}
	return ServeConn(ctx, conn, h)
}
