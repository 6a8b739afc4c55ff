package hostnet

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// BenchmarkBroker measures what the broker adds to a model request: the
// same 8 KiB POST to a TLS upstream on the loopback, directly over one
// kept-alive connection, and through the broker (one kept-alive guest
// connection, as QEMU hands it to a helper, and the broker's own
// connection to the upstream), in the same run; then the first request
// of a new guest connection, whose helper makes its own TLS connection.
// It prints p50 and p99 of each and the p50 added (target: at most 5 ms).
func BenchmarkBroker(b *testing.B) {
	const n = 2000
	up, dir := newUpstream(b)
	SetKey(dir, "sk-ant-api03-bench")
	h, err := Handler(KindBroker, dir)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(up.Certificate())
	direct := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := strings.Repeat("x", 8<<10)
	timeReq := func(c *http.Client, url string) time.Duration {
		t0 := time.Now()
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("X-Api-Key", PlaceholderKey)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		return time.Since(t0)
	}
	for b.Loop() {
		brokered, addr := served(b, h)
		var d, br, fresh []time.Duration
		for range 20 { // warm both paths up
			timeReq(direct, up.URL+"/v1/messages")
			timeReq(brokered, "http://"+addr+"/v1/messages")
		}
		for range n {
			d = append(d, timeReq(direct, up.URL+"/v1/messages"))
			br = append(br, timeReq(brokered, "http://"+addr+"/v1/messages"))
		}
		for range 100 {
			c, a := served(b, h)
			fresh = append(fresh, timeReq(c, "http://"+a+"/v1/messages"))
			c.CloseIdleConnections()
		}
		p := func(xs []time.Duration, q float64) time.Duration {
			slices.Sort(xs)
			return xs[int(q*float64(len(xs)-1))]
		}
		added := p(br, 0.5) - p(d, 0.5)
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "\nbroker overhead, %d requests of 8 KiB, TLS upstream on loopback\t\t\n", n)
		fmt.Fprintf(w, "path\tp50\tp99\n")
		fmt.Fprintf(w, "direct (reference)\t%s\t%s\n", p(d, 0.5), p(d, 0.99))
		fmt.Fprintf(w, "through the broker\t%s\t%s\n", p(br, 0.5), p(br, 0.99))
		fmt.Fprintf(w, "first request of a new connection (its own TLS connection upstream; the helper process start not included)\t%s\t%s\n", p(fresh, 0.5), p(fresh, 0.99))
		fmt.Fprintf(w, "added at p50 (target <= 5ms)\t%s\t\n", added)
		w.Flush()
		b.ReportMetric(float64(added.Microseconds()), "µs-added-p50")
	}
}
