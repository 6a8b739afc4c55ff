// Package fat writes the FAT12 floppy images of Packer's floppy_files: a
// 1.44 MB disk whose files an installer reads at boot (Windows'
// Autounattend.xml, drivers, a kickstart or preseed file). Long names are
// kept as VFAT long file names, directories as FAT directories.
package fat

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// The geometry of a 3.5" high-density floppy, the one every BIOS,
// installer and QEMU's floppy controller knows.
const (
	sectorSize   = 512
	totalSectors = 2880
	fatSectors   = 9
	rootEntries  = 224
	rootSectors  = rootEntries * dirEntrySize / sectorSize
	firstData    = 1 + 2*fatSectors + rootSectors // boot sector, two FATs, root
	clusters     = totalSectors - firstData       // one sector each
	dirEntrySize = 32
	// Size is the size of the image WriteFloppy makes.
	Size = totalSectors * sectorSize
)

// File is one file on the floppy: Path is slash-separated, relative to
// its root; the directories on the way are made.
type File struct {
	Path string
	Data []byte
}

// ErrTooBig is a set of files that does not fit on the floppy.
var ErrTooBig = errors.New("does not fit on a 1.44 MB floppy")

// Floppy returns the image of a floppy labelled label (at most 11
// characters, upper-cased) holding files, each dated mtime.
func Floppy(label string, files []File, mtime time.Time) ([]byte, error) {
	root := &node{dir: true}
	for _, f := range files {
		if err := root.add(f); err != nil {
			return nil, err
		}
	}
	img := make([]byte, Size)
	w := &writer{img: img, next: 2, stamp: stamp(mtime)}
	w.fatSet(0, 0xFF0)
	w.fatSet(1, 0xFFF)
	vol := shortLabel(label)
	rootDir, _, err := w.dirEntries(root, 0, vol)
	if err != nil {
		return nil, err
	}
	if len(rootDir) > rootEntries*dirEntrySize {
		return nil, fmt.Errorf("floppy: %d entries in its root directory, at most %d: %w", len(rootDir)/dirEntrySize, rootEntries, ErrTooBig)
	}
	copy(img[(1+2*fatSectors)*sectorSize:], rootDir)
	w.bootSector(vol, mtime)
	copy(img[(1+fatSectors)*sectorSize:], img[sectorSize:(1+fatSectors)*sectorSize]) // the second FAT
	return img, nil
}

// node is a file or directory of the tree being written.
type node struct {
	name     string
	dir      bool
	data     []byte
	children []*node
}

func (n *node) add(f File) error {
	p := strings.Trim(path.Clean("/"+f.Path), "/")
	if p == "" || p == "." {
		return fmt.Errorf("floppy: %q is not a file name", f.Path)
	}
	parts := strings.Split(p, "/")
	cur := n
	for i, part := range parts {
		last := i == len(parts)-1
		var found *node
		for _, c := range cur.children {
			if strings.EqualFold(c.name, part) {
				found = c
			}
		}
		switch {
		case found != nil && (last || !found.dir):
			return fmt.Errorf("floppy: two files named %s (FAT names ignore case)", strings.Join(parts[:i+1], "/"))
		case found != nil:
			cur = found
		case last:
			cur.children = append(cur.children, &node{name: part, data: f.Data})
		default:
			d := &node{name: part, dir: true}
			cur.children = append(cur.children, d)
			cur = d
		}
	}
	return nil
}

// writer lays a tree out on the image: clusters are handed out in order.
type writer struct {
	img   []byte
	next  int // the next free cluster
	stamp [2]uint16
}

func (w *writer) fatSet(n int, v uint16) {
	fat := w.img[sectorSize : (1+fatSectors)*sectorSize]
	off := n * 3 / 2
	if n%2 == 0 {
		fat[off] = byte(v)
		fat[off+1] = fat[off+1]&0xF0 | byte(v>>8)&0x0F
	} else {
		fat[off] = fat[off]&0x0F | byte(v<<4)
		fat[off+1] = byte(v >> 4)
	}
}

