package hcl

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"github.com/clawimg/clawimg/internal/atomicfile"
)

// packerDataSources are Packer's data sources that clawimg does not have:
// each reads a cloud, a registry or the network.
var packerDataSources = []string{
	"amazon-ami", "amazon-parameterstore", "amazon-secretsmanager", "azure-git", "git-commit",
	"git-repository", "hcp-packer-image", "hcp-packer-iteration", "hcp-packer-version",
	"hcp-packer-artifact", "http", "vault", "vsphere", "googlecompute-image",
}

// evalData evaluates the recipe's data blocks that have a meaning offline,
// into data.TYPE.NAME: "null" (its input as output) and "sshkey" (the
// ivoronin/sshkey plugin's key pair, made once and kept in keyDir). They
// are read after variables and before locals, so they can use variables
// and locals can use them.
func (ev *evaluator) evalData(blocks []*hcl2.Block, keyDir string) {
	byType := map[string]map[string]cty.Value{}
	for _, b := range blocks {
		typ, name := b.Labels[0], b.Labels[1]
		var v cty.Value
		var ok bool
		switch typ {
		case "null":
			v, ok = ev.dataNull(b)
		case "sshkey":
			v, ok = ev.dataSSHKey(b, keyDir)
		default:
			ev.unsupportedType(b, "data source", typ, []string{"null", "sshkey"}, packerDataSources)
			continue
		}
		if !ok {
			continue
		}
		if byType[typ] == nil {
			byType[typ] = map[string]cty.Value{}
		}
		if _, dup := byType[typ][name]; dup {
			ev.diags = append(ev.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError, Summary: "Duplicate data source",
				Detail: fmt.Sprintf("data.%s.%s is defined twice.", typ, name), Subject: b.DefRange.Ptr(),
			})
			continue
		}
		byType[typ][name] = v
	}
	data := map[string]cty.Value{}
	for typ, m := range byType {
		data[typ] = cty.ObjectVal(m)
	}
	ev.ctx.Variables["data"] = cty.ObjectVal(data)
}

// dataAttrs reads a data block's arguments; they may use variables (not
// locals, which come later).
func (ev *evaluator) dataAttrs(b *hcl2.Block, names ...string) (map[string]cty.Value, bool) {
	var schema hcl2.BodySchema
	for _, n := range names {
		schema.Attributes = append(schema.Attributes, hcl2.AttributeSchema{Name: n})
	}
	c, diags := b.Body.Content(&schema)
	ev.diags = append(ev.diags, diags...)
	out := map[string]cty.Value{}
	ok := !diags.HasErrors()
	for n, a := range c.Attributes {
		for _, t := range a.Expr.Variables() {
			if t.RootName() == "local" {
				ev.diags = append(ev.diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagError, Summary: "Local value in a data source",
					Detail:  "Data sources are read before locals: they can use variables, not local values.",
					Subject: t.SourceRange().Ptr(),
				})
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, diags := ev.eval(a.Expr)
		ev.diags = append(ev.diags, diags...)
		if diags.HasErrors() {
			ok = false
			continue
		}
		out[n] = v
	}
	return out, ok
}

// dataNull is Packer's null data source: output is input.
func (ev *evaluator) dataNull(b *hcl2.Block) (cty.Value, bool) {
	attrs, ok := ev.dataAttrs(b, "input")
	if !ok {
		return cty.NilVal, false
	}
	in, set := attrs["input"]
	if !set {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Missing required argument",
			Detail: "The null data source needs input.", Subject: b.DefRange.Ptr(),
		})
		return cty.NilVal, false
	}
	return cty.ObjectVal(map[string]cty.Value{"input": in, "output": in}), true
}

var keyName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// dataSSHKey is the sshkey plugin's data source: a key pair of type
// ("rsa", its default, or "ed25519") called name, made on first use and
// kept in keyDir (private), so that every build of the recipe sees the same
// key: public_key (authorized_keys form) and private_key_path.
func (ev *evaluator) dataSSHKey(b *hcl2.Block, keyDir string) (cty.Value, bool) {
	attrs, ok := ev.dataAttrs(b, "name", "type")
	if !ok {
		return cty.NilVal, false
	}
	name, typ := "packer", "rsa"
	if v, set := attrs["name"]; set && v.Type() == cty.String && !v.IsNull() {
		name = v.AsString()
	}
	if v, set := attrs["type"]; set && v.Type() == cty.String && !v.IsNull() {
		typ = v.AsString()
	}
	fail := func(format string, args ...any) (cty.Value, bool) {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Invalid sshkey data source",
			Detail: fmt.Sprintf(format, args...), Subject: b.DefRange.Ptr(),
		})
		return cty.NilVal, false
	}
	switch {
	case typ != "rsa" && typ != "ed25519":
		return fail("type must be \"rsa\" or \"ed25519\", not %q.", typ)
	case !keyName.MatchString(name):
		return fail("name %q must be letters, digits, '.', '_' or '-'.", name)
	case keyDir == "":
		return fail("there is no directory to keep its key in.")
	}
	path := filepath.Join(keyDir, "ssh_private_key_"+name+"_"+typ+".pem")
	pub, err := loadOrMakeKey(path, typ)
	if err != nil {
		return fail("%v.", err)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"public_key": cty.StringVal(pub), "private_key_path": cty.StringVal(path),
	}), true
}

// loadOrMakeKey returns the public key (authorized_keys form) of the
// private key at path, making the pair first if there is none.
func loadOrMakeKey(path, typ string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return "", fmt.Errorf("%s: %v", path, err)
		}
		return string(ssh.MarshalAuthorizedKey(signer.PublicKey())), nil
	}
	var priv any
	if typ == "ed25519" {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", err
		}
		priv = k
	} else {
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			return "", err
		}
		priv = k
	}
	block, err := ssh.MarshalPrivateKey(priv, filepath.Base(path))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	return loadOrMakeKey(path, typ)
}
