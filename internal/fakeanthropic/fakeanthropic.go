// Package fakeanthropic is a stand-in for Anthropic's Messages API over
// TLS on the host's loopback, for tests: it answers every message with a
// fixed text (streamed when asked) and records the credentials each
// request carried, so a test can say which key reached the provider.
package fakeanthropic

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Request is what the fake recorded of one request.
type Request struct {
	Method, Path string
	APIKey       string // x-api-key
	Auth         string // authorization
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	Reply string
	mu    sync.Mutex
	reqs  []Request
}

// Start starts a fake that answers reply.
func Start(reply string) *Server {
	s := &Server{Reply: reply}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// CAPEM is the certificate clients must trust (PEM).
func (s *Server) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// Requests returns what was recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, APIKey: r.Header.Get("X-Api-Key"), Auth: r.Header.Get("Authorization")})
	s.mu.Unlock()
	var in struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&in)
	if r.URL.Path != "/v1/messages" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[],"has_more":false}`)
		return
	}
	model := in.Model
	if model == "" {
		model = "claude-fake"
	}
	text, _ := json.Marshal(s.Reply)
	if !in.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_fake","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}`, model, text)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	events := []string{
		fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant","model":%q,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}`, model),
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}`, text),
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}`,
		`{"type":"message_stop"}`,
	}
	for _, e := range events {
		var t struct{ Type string }
		json.Unmarshal([]byte(e), &t)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", t.Type, e)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
}
