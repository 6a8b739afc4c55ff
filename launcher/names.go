package launcher

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
)

var nameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ErrInvalidName marks a name outside [a-z0-9-] (a usage error).
var ErrInvalidName = errors.New("invalid instance name")

// CheckName accepts 1 to 63 characters of [a-z0-9-], not starting or
// ending with '-' (a valid host name).
func CheckName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("%w %q: use 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'", ErrInvalidName, name)
	}
	return nil
}

var words = []string{
	"amber", "brisk", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "jade",
	"kestrel", "lumen", "maple", "nimbus", "onyx", "pebble", "quartz", "raven", "sable", "tundra",
	"umber", "vale", "willow", "xenon", "yarrow", "zephyr",
}

// generateName makes a name such as openclaw-cedar-42 that taken does not
// report as used.
func generateName(taken func(string) bool) (string, error) {
	for range 200 {
		n := fmt.Sprintf("openclaw-%s-%d", words[rand.IntN(len(words))], rand.IntN(99)+1)
		if !taken(n) {
			return n, nil
		}
	}
	return "", fmt.Errorf("could not find a free instance name")
}