// alloc takes the clusters for size bytes (none for 0), chained in the
// FAT, and returns the first.
func (w *writer) alloc(size int) (int, error) {
	n := (size + sectorSize - 1) / sectorSize
	if n == 0 {
		return 0, nil
	}
	if w.next+n > clusters+2 {
		return 0, fmt.Errorf("floppy: %w", ErrTooBig)
	}
	first := w.next
	for i := range n {
		c := first + i
		if i == n-1 {
			w.fatSet(c, 0xFFF)
		} else {
			w.fatSet(c, uint16(c+1))
		}
	}
	w.next += n
	return first, nil
}

func (w *writer) put(cluster int, data []byte) {
	copy(w.img[(firstData+cluster-2)*sectorSize:], data)
}

// dirEntries writes dir's children (files and, recursively, directories)
// and returns dir's own table and first cluster (0: the root, whose table
// has a place of its own and the volume label instead of "." and "..").
func (w *writer) dirEntries(dir *node, parent int, vol [11]byte) ([]byte, int, error) {
	slices.SortFunc(dir.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	names := shortNames(dir.children)
	var table []byte
	self := 0
	if dir.name != "" {
		// A directory's table is sized before its children are placed:
		// they need its first cluster for their "..".
		n := 2
		for i, c := range dir.children {
			n += 1 + len(longEntries(c.name, names[i]))/dirEntrySize
		}
		var err error
		if self, err = w.alloc(n * dirEntrySize); err != nil {
			return nil, 0, err
		}
		table = append(table, w.entry(dotName("."), 0x10, self, 0)...)
		table = append(table, w.entry(dotName(".."), 0x10, parent, 0)...)
	} else {
		table = append(table, w.entry(vol, 0x08, 0, 0)...)
	}
	for i, c := range dir.children {
		table = append(table, longEntries(c.name, names[i])...)
		if c.dir {
			sub, first, err := w.dirEntries(c, self, vol)
			if err != nil {
				return nil, 0, err
			}
			w.put(first, sub)
			table = append(table, w.entry(names[i], 0x10, first, 0)...)
			continue
		}
		first, err := w.alloc(len(c.data))
		if err != nil {
			return nil, 0, err
		}
		w.put(first, c.data)
		table = append(table, w.entry(names[i], 0x20, first, len(c.data))...)
	}
	return table, self, nil
}

func (w *writer) entry(name [11]byte, attr byte, cluster, size int) []byte {
	e := make([]byte, dirEntrySize)
	copy(e, name[:])
	e[11] = attr
	le16(e[14:], w.stamp[1]) // created
	le16(e[16:], w.stamp[0])
	le16(e[18:], w.stamp[0]) // accessed
	le16(e[22:], w.stamp[1]) // written
	le16(e[24:], w.stamp[0])
	le16(e[26:], uint16(cluster))
	le32(e[28:], uint32(size))
	return e
}

func (w *writer) bootSector(vol [11]byte, t time.Time) {
	b := w.img[:sectorSize]
	copy(b, []byte{0xEB, 0x3C, 0x90})
	copy(b[3:], "CLAWIMG ")
	le16(b[11:], sectorSize)
	b[13] = 1 // sectors per cluster
	le16(b[14:], 1)
	b[16] = 2 // FATs
	le16(b[17:], rootEntries)
	le16(b[19:], totalSectors)
	b[21] = 0xF0 // media: removable
	le16(b[22:], fatSectors)
	le16(b[24:], 18) // sectors per track
	le16(b[26:], 2)  // heads
	b[38] = 0x29     // extended boot signature
	le32(b[39:], uint32(t.Unix()))
	copy(b[43:], vol[:])
	copy(b[54:], "FAT12   ")
	// No boot code: a BIOS booting it is told so and goes on.
	b[62], b[63] = 0xCD, 0x18 // int 18h
	b[510], b[511] = 0x55, 0xAA
}

// stamp is t as FAT's date and time.
func stamp(t time.Time) [2]uint16 {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date := uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	clock := uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return [2]uint16{date, clock}
}

func le16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }

func le32(b []byte, v uint32) {
	le16(b, uint16(v))
	le16(b[2:], uint16(v>>16))
}
