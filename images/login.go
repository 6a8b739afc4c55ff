package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/clawimg/clawimg/internal/atomicfile"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
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

// CredentialsPlace says where login saves a host's credentials: the
// credential helper the Docker config names for it, or the config file.
func CredentialsPlace(configPath, host string) string {
	cf, err := loadDockerConfig(configPath)
	if err != nil {
		return configPath
	}
	key := credentialKey(host)
	if h := cf.CredentialHelpers[key]; h != "" {
		return "the credential helper docker-credential-" + h
	}
	if cf.CredentialsStore != "" {
		return "the credential helper docker-credential-" + cf.CredentialsStore
	}
	return configPath
}

// saveDockerAuth stores the credentials as docker login does: through the
// config's credential helper for that host (credHelpers, credsStore: Docker
// Desktop, pass, ecr-login ...) when it names one, else in its auths.
// Docker Hub is filed under its historical key.
func saveDockerAuth(path, host, user, password string) error {
	cf, err := loadDockerConfig(path)
	if err != nil {
		return err
	}
	key := credentialKey(host)
	if err := cf.GetCredentialsStore(key).Store(types.AuthConfig{ServerAddress: key, Username: user, Password: password}); err != nil {
		return fmt.Errorf("save the credentials of %s: %w", host, err)
	}
	return saveDockerConfig(cf)
}

// ErrNotLoggedIn is a logout of a host with no saved credentials.
var ErrNotLoggedIn = errors.New("not logged in")

// Logout removes a host's credentials from where login saved them (its
// credential helper, or the config's auths).
func Logout(path, host string) error {
	cf, err := loadDockerConfig(path)
	if err != nil {
		return err
	}
	key := credentialKey(host)
	store := cf.GetCredentialsStore(key)
	auth, err := store.Get(key)
	if err != nil {
		return fmt.Errorf("logout %s: %w", host, err)
	}
	if auth.Username == "" && auth.Password == "" && auth.IdentityToken == "" && auth.Auth == "" {
		if _, inFile := cf.AuthConfigs[key]; !inFile {
			return fmt.Errorf("logout %s: %w", host, ErrNotLoggedIn)
		}
	}
	if err := store.Erase(key); err != nil {
		return fmt.Errorf("logout %s: %w", host, err)
	}
	return saveDockerConfig(cf)
}

// credentialKey is the key Docker files a registry's credentials under.
func credentialKey(host string) string {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "https://index.docker.io/v1/"
	}
	return host
}

func loadDockerConfig(path string) (*configfile.ConfigFile, error) {
	cf := configfile.New(path)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return cf, nil
}

// saveDockerConfig writes the config (0600, atomically), keeping what it
// does not know.
func saveDockerConfig(cf *configfile.ConfigFile) error {
	var buf bytes.Buffer
	if err := cf.SaveToWriter(&buf); err != nil {
		return err
	}
	path := cf.GetFilename()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o600)
}
