package images

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Media types of the objects in the store. They are also what a registry
// sees when images are pushed.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeConfig   = "application/vnd.clawimg.disk.config.v1+json"
	MediaTypeChunk    = "application/vnd.clawimg.disk.chunk.v1+zstd"
	ArtifactType      = "application/vnd.clawimg.disk.v1"

	// AnnotationRefName names an image in index.json, as OCI layouts do.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	AnnotationCreated = "org.opencontainers.image.created"
)

// Descriptor points at a blob.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
}

// Platform says which machines an image runs on.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Manifest is an OCI image manifest: the config blob and the chunk blobs.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// Index is an OCI image index (index.json of the layout).
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Manifests     []Descriptor `json:"manifests"`
}

// Config is the config blob of an image: what the disk is, where it came
// from, and where each of its chunks goes.
type Config struct {
	Created         time.Time `json:"created"`
	Architecture    string    `json:"architecture"`
	OS              string    `json:"os"`
	VirtualSize     int64     `json:"virtual_size"`
	ChunkSize       int64     `json:"chunk_size"`
	RecipeHash      string    `json:"recipe_hash,omitempty"`
	BaseImage       string    `json:"base_image,omitempty"`
	OpenClawVersion string    `json:"openclaw_version,omitempty"`
	Source          string    `json:"source,omitempty"`
	// DefaultUser is the cloud-init default user the image was built with.
	DefaultUser string `json:"default_user,omitempty"`
	// Firmware is "efi" for a disk that boots through UEFI (built with
	// efi_boot), empty for one the machine's BIOS boots.
	Firmware string  `json:"firmware,omitempty"`
	Chunks   []Chunk `json:"chunks"`
}

// Chunk is one stored piece of the disk. Offsets not covered by any chunk
// read as zeros.
type Chunk struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// SHA256 is the digest of the uncompressed bytes, checked on unpack.
	SHA256 string `json:"sha256"`
	// Blob is the digest of the compressed blob (a layer of the manifest).
	Blob string `json:"blob"`
}

// Metadata is what the caller knows about an image it stores.
type Metadata struct {
	Architecture    string
	RecipeHash      string
	BaseImage       string
	OpenClawVersion string
	Source          string
	DefaultUser     string
	Firmware        string
	Created         time.Time
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return b
}

func (c *Config) apply(m Metadata) {
	c.Architecture = m.Architecture
	c.RecipeHash = m.RecipeHash
	c.BaseImage = m.BaseImage
	c.OpenClawVersion = m.OpenClawVersion
	c.Source = m.Source
	c.DefaultUser = m.DefaultUser
	c.Firmware = m.Firmware
	c.Created = m.Created
}

// Annotations of our own on manifests, besides the OCI ones.
const (
	AnnotationVirtualSize = "org.clawimg.image.virtual-size"
	AnnotationArch        = "org.clawimg.image.architecture"
	AnnotationOpenClaw    = "org.clawimg.image.openclaw-version"
	AnnotationRecipeHash  = "org.clawimg.image.recipe-hash"
	AnnotationSource      = "org.opencontainers.image.source"
)

func manifestAnnotations(c *Config) map[string]string {
	a := map[string]string{
		AnnotationCreated:     c.Created.UTC().Format(time.RFC3339),
		AnnotationVirtualSize: strconv.FormatInt(c.VirtualSize, 10),
		AnnotationArch:        c.Architecture,
	}
	if c.OpenClawVersion != "" {
		a[AnnotationOpenClaw] = c.OpenClawVersion
	}
	if c.RecipeHash != "" {
		a[AnnotationRecipeHash] = c.RecipeHash
	}
	return a
}

// Bounds of what a config may say. Configs come from archives and
// registries: nothing is written, allocated or decoded from one before it
// passes check.
const (
	// MaxChunkSize bounds a chunk, and so the zstd decoder's memory.
	MaxChunkSize = 64 << 20
	// MaxVirtualSize bounds a disk (qcow2's own limit is 64 TiB).
	MaxVirtualSize = 64 << 40
)

// check validates a disk config: a chunk size within the store's bounds,
// a virtual size within MaxVirtualSize, and chunks in order, inside the
// disk and not overlapping, each naming a valid blob.
func (c *Config) check() error {
	if err := checkChunkSize(c.ChunkSize); err != nil {
		return err
	}
	return checkChunks("", c.Chunks, c.VirtualSize, c.ChunkSize)
}

func checkChunkSize(n int64) error {
	if n <= 0 || n > MaxChunkSize {
		return fmt.Errorf("chunk size %d is out of range (1 to %d)", n, MaxChunkSize)
	}
	return nil
}

// checkChunks checks a chunk table against the size of what it makes up;
// what names the table in errors ("" or "memory " ...).
func checkChunks(what string, chunks []Chunk, size, chunkSize int64) error {
	if size < 0 || size > MaxVirtualSize {
		return fmt.Errorf("%ssize %d is out of range (0 to %d)", what, size, int64(MaxVirtualSize))
	}
	end := int64(0)
	for i, ch := range chunks {
		if ch.Offset < end || ch.Length <= 0 || ch.Length > chunkSize || ch.Offset > size-ch.Length || !validDigest(ch.Blob) {
			return fmt.Errorf("%schunk %d (offset %d, length %d) is out of place", what, i, ch.Offset, ch.Length)
		}
		end = ch.Offset + ch.Length
	}
	return nil
}

// coveredBy reports whether every chunk's blob is one of layers, so that an
// image needs nothing its manifest does not name.
func coveredBy(chunks []Chunk, layers []Descriptor) bool {
	have := map[string]bool{}
	for _, l := range layers {
		have[l.Digest] = true
	}
	for _, ch := range chunks {
		if !have[ch.Blob] {
			return false
		}
	}
	return true
}
