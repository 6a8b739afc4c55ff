package main

import (
	"path/filepath"

	"github.com/clawimg/clawimg/images"
)

// home is $CLAWIMG_HOME, else $XDG_DATA_HOME/clawimg, else
// ~/.local/share/clawimg.
func (e *env) home() string {
	if h := e.getenv("CLAWIMG_HOME"); h != "" {
		return h
	}
	if x := e.getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "clawimg")
	}
	return filepath.Join(e.getenv("HOME"), ".local", "share", "clawimg")
}

func (e *env) store() (*images.Store, error) {
	return images.Open(e.home(), e.log)
}
