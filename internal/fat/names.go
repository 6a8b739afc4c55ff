package fat

import (
	"strconv"
	"strings"
	unicode16 "unicode/utf16"
)

// shortChars are the characters an 8.3 name may hold besides A-Z and 0-9.
const shortChars = "!#$%&'()-@^_`{}~"

func shortChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(shortChars, r)
}

// shortNames gives each of a directory's entries its 8.3 name: the name
// itself when it is one (upper case, 8 and 3 characters at most), else a
// generated NAME~N.EXT beside a long name.
func shortNames(children []*node) [][11]byte {
	used := map[[11]byte]bool{}
	out := make([][11]byte, len(children))
	for i, c := range children {
		if s, ok := exactShort(c.name); ok && !used[s] {
			out[i] = s
			used[s] = true
		}
	}
	for i, c := range children {
		if out[i] != ([11]byte{}) {
			continue
		}
		base, ext := mangle(c.name)
		for n := 1; ; n++ {
			tail := "~" + strconv.Itoa(n)
			s := pack(base[:min(len(base), 8-len(tail))]+tail, ext)
			if !used[s] {
				out[i] = s
				used[s] = true
				break
			}
		}
	}
	return out
}

// exactShort is name as an 8.3 name, if it is one as it stands.
func exactShort(name string) ([11]byte, bool) {
	base, ext, _ := strings.Cut(name, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || strings.Contains(ext, ".") || strings.HasSuffix(name, ".") {
		return [11]byte{}, false
	}
	for _, r := range base + ext {
		if !shortChar(r) {
			return [11]byte{}, false
		}
	}
	return pack(base, ext), true
}

// mangle makes a long name's base and extension fit 8.3's characters.
func mangle(name string) (base, ext string) {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			switch {
			case r == ' ' || r == '.':
			case shortChar(r):
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	name = strings.TrimLeft(name, ". ")
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = clean(name[:i]), clean(name[i+1:])
	} else {
		base = clean(name)
	}
	if base == "" {
		base = "_"
	}
	return base, ext[:min(len(ext), 3)]
}

func pack(base, ext string) [11]byte {
	var s [11]byte
	copy(s[:], base+strings.Repeat(" ", 8-len(base)))
	copy(s[8:], ext+strings.Repeat(" ", 3-len(ext)))
	return s
}

func dotName(dots string) [11]byte { return pack(dots, "") }

// shortLabel is a volume label as FAT stores it.
func shortLabel(label string) [11]byte {
	var b strings.Builder
	for _, r := range strings.ToUpper(label) {
		if shortChar(r) || r == ' ' {
			b.WriteRune(r)
		}
	}
	l := b.String()
	l = l[:min(len(l), 11)]
	var s [11]byte
	copy(s[:], l+strings.Repeat(" ", 11-len(l)))
	return s
}

// longEntries are the VFAT entries that carry name beside its 8.3 name
// short (none when short is the name itself), last part first, as they
// are stored before the 8.3 entry.
func longEntries(name string, short [11]byte) []byte {
	if s, ok := exactShort(name); ok && s == short {
		return nil
	}
	u := unicode16.Encode([]rune(name))
	n := (len(u) + 12) / 13
	padded := make([]uint16, n*13)
	for i := range padded {
		switch {
		case i < len(u):
			padded[i] = u[i]
		case i == len(u):
			padded[i] = 0
		default:
			padded[i] = 0xFFFF
		}
	}
	var sum byte
	for _, c := range short {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	out := make([]byte, 0, n*dirEntrySize)
	for seq := n; seq >= 1; seq-- {
		e := make([]byte, dirEntrySize)
		e[0] = byte(seq)
		if seq == n {
			e[0] |= 0x40
		}
		e[11] = 0x0F // attributes of a long-name entry
		e[13] = sum
		part := padded[(seq-1)*13 : seq*13]
		for i, c := range part {
			off := 1 + 2*i // 5 characters at 1
			if i >= 5 {
				off = 14 + 2*(i-5) // 6 at 14
			}
			if i >= 11 {
				off = 28 + 2*(i-11) // 2 at 28
			}
			le16(e[off:], c)
		}
		out = append(out, e...)
	}
	return out
}
