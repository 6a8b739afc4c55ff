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

	"github.com/clawimg/clawimg/hcl"
)

// checksum is an iso_checksum: an algorithm and the expected hex digest
// (algo "" checks nothing).
type checksum struct{ algo, hex string }

func (c checksum) String() string { return c.algo + ":" + c.hex }

// parseChecksum reads "none" or a digest (hcl.ParseDigest: ALGO:HEX or a
// bare HEX). file: checksums are resolved by expectedChecksum.
func parseChecksum(s string) (checksum, error) {
	if s == "" || s == "none" {
		return checksum{}, nil
	}
	algo, h, err := hcl.ParseDigest(s)
	if err != nil {
		return checksum{}, fmt.Errorf("iso_checksum: %w", err)
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
