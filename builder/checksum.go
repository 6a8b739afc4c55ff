package builder

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// checksum is an iso_checksum: an algorithm and the expected hex digest
// (algo "" checks nothing).
type checksum struct{ algo, hex string }

func (c checksum) String() string { return c.algo + ":" + c.hex }

// hexLengths infers an algorithm from a bare digest, as Packer does.
var hexLengths = map[int]string{32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}

// parseChecksum reads "none", "ALGO:HEX" (md5, sha1, sha256, sha512) or a
// bare HEX. file: checksums are resolved by expectedChecksum.
func parseChecksum(s string) (checksum, error) {
	if s == "" || s == "none" {
		return checksum{}, nil
	}
	algo, h, ok := strings.Cut(s, ":")
	if !ok {
		algo, h = hexLengths[len(s)], s
	}
	h = strings.ToLower(h)
	if _, err := hex.DecodeString(h); err != nil || algo == "" || hexLengths[len(h)] != algo {
		return checksum{}, fmt.Errorf("unsupported iso_checksum %q: use none, md5:, sha1:, sha256:, sha512: (or a bare digest of that length), or file:URL", s)
	}
	return checksum{algo, h}, nil
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	}
	return sha256.New()
}

// verify checks the file at p, whose SHA-256 is sha256sum.
func (c checksum) verify(p, sha256sum string) error {
	got := sha256sum
	switch c.algo {
	case "":
		return nil
	case "sha256":
	default:
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := newHash(c.algo)
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		got = hex.EncodeToString(h.Sum(nil))
	}
	if got != c.hex {
		return fmt.Errorf("expected %s, got %s:%s", c, c.algo, got)
	}
	return nil
}
