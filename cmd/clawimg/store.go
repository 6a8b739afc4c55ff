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

// cacheDir is where downloads are kept: $CLAWIMG_HOME/cache when
// CLAWIMG_HOME is set (a test touches nothing else), else
// $XDG_CACHE_HOME/clawimg, else ~/.cache/clawimg.
func (e *env) cacheDir() string {
	if h := e.getenv("CLAWIMG_HOME"); h != "" {
		return filepath.Join(h, "cache")
	}
	if x := e.getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "clawimg")
	}
	return filepath.Join(e.getenv("HOME"), ".cache", "clawimg")
}
