package launcher

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// secretPath is where cloud-init puts the API key first: /run is a tmpfs,
// readable by root only here, and gone at the next boot.
const secretPath = "/run/clawimg/openclaw.env"

// installKey moves the key into the OpenClaw user's ~/.openclaw/.env (mode
// 0600, owned by that user) when the image has that user, and deletes it
// otherwise. It names the file, never the key.
const installKey = `f=` + secretPath + `
[ -f "$f" ] || exit 0
if id openclaw >/dev/null 2>&1; then
  h=$(getent passwd openclaw | cut -d: -f6)
  install -d -m 0700 -o openclaw -g openclaw "$h/.openclaw"
  install -m 0600 -o openclaw -g openclaw "$f" "$h/.openclaw/.env"
  uid=$(id -u openclaw)
  if [ -S "/run/user/$uid/bus" ]; then
    runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user try-restart openclaw-gateway.service >/dev/null 2>&1 || true
  fi
fi
rm -f "$f"
`

// userDataSpec is what goes into an instance's user-data.
type userDataSpec struct {
	Hostname string
	User     string   // the default user, who gets the keys and sudo
	Keys     []string // authorized keys
	APIKey   string
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
	if s.APIKey != "" {
		ours["write_files"] = []any{map[string]any{
			"path":        secretPath,
			"permissions": "0600",
			"owner":       "root:root",
			"content":     "ANTHROPIC_API_KEY=" + s.APIKey + "\n",
		}}
		ours["runcmd"] = []any{[]any{"sh", "-c", installKey}}
	}
	if len(bytes.TrimSpace(s.Extra)) > 0 {
		var theirs map[string]any
		if err := yaml.Unmarshal(s.Extra, &theirs); err != nil {
			return nil, fmt.Errorf("read --cloud-init: %w", err)
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
