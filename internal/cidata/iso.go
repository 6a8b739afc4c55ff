// Package cidata writes cloud-init NoCloud seeds: small ISO9660 images with
// the volume label "cidata" holding user-data, meta-data and optionally
// network-config. It is written here rather than with genisoimage so clawimg
// needs no extra host tool.
package cidata

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"time"
)

const sector = 2048

// File is one file of the seed.
type File struct {
	Name string // e.g. "user-data"; kept as is (Linux shows names verbatim)
	Data []byte
}

// WriteISO writes an ISO9660 image with the given volume label and files
// (a flat root directory) to path with mode 0600: seeds can hold secrets.
func WriteISO(path, label string, files []File, now time.Time) error {
	img, err := buildISO(label, files, now)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func buildISO(label string, files []File, now time.Time) ([]byte, error) {
	files = append([]File(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	const (
		pvdAt   = 16
		termAt  = 17
		lPathAt = 18
		mPathAt = 19
		rootAt  = 20
		dataAt  = 21
	)
	// Lay out the files.
	type placed struct {
		File
		at uint32
	}
	var ps []placed
	next := uint32(dataAt)
	for _, f := range files {
		if len(f.Name) == 0 || len(f.Name) > 64 {
			return nil, fmt.Errorf("bad seed file name %q", f.Name)
		}
		ps = append(ps, placed{f, next})
		next += uint32((len(f.Data) + sector - 1) / sector)
		if len(f.Data) == 0 {
			next++ // an empty file still gets its own (empty) sector
		}
	}
	total := next
	img := make([]byte, int(total)*sector)

	// Root directory: ".", "..", then the files.
	var root []byte
	root = append(root, dirRecord([]byte{0}, rootAt, sector, true, now)...)
	root = append(root, dirRecord([]byte{1}, rootAt, sector, true, now)...)
	for _, p := range ps {
		root = append(root, dirRecord([]byte(p.Name), p.at, uint32(len(p.Data)), false, now)...)
	}
	if len(root) > sector {
		return nil, fmt.Errorf("too many seed files")
	}
	copy(img[rootAt*sector:], root)
	for _, p := range ps {
		copy(img[int(p.at)*sector:], p.Data)
	}

	// Path tables: only the root.
	lpt := []byte{1, 0, 0, 0, 0, 0, 1, 0, 0, 0}
	binary.LittleEndian.PutUint32(lpt[2:], rootAt)
	copy(img[lPathAt*sector:], lpt)
	mpt := []byte{1, 0, 0, 0, 0, 0, 0, 1, 0, 0}
	binary.BigEndian.PutUint32(mpt[2:], rootAt)
	copy(img[mPathAt*sector:], mpt)

	// Primary volume descriptor.
	pvd := img[pvdAt*sector : (pvdAt+1)*sector]
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	padded(pvd[8:40], "LINUX")
	padded(pvd[40:72], label)
	both32(pvd[80:], total)
	both16(pvd[120:], 1)
	both16(pvd[124:], 1)
	both16(pvd[128:], sector)
	both32(pvd[132:], uint32(len(lpt)))
	binary.LittleEndian.PutUint32(pvd[140:], lPathAt)
	binary.BigEndian.PutUint32(pvd[148:], mPathAt)
	copy(pvd[156:190], dirRecord([]byte{0}, rootAt, sector, true, now))
	for _, r := range [][2]int{{190, 318}, {318, 446}, {446, 574}, {574, 702}, {702, 739}, {739, 776}, {776, 813}} {
		padded(pvd[r[0]:r[1]], "")
	}
	padded(pvd[574:702], "CLAWIMG")
	stamp := []byte(now.UTC().Format("20060102150405") + "00")
	copy(pvd[813:], append(stamp, 0))
	copy(pvd[830:], append(stamp, 0))
	copy(pvd[847:], append([]byte("0000000000000000"), 0))
	copy(pvd[864:], append([]byte("0000000000000000"), 0))
	pvd[881] = 1

	term := img[termAt*sector:]
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
	return img, nil
}

func dirRecord(id []byte, extent, size uint32, dir bool, now time.Time) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n)
	r[0] = byte(n)
	both32(r[2:], extent)
	both32(r[10:], size)
	t := now.UTC()
	r[18], r[19], r[20] = byte(t.Year()-1900), byte(t.Month()), byte(t.Day())
	r[21], r[22], r[23] = byte(t.Hour()), byte(t.Minute()), byte(t.Second())
	if dir {
		r[25] = 2
	}
	both16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	return r
}

func padded(b []byte, s string) {
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}
