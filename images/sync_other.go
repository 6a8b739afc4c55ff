//go:build !linux

package images

import "os"

// syncStaged makes the staged files durable one by one: there is no
// syncfs outside Linux.
func syncStaged(_ string, paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
