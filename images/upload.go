package images

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
)

// blobState is what a registry said of a blob before a push.
type blobState int

const (
	blobAbsent blobState = iota
	blobPresent
	// blobUnknown: the registry answered the existence check with a server
	// error. The Docker registry does this when it was killed while writing
	// the blob's link file (an empty link is "invalid checksum digest
	// format", 500): the blob can only be healed by uploading it again.
	blobUnknown
)

// checkBlob asks the registry whether repo holds digest.
func checkBlob(ctx context.Context, c *http.Client, repo name.Repository, digest string) (blobState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, blobURL(repo, "blobs/"+digest), nil)
	if err != nil {
		return blobAbsent, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return blobAbsent, registryError(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return blobPresent, nil
	case resp.StatusCode == http.StatusNotFound:
		return blobAbsent, nil
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return blobAbsent, credentialsRefused(resp.StatusCode)
	case resp.StatusCode >= 500:
		return blobUnknown, nil
	}
	return blobAbsent, fmt.Errorf("check blob %s: %s", digest, resp.Status)
}

// uploadBlob sends one blob monolithically (POST, then PUT ?digest=),
// without the existence check remote.WriteLayer makes first and fails on
// when the registry answers it with a server error.
func uploadBlob(ctx context.Context, c *http.Client, repo name.Repository, l *blobLayer) error {
	start := blobURL(repo, "blobs/uploads/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, start, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return registryError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("start upload: %s", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("start upload: %w", err)
	}
	q := loc.Query()
	q.Set("digest", l.desc.Digest)
	loc.RawQuery = q.Encode()
	body, err := l.Compressed()
	if err != nil {
		return err
	}
	defer body.Close()
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = l.desc.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = c.Do(req)
	if err != nil {
		return registryError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("finish upload: %s", resp.Status)
	}
	return nil
}

func blobURL(repo name.Repository, path string) string {
	u := url.URL{Scheme: repo.Registry.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/" + path}
	return u.String()
}
