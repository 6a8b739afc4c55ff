package hostnet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MaxBody bounds a request the broker forwards: far above any model
// request, far below what would fill a host's memory or disk.
const MaxBody = 32 << 20

// Broker forwards the guest's model requests to the upstream with the
// instance's key. Whatever key the guest sends (the placeholder, or a key
// it found somewhere) is dropped; the key is read from the host for every
// request, so `clawimg secret set` takes effect at the next one.
type Broker struct {
	Dir      string // the instance's directory: its key, CA file and log
	Instance string
	Upstream *url.URL
	// Transport reaches the upstream (TLS with the system's CAs and the
	// instance's --ca-cert).
	Transport http.RoundTripper
	Log       *EventLog
}

// NewBroker makes the broker of the instance whose files are in dir.
func NewBroker(dir string, c Config) (*Broker, error) {
	up := c.Upstream
	if up == "" {
		up = DefaultUpstream
	}
	if err := CheckProviderURL(up); err != nil {
		return nil, err
	}
	u, _ := url.Parse(up)
	tr, err := upstreamTransport(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	return &Broker{Dir: dir, Instance: c.Instance, Upstream: u, Transport: tr, Log: OpenLog(filepath.Join(dir, BrokerLog))}, nil
}

// upstreamTransport trusts the system's CAs plus those in caFile, if any.
func upstreamTransport(caFile string) (*http.Transport, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if pem, err := os.ReadFile(caFile); err == nil {
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return &http.Transport{
		Proxy:                 nil, // the host's proxy variables are not the guest's business
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 10 * time.Minute, // a long model answer starts late
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}, nil
}

// guestAuthHeaders are the credentials a guest may send; none is forwarded.
var guestAuthHeaders = []string{"X-Api-Key", "Authorization", "Proxy-Authorization", "Cookie"}

func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		b.Log.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.code(), time.Since(start).Round(time.Millisecond))
	}()
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		apiError(rec, http.StatusNotFound, "not_found_error", "the clawimg broker forwards /v1/ requests only")
		return
	}
	if r.ContentLength > MaxBody {
		apiError(rec, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("the clawimg broker forwards requests up to %d MiB", MaxBody>>20))
		return
	}
	key, err := readKey(b.Dir)
	if err != nil {
		apiError(rec, http.StatusInternalServerError, "api_error", "the clawimg broker cannot read the instance's key on the host")
		return
	}
	if key == "" {
		apiError(rec, http.StatusUnauthorized, "authentication_error",
			fmt.Sprintf("instance %s has no API key on the host; give it one with: clawimg secret set %s", b.Instance, b.Instance))
		return
	}
	r.Body = http.MaxBytesReader(rec, r.Body, MaxBody)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(b.Upstream)
			for _, h := range guestAuthHeaders {
				pr.Out.Header.Del(h)
			}
			pr.Out.Header.Del("X-Forwarded-For")
			if strings.HasPrefix(key, "sk-ant-oat") { // an OAuth token
				pr.Out.Header.Set("Authorization", "Bearer "+key)
			} else {
				pr.Out.Header.Set("X-Api-Key", key)
			}
		},
		Transport:     b.Transport,
		FlushInterval: -1, // server-sent events go through as they come
		ModifyResponse: func(res *http.Response) error {
			if res.StatusCode < 500 {
				return nil
			}
			// The upstream failed: the guest gets a clear 502 saying so.
			body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
			res.Body.Close()
			msg := fmt.Sprintf("the upstream %s answered %s: %s", b.Upstream.Host, res.Status, oneLine(string(body)))
			res.Header = http.Header{"Content-Type": {"application/json"}, "X-Clawimg-Upstream-Status": {strconv.Itoa(res.StatusCode)}}
			res.StatusCode, res.Status = http.StatusBadGateway, "502 Bad Gateway"
			res.Body = io.NopCloser(strings.NewReader(apiErrorBody("api_error", msg)))
			res.ContentLength = -1
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				apiError(w, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("the clawimg broker forwards requests up to %d MiB", MaxBody>>20))
				return
			}
			apiError(w, http.StatusBadGateway, "api_error", fmt.Sprintf("the upstream %s did not answer: %s", b.Upstream.Host, scrub(err.Error(), key)))
		},
	}
	proxy.ServeHTTP(rec, r)
}

// scrub removes the key from a message, should an error ever quote it.
func scrub(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[key]")
}

// apiError answers in the shape of Anthropic's errors, which OpenClaw and
// the SDKs show to the user.
func apiError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, apiErrorBody(kind, msg))
}

func apiErrorBody(kind, msg string) string {
	return fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q}}`+"\n", kind, "clawimg: "+msg)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// statusRecorder remembers the status written, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
