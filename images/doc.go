// Package images is clawimg's local image store.
//
// A disk image is stored as fixed-size chunks, each compressed on its own
// as one zstd frame and stored once under its digest, so identical chunks
// are shared by every image that has them. All-zero chunks and holes are not
// stored at all. The store follows the OCI image-layout conventions
// (blobs/sha256/<hex>, index.json, oci-layout): an image is an OCI manifest
// whose layers are its chunks and whose config blob holds the metadata and
// the chunk table, so the same objects can be pushed to a registry or written
// to a .tar archive without conversion.
//
// Writers take a lock; blobs are written before the manifest that names
// them, and the index is replaced atomically last, so a reader never sees a
// half-written image and a killed import leaves the store valid.
package images
