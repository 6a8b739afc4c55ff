package images

import "os"

// Details is everything the store knows about one image.
type Details struct {
	Image
	Tags            []string `json:"tags"`
	Architecture    string   `json:"architecture"`
	OS              string   `json:"os"`
	ChunkSize       int64    `json:"chunk_size"`
	Chunks          int      `json:"chunks"`
	UniqueBlobs     int      `json:"unique_blobs"`
	DataSize        int64    `json:"data_size"` // bytes of the disk that are not holes or zeros
	RecipeHash      string   `json:"recipe_hash"`
	BaseImage       string   `json:"base_image,omitempty"`
	OpenClawVersion string   `json:"openclaw_version,omitempty"`
	Source          string   `json:"source,omitempty"`
	DefaultUser     string   `json:"default_user,omitempty"`
	Firmware        string   `json:"firmware,omitempty"` // "efi": boots through UEFI
	Config          string   `json:"config"`             // config blob digest
	// Unpacked is the path of the unpacked base, when one exists.
	Unpacked string `json:"unpacked,omitempty"`
	// UsedBy lists the instances that use the image.
	UsedBy []string `json:"used_by"`
	// Warm lists the image's warm states, newest first.
	Warm []WarmState `json:"warm_states"`
}

// Inspect describes an image.
func (s *Store) Inspect(ref string) (*Details, error) {
	img, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	m, cfg, err := s.manifest(img.Digest)
	if err != nil {
		return nil, err
	}
	d := &Details{
		Image: *img, Tags: []string{}, Architecture: cfg.Architecture, OS: cfg.OS,
		ChunkSize: cfg.ChunkSize, Chunks: len(cfg.Chunks), UniqueBlobs: len(m.Layers),
		RecipeHash: cfg.RecipeHash, BaseImage: cfg.BaseImage, OpenClawVersion: cfg.OpenClawVersion,
		Source: cfg.Source, DefaultUser: cfg.DefaultUser, Firmware: cfg.Firmware, Config: m.Config.Digest, UsedBy: []string{},
	}
	for _, c := range cfg.Chunks {
		d.DataSize += c.Length
	}
	idx, err := s.loadIndex()
	if err != nil {
		return nil, err
	}
	for _, desc := range idx.Manifests {
		if desc.Digest == img.Digest && refName(desc) != "" {
			d.Tags = append(d.Tags, refName(desc))
		}
	}
	if _, err := os.Stat(s.basePath(img.Digest)); err == nil {
		d.Unpacked = s.basePath(img.Digest)
	}
	holds, err := s.holders()
	if err != nil {
		return nil, err
	}
	d.UsedBy = append(d.UsedBy, holds[img.Digest]...)
	d.Warm, _ = s.WarmStates(img.Digest) // a bad state shows as missing; verify names it
	if d.Warm == nil {
		d.Warm = []WarmState{}
	}
	return d, nil
}

// ManifestBytes returns an image's manifest exactly as stored (its digest
// covers these bytes).
func (s *Store) ManifestBytes(digest string) ([]byte, error) { return s.readBlob(digest) }
