package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/clawimg/clawimg/hcl"
)

// keyedPlan is the plan without what does not change the image: where a
// copy of it is written (output_directory, vm_name) and in which format,
// the build VM's ports and monitor, where a download is kept.
func keyedPlan(p *hcl.Plan) *hcl.Plan {
	c := *p
	c.Sources = append([]hcl.QEMUSource(nil), p.Sources...)
	for i := range c.Sources {
		s := &c.Sources[i]
		s.OutputDirectory, s.VMName, s.Format = "", "", ""
		// How the host reaches the build VM and where a download is kept.
		s.HostPortMin, s.HostPortMax, s.QMPEnable, s.QMPSocketPath, s.ISOTargetPath = 0, 0, false, "", ""
		s.SSHBastion, s.SSHProxy, s.ISOSkipCache = nil, nil, false
	}
	return &c
}

// cacheKey identifies everything a build's result depends on: the resolved
// plan (every value, every file's hash), the build, the base image's
// checksum, the CA certificates given and clawimg's version.
func cacheKey(st *state) (string, error) {
	var cas [][]byte
	for _, p := range st.opts.CACerts {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("read CA certificate %s: %w", p, err)
		}
		cas = append(cas, b)
	}
	b, err := json.Marshal(struct {
		Plan    any      `json:"plan"`
		Build   string   `json:"build"`
		Base    string   `json:"base_sha256"`
		CAs     [][]byte `json:"ca_certs"`
		Version string   `json:"version"`
	}{keyedPlan(st.plan), st.build.Name, st.baseSHA256, cas, st.opts.Version})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
