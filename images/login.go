package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/clawimg/clawimg/internal/atomicfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// DockerConfigPath is where `docker login` keeps credentials:
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
func DockerConfigPath(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	return filepath.Join(getenv("HOME"), ".docker", "config.json")
}

// Login checks the credentials against the registry, then stores them in
// the Docker config as `docker login` does (auths.HOST.auth = base64 of
// user:password), keeping everything else in the file. The password is
// never printed or logged.
func Login(ctx context.Context, host, user, password, configPath string, o RemoteOptions) error {
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("login %s: %w: %v", host, ErrInvalidReference, err)
	}
	_, client, err := o.httpClient(ctx, reg, &authn.Basic{Username: user, Password: password}, nil)
	if err != nil {
		return fmt.Errorf("login %s: %w", host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr()), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("login %s: %w", host, registryError(err))
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("login %s: wrong user name or password", host)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login %s: %s", host, resp.Status)
	}
	return saveDockerAuth(configPath, host, user, password)
}

func saveDockerAuth(path, host, user, password string) error {
	cfg := map[string]any{}
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	auths, _ := cfg["auths"].(map[string]any)
	if auths == nil {
		auths = map[string]any{}
	}
	auths[host] = map[string]any{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	cfg["auths"] = auths
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, out, 0o600)
}
