package main

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/drivers"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

// checkEgressFlags refuses, as usage errors naming the flag, what launch's
// egress and upstream flags cannot mean, before anything is made.
func checkEgressFlags(o *launcher.LaunchOptions, caCerts []string) error {
	if o.Egress != "" {
		if err := hostnet.CheckEgress(o.Egress); err != nil {
			return cli.UsageError{Err: fmt.Errorf("--egress: %w", err)}
		}
	}
	for _, a := range o.Allow {
		if _, err := hostnet.ParseAllow(a); err != nil {
			return cli.UsageError{Err: fmt.Errorf("--allow: %w", err)}
		}
	}
	if len(o.Allow) > 0 && o.Egress != "" && o.Egress != hostnet.EgressProxy {
		return cli.WithHint(cli.Usagef("--allow needs --egress proxy (got --egress %s)", o.Egress),
			"--egress none reaches the model broker only; --egress open reaches everything")
	}
	if o.ProviderURL != "" {
		if err := hostnet.CheckProviderURL(o.ProviderURL); err != nil {
			return cli.UsageError{Err: fmt.Errorf("--provider-url: %w", err)}
		}
	}
	caps, err := launcher.DriverCaps(drivers.All(), o.Driver)
	if err != nil {
		return err
	}
	if !caps.Broker {
		switch {
		case o.Egress == hostnet.EgressProxy || o.Egress == hostnet.EgressNone:
			return cli.WithHint(cli.Usagef("--egress %s %s", o.Egress, launcher.ErrNoBroker), "use --driver qemu")
		case len(o.Allow) > 0:
			return cli.WithHint(cli.Usagef("--allow %s", launcher.ErrNoBroker), "use --driver qemu")
		case len(caCerts) > 0:
			return cli.WithHint(cli.Usagef("--ca-cert %s", launcher.ErrNoBroker), "use --driver qemu")
		}
	}
	return nil
}

// readCACert reads a --ca-cert file, which must hold PEM certificates.
func readCACert(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.UsageError{Err: fmt.Errorf("--ca-cert: %w", err)}
	}
	rest, n := b, 0
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			n++
		}
	}
	if n == 0 {
		return nil, cli.UsageError{Err: fmt.Errorf("--ca-cert %s: no PEM certificate in it", path)}
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	return b, nil
}
