package launcher

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// secretPath is where cloud-init puts the API key first: /run is a tmpfs,
// readable by root only here, and gone at the next boot.
const secretPath = "/run/clawimg/openclaw.env"

// installKey moves the secrets into the OpenClaw user's ~/.openclaw/.env
// (mode 0600, owned by that user) when the image has that user, and
// deletes them otherwise; then it starts the gateway, whose service waits
// for that file. It names the file, never the secrets.
const installKey = `f=` + secretPath + `
[ -f "$f" ] || exit 0
if id openclaw >/dev/null 2>&1; then
  h=$(getent passwd openclaw | cut -d: -f6)
  install -d -m 0700 -o openclaw -g openclaw "$h/.openclaw"
  install -m 0600 -o openclaw -g openclaw "$f" "$h/.openclaw/.env"
  uid=$(id -u openclaw)
  if [ -f /var/lib/systemd/linger/openclaw ]; then
    i=0
    while [ ! -S "/run/user/$uid/bus" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done
    as() { runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$uid "$@"; }
    if as systemctl --user cat ` + gatewayUnit + ` >/dev/null 2>&1; then
      as systemctl --user reset-failed ` + gatewayUnit + ` 2>/dev/null || true
      as systemctl --user restart --no-block ` + gatewayUnit + `
    fi
  fi
fi
rm -f "$f"
`

// userDataSpec is what goes into an instance's user-data.
type userDataSpec struct {
	Hostname string
	User     string   // the default user, who gets the keys and sudo
	Keys     []string // authorized keys
	// Env is the OpenClaw gateway's .env: its token (which authenticates
	// its clients), the API key or the broker's placeholder, the endpoints.
	Env string
	// Endpoints is /etc/clawimg/endpoints.
	Endpoints string
	// Extra is the user's --cloud-init (a cloud-config document), merged in.
	Extra []byte
}

// makeUserData builds the cloud-config. The user's document is merged:
// its lists (users, ssh_authorized_keys, write_files, runcmd, bootcmd,
// packages) are appended to ours, its other keys win.
func makeUserData(s userDataSpec) ([]byte, error) {
	ours := map[string]any{
		"hostname":            s.Hostname,
		"preserve_hostname":   false,
		"system_info":         map[string]any{"default_user": map[string]any{"name": s.User}},
		"users":               []any{"default"},
		"ssh_authorized_keys": toAny(s.Keys),
		"ssh_pwauth":          false,
	}
	for _, l := range strings.Split(strings.TrimSuffix(s.Env+s.Endpoints, "\n"), "\n") {
		if strings.ContainsAny(l, " \t\r\x00\"'#") {
			return nil, fmt.Errorf("the API key must be one word on one line")
		}
	}
	var files, cmds []any
	if s.Endpoints != "" {
		files = append(files, map[string]any{"path": endpointsPath, "permissions": "0644", "owner": "root:root", "content": s.Endpoints})
		cmds = append(cmds, []any{"sh", "-c", applyEndpoints})
	}
	if s.Env != "" {
		files = append(files, map[string]any{"path": secretPath, "permissions": "0600", "owner": "root:root", "content": s.Env})
		cmds = append(cmds, []any{"sh", "-c", installKey})
	}
	if len(files) > 0 {
		ours["write_files"], ours["runcmd"] = files, cmds
	}
	if len(bytes.TrimSpace(s.Extra)) > 0 {
		var theirs map[string]any
		if err := yaml.Unmarshal(s.Extra, &theirs); err != nil {
			return nil, fmt.Errorf("read the extra cloud-init user-data: %w", err)
		}
		for k, v := range theirs {
			a, aok := ours[k].([]any)
			b, bok := v.([]any)
			if aok && bok {
				ours[k] = append(a, b...)
			} else {
				ours[k] = v // the user's value wins
			}
		}
	}
	out, err := yaml.Marshal(ours)
	if err != nil {
		return nil, err
	}
	return append([]byte("#cloud-config\n"), out...), nil
}

func toAny(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
