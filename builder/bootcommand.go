package builder

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// keyStroke is one step of a boot command: keys pressed together and
// released (Keys: modifiers first, as QEMU qcodes), one key pressed and
// held (Down) or released (Up), or a pause (Wait).
type keyStroke struct {
	Keys     []string
	Down, Up string
	Wait     time.Duration
}

// specialKeys are Packer's <name> keys (names lower-cased) as QEMU qcodes.
var specialKeys = map[string]string{
	"bs": "backspace", "del": "delete", "enter": "ret", "return": "ret", "esc": "esc", "tab": "tab",
	"up": "up", "down": "down", "left": "left", "right": "right", "spacebar": "spc",
	"insert": "insert", "home": "home", "end": "end", "pageup": "pgup", "pagedown": "pgdn", "menu": "menu",
	"leftalt": "alt", "leftctrl": "ctrl", "leftshift": "shift", "rightalt": "alt_r", "rightctrl": "ctrl_r",
	"rightshift": "shift_r", "leftsuper": "meta_l", "rightsuper": "meta_r",
	"f1": "f1", "f2": "f2", "f3": "f3", "f4": "f4", "f5": "f5", "f6": "f6",
	"f7": "f7", "f8": "f8", "f9": "f9", "f10": "f10", "f11": "f11", "f12": "f12",
}

// punctuation is the US layout's: the qcode of each character, and
// whether it needs shift.
var punctuation = map[rune]struct {
	code  string
	shift bool
}{
	' ': {"spc", false}, '\n': {"ret", false}, '\t': {"tab", false},
	'-': {"minus", false}, '_': {"minus", true}, '=': {"equal", false}, '+': {"equal", true},
	'[': {"bracket_left", false}, '{': {"bracket_left", true}, ']': {"bracket_right", false}, '}': {"bracket_right", true},
	'\\': {"backslash", false}, '|': {"backslash", true}, ';': {"semicolon", false}, ':': {"semicolon", true},
	'\'': {"apostrophe", false}, '"': {"apostrophe", true}, '`': {"grave_accent", false}, '~': {"grave_accent", true},
	',': {"comma", false}, '<': {"comma", true}, '.': {"dot", false}, '>': {"dot", true},
	'/': {"slash", false}, '?': {"slash", true},
	'!': {"1", true}, '@': {"2", true}, '#': {"3", true}, '$': {"4", true}, '%': {"5", true},
	'^': {"6", true}, '&': {"7", true}, '*': {"8", true}, '(': {"9", true}, ')': {"0", true},
}

// parseBootCommand turns a boot command, its templates already filled in,
// into keystrokes, as Packer reads it: <name> for a special key, <nameOn>
// and <nameOff> to hold and release one, <wait>, <waitN> (seconds) and
// <waitDURATION> for pauses; anything else, a "<" that starts none of
// these included, is typed as it is.
func parseBootCommand(cmd string) ([]keyStroke, error) {
	var out []keyStroke
	for i := 0; i < len(cmd); {
		if cmd[i] == '<' {
			if end := strings.IndexByte(cmd[i:], '>'); end > 0 {
				if k, ok, err := specialStroke(cmd[i+1 : i+end]); err != nil {
					return nil, fmt.Errorf("boot command: %s: %w", cmd[i:i+end+1], err)
				} else if ok {
					out = append(out, k)
					i += end + 1
					continue
				}
			}
		}
		r, size := utf8.DecodeRuneInString(cmd[i:])
		k, err := charStroke(r)
		if err != nil {
			return nil, fmt.Errorf("boot command: %w", err)
		}
		out = append(out, k)
		i += size
	}
	return out, nil
}

// specialStroke reads what is between < and >; ok is false when it is no
// key or wait Packer knows (then it is typed).
func specialStroke(name string) (keyStroke, bool, error) {
	lower := strings.ToLower(name)
	if rest, ok := strings.CutPrefix(lower, "wait"); ok {
		switch {
		case rest == "":
			return keyStroke{Wait: time.Second}, true, nil
		case strings.Trim(rest, "0123456789") == "":
			n, err := strconv.Atoi(rest)
			return keyStroke{Wait: time.Duration(n) * time.Second}, true, err
		default:
			d, err := time.ParseDuration(rest)
			if err != nil {
				return keyStroke{}, false, fmt.Errorf("not a duration: %q", rest)
			}
			return keyStroke{Wait: d}, true, nil
		}
	}
	if code, ok := specialKeys[lower]; ok {
		return keyStroke{Keys: []string{code}}, true, nil
	}
	if base, ok := strings.CutSuffix(lower, "on"); ok {
		if code, ok := specialKeys[base]; ok {
			return keyStroke{Down: code}, true, nil
		}
	}
	if base, ok := strings.CutSuffix(lower, "off"); ok {
		if code, ok := specialKeys[base]; ok {
			return keyStroke{Up: code}, true, nil
		}
	}
	return keyStroke{}, false, nil
}

// charStroke is the keystroke that types r on a US keyboard.
func charStroke(r rune) (keyStroke, error) {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return keyStroke{Keys: []string{string(r)}}, nil
	case r >= 'A' && r <= 'Z':
		return keyStroke{Keys: []string{"shift", string(r - 'A' + 'a')}}, nil
	}
	if p, ok := punctuation[r]; ok {
		if p.shift {
			return keyStroke{Keys: []string{"shift", p.code}}, nil
		}
		return keyStroke{Keys: []string{p.code}}, nil
	}
	return keyStroke{}, fmt.Errorf("%q cannot be typed on a US keyboard", r)
}
