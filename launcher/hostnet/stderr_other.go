//go:build !unix

package hostnet

import "os"

func redirectStderr(*os.File) {}
