package launcher

import "errors"

func newMultipass(cfg Config) (Driver, error) {
	return nil, errors.New("the multipass driver is not implemented yet: use --driver qemu")
}
