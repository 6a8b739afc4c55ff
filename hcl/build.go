package hcl

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/zclconf/go-cty/cty"
)

var buildBlocks = []hcl2.BlockHeaderSchema{
	{Type: "provisioner", LabelNames: []string{"type"}},
	{Type: "post-processor", LabelNames: []string{"type"}},
	{Type: "post-processors"},
	{Type: "source", LabelNames: []string{"reference"}},
	{Type: "error-cleanup-provisioner", LabelNames: []string{"type"}},
	{Type: "hcp_packer_registry"},
}

var packerProvisioners = []string{
	"breakpoint", "chef-client", "chef-solo", "converge",
	"inspec", "powershell", "puppet-masterless", "puppet-server", "salt-masterless",
	"windows-restart", "windows-shell",
}

var packerPostProcessors = []string{
	"alicloud-import", "amazon-import", "artifice", "digitalocean-import",
	"docker-import", "docker-push", "docker-save", "docker-tag", "exoscale-import",
	"googlecompute-export", "googlecompute-import", "ucloud-import", "vagrant",
	"vagrant-cloud", "vsphere", "vsphere-template", "yandex-export", "yandex-import",
}

// decodeBuilds reads every build block. Source references are checked
// against the declared sources.
func (ev *evaluator) decodeBuilds(blocks []*hcl2.Block, sourceBlocks []*hcl2.Block, plan *Plan) []Build {
	var out []Build
	for _, b := range blocks {
		// dynamic "provisioner" / "post-processor" blocks, as in Packer,
		// become the blocks they stand for.
		body := dynblock.Expand(b.Body, ev.ctx)
		d, c, diags := ev.content(body, "build", []string{"name", "description", "sources"}, buildBlocks, nil)
		ev.diags = append(ev.diags, diags...)
		var bd Build
		d.str("name", &bd.Name)
		d.str("description", &bd.Description)
		bd.Sources = ev.buildSources(d, b, plan, c)
		for _, blk := range c.Blocks {
			if blk.Type == "source" {
				if ref, ok := ev.sourceVariant(blk, sourceBlocks, plan); ok {
					bd.Sources = append(bd.Sources, ref)
				}
			}
		}
		if bd.Name == "" && len(bd.Sources) > 0 {
			bd.Name = bd.Sources[0][strings.LastIndex(bd.Sources[0], ".")+1:]
		}
		bd.Sensitive = d.sensitive
		ev.diags = append(ev.diags, d.diags...)
		// Provisioners and post-processors see Packer's contextual
		// variables: build.name, and source.name and source.type (a build
		// has one source in clawimg).
		recipeCtx := ev.ctx
		ev.ctx = buildContext(recipeCtx, bd)
		chain := 0
		for _, blk := range c.Blocks {
			switch blk.Type {
			case "provisioner":
				if p, ok := ev.decodeProvisioner(blk, bd.Sources); ok {
					bd.Provisioners = append(bd.Provisioners, p)
				}
			case "post-processor":
				if p, ok := ev.decodePostProcessor(blk, bd.Sources); ok {
					bd.PostProcessors = append(bd.PostProcessors, p)
				}
			case "post-processors":
				chain++
				bd.PostProcessors = append(bd.PostProcessors, ev.decodeChain(blk, bd.Sources, chain)...)
			case "source": // read above
			default:
				ev.diags = append(ev.diags, &hcl2.Diagnostic{
					Severity: hcl2.DiagError,
					Summary:  "Unsupported Packer block",
					Detail:   fmt.Sprintf("Packer's %q block inside build is not supported by clawimg.", blk.Type),
					Subject:  blk.DefRange.Ptr(),
				})
			}
		}
		ev.ctx = recipeCtx
		out = append(out, bd)
	}
	return out
}

// sourceVariant reads a build's `source "source.qemu.NAME" { name = ... }`
// block: a variant of a recipe source with more arguments, a source of its
// own named by name. As in Packer, it cannot set again what the source
// sets. It returns the variant's reference.
func (ev *evaluator) sourceVariant(b *hcl2.Block, sourceBlocks []*hcl2.Block, plan *Plan) (string, bool) {
	ref := b.Labels[0]
	typ, base, _ := strings.Cut(strings.TrimPrefix(ref, "source."), ".")
	var orig *hcl2.Block
	for _, sb := range sourceBlocks {
		if sb.Labels[0] == typ && sb.Labels[1] == base {
			orig = sb
		}
	}
	if orig == nil || !strings.HasPrefix(ref, "source.") {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Unknown source",
			Detail:  fmt.Sprintf("%q is not defined in this recipe (a build's source block names one as \"source.TYPE.NAME\").", ref),
			Subject: b.LabelRanges[0].Ptr(),
		})
		return "", false
	}
	content, rest, diags := b.Body.PartialContent(&hcl2.BodySchema{Attributes: []hcl2.AttributeSchema{{Name: "name"}}})
	ev.diags = append(ev.diags, diags...)
	name := ""
	if a, ok := content.Attributes["name"]; ok {
		v, diags := ev.eval(a.Expr)
		ev.diags = append(ev.diags, diags...)
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			name = v.AsString()
		}
	}
	if typ != "qemu" {
		return "source." + typ + "." + base, slices.Contains(plan.OtherSources, "source."+typ+"."+base)
	}
	if name == "" || plan.Source(name) != nil {
		ev.diags = append(ev.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Missing source name",
			Detail:  fmt.Sprintf("A build's source block makes a variant of %s: give it a name = \"...\" of its own (not one of the recipe's sources).", ref),
			Subject: b.DefRange.Ptr(),
		})
		return "", false
	}
	variant := &hcl2.Block{Type: "source", Labels: []string{"qemu", name}, Body: hcl2.MergeBodies([]hcl2.Body{orig.Body, rest}),
		DefRange: b.DefRange, TypeRange: b.TypeRange, LabelRanges: []hcl2.Range{orig.LabelRanges[0], b.LabelRanges[0]}}
	plan.Sources = append(plan.Sources, ev.decodeQEMU(variant))
	return "source.qemu." + name, true
}

// checkCompress reads the compress post-processor's format (named, or the
// output's extension) and level.
func (ev *evaluator) checkCompress(d *decoder, p *PostProcessor) {
	p.CompressionLevel = 6 // Packer's default
	d.integer("compression_level", &p.CompressionLevel)
	d.str("format", &p.Format)
	if p.Output == "" {
		p.Output = "packer_{{.BuildName}}_{{.BuilderType}}.tar.gz" // Packer's default
	}
	if p.Format == "" {
		p.Format = compressFormat(p.Output)
	} else if !strings.HasPrefix(p.Format, ".") {
		p.Format = "." + p.Format
	}
	if !slices.Contains(compressFormats, p.Format) {
		a := attrOf(d, "format", "output")
		if a == nil {
			return
		}
		d.errorf(a, "Unsupported compression format", "compress writes %s, not %q (Packer's lz4, bgzf and xz are not supported).", strings.Join(compressFormats, ", "), p.Format)
	}
	if a, ok := d.attrs["compression_level"]; ok && (p.CompressionLevel < -1 || p.CompressionLevel > 9) {
		d.errorf(a, "Invalid value", "compression_level is 0 to 9 (default 6; -1: the library's own), not %d.", p.CompressionLevel)
	}
}

// compressFormat is the compress format an output file name implies.
func compressFormat(output string) string {
	for _, f := range []string{".tar.gz", ".tar.zst"} {
		if strings.HasSuffix(output, f) {
			return f
		}
	}
	return filepath.Ext(output)
}

// decodeChain reads a post-processors block: a sequence of post-processor
// blocks (dynamic ones expanded), marked as the build's chain number n.
func (ev *evaluator) decodeChain(b *hcl2.Block, sources []string, n int) []PostProcessor {
	body := dynblock.Expand(b.Body, ev.ctx)
	d, c, diags := ev.content(body, "post-processors", nil, []hcl2.BlockHeaderSchema{{Type: "post-processor", LabelNames: []string{"type"}}}, nil)
	ev.diags = append(ev.diags, diags...)
	ev.diags = append(ev.diags, d.diags...)
	var out []PostProcessor
	for _, blk := range c.Blocks {
		if p, ok := ev.decodePostProcessor(blk, sources); ok {
			p.Chain = n
			out = append(out, p)
		}
	}
	return out
}

// buildContext is the recipe's context with build.* and source.* set.
func buildContext(parent *hcl2.EvalContext, bd Build) *hcl2.EvalContext {
	ctx := parent.NewChild()
	ctx.Variables = map[string]cty.Value{
		"build": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(bd.Name)}),
	}
	var qemu []string
	for _, s := range bd.Sources {
		if strings.HasPrefix(s, "source.qemu.") {
			qemu = append(qemu, s)
		}
	}
	if len(qemu) == 1 {
		ctx.Variables["source"] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(strings.TrimPrefix(qemu[0], "source.qemu.")),
			"type": cty.StringVal("qemu"),
		})
	}
	return ctx
}

// buildSources resolves `sources = ["source.qemu.NAME", ...]`, pointing at
// the exact element that names an undefined source.
func (ev *evaluator) buildSources(d *decoder, b *hcl2.Block, plan *Plan, c *hcl2.BodyContent) []string {
	a, ok := d.attrs["sources"]
	if !ok && slices.ContainsFunc(c.Blocks, func(b *hcl2.Block) bool { return b.Type == "source" }) {
		return nil // the build's source blocks name its sources
	}
	if !ok {
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Missing required argument",
			Detail:   `A build needs sources = ["source.qemu.NAME"].`,
			Subject:  b.DefRange.Ptr(),
		})
		return nil
	}
	var declared []string
	for _, s := range plan.Sources {
		declared = append(declared, "source.qemu."+s.Name)
	}
	declared = append(declared, plan.OtherSources...)
	exprs, diags := hcl2.ExprList(a.Expr)
	if diags.HasErrors() {
		// As in Packer, the list is read before any variable has a value.
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Invalid sources",
			Detail:   `sources must be a list written out in the recipe, e.g. sources = ["source.qemu.NAME"]: it is read before variables and locals have values.`,
			Subject:  a.Expr.Range().Ptr(),
		})
		return nil
	}
	var out []string
	for _, e := range exprs {
		v, diags := ev.eval(e)
		d.diags = append(d.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		if _, secret := unmark(v); secret {
			d.diags = append(d.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError, Summary: "Invalid value",
				Detail: "A source reference cannot derive from a sensitive variable.", Subject: e.Range().Ptr(),
			})
			continue
		}
		if v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
			d.diags = append(d.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError, Summary: "Incorrect attribute value type",
				Detail: `Each element of sources must be a string such as "source.qemu.NAME".`, Subject: e.Range().Ptr(),
			})
			continue
		}
		ref := v.AsString()
		if !slices.Contains(declared, ref) {
			d.diags = append(d.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Unknown source",
				Detail:   fmt.Sprintf("%q is not defined in this recipe.%s", ref, suggest(ref, declared)),
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		out = append(out, ref)
	}
	return out
}

var commonProvisionerFields = []string{"name", "pause_before", "timeout", "max_retries", "only", "except"}

var shellFields = []string{
	"inline", "script", "scripts", "environment_vars", "env", "execute_command",
	"expect_disconnect", "valid_exit_codes", "inline_shebang", "remote_folder",
}

var shellUnsupported = []string{
	"binary", "remote_path", "remote_file", "skip_clean", "start_retry_timeout",
	"use_env_var_file", "env_var_format", "pause_after", "override",
}

var ansibleFields = []string{
	"playbook_file", "command", "extra_arguments", "ansible_env_vars", "user", "groups",
	"host_alias", "ansible_ssh_extra_args", "use_proxy", "keep_inventory_file",
}

var ansibleUnsupported = []string{
	"galaxy_file", "galaxy_command", "galaxy_force_install", "roles_path", "collections_path",
	"inventory_file", "inventory_directory", "local_port", "sftp_command", "skip_version_check",
	"use_sftp", "ssh_host_key_file", "ssh_authorized_key_file", "empty_groups", "limit",
	"max_retries_ansible", "winrm_use_http", "override",
}

var fileFields = []string{"source", "sources", "content", "destination", "direction", "generated"}

var fileUnsupported = []string{"override"}

func (ev *evaluator) decodeProvisioner(b *hcl2.Block, sources []string) (Provisioner, bool) {
	typ := b.Labels[0]
	p := Provisioner{Type: typ}
	var fields, unsupported []string
	switch typ {
	case "shell":
		fields, unsupported = shellFields, shellUnsupported
	case "file":
		fields, unsupported = fileFields, fileUnsupported
	case "shell-local":
		fields = postProcessorFields["shell-local"]
	case "ansible":
		fields, unsupported = ansibleFields, ansibleUnsupported
	case "ansible-local":
		fields, unsupported = ansibleLocalFields, ansibleLocalUnsupported
	default:
		ev.unsupportedType(b, "provisioner", typ, []string{"ansible", "ansible-local", "file", "shell", "shell-local"}, packerProvisioners)
		return p, false
	}
	what := fmt.Sprintf("provisioner %q", typ)
	d, _, diags := ev.content(b.Body, what, append(fields, commonProvisionerFields...), nil, unsupported)
	ev.diags = append(ev.diags, diags...)
	d.str("name", &p.Name)
	d.duration("pause_before", &p.PauseBefore)
	d.duration("timeout", &p.Timeout)
	d.integer("max_retries", &p.MaxRetries)
	d.strList("only", &p.Only)
	d.strList("except", &p.Except)
	ev.checkOnlyExcept(d, sources)
	switch typ {
	case "shell":
		p.Shell = ev.decodeShell(d, b)
	case "file":
		p.File = ev.decodeFile(d, b)
	case "ansible":
		p.Ansible = ev.decodeAnsible(d, b)
	case "ansible-local":
		p.AnsibleLocal = ev.decodeAnsibleLocal(d, b)
	case "shell-local":
		p.Local = &Local{}
		d.strList("inline", &p.Local.Inline)
		d.strList("environment_vars", &p.Local.EnvironmentVars)
		p.Local.Scripts = ev.scripts(d)
		if !d.has("inline") && len(p.Local.Scripts) == 0 && !d.diags.HasErrors() {
			d.diags = append(d.diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError, Summary: "Invalid shell-local provisioner",
				Detail: "One of inline, script or scripts must be set.", Subject: b.DefRange.Ptr(),
			})
		}
	}
	p.Sensitive = d.sensitive
	ev.diags = append(ev.diags, d.diags...)
	return p, !d.diags.HasErrors()
}

// checkOnlyExcept checks that only/except name sources of the build, in
// Packer's "qemu.NAME" form.
func (ev *evaluator) checkOnlyExcept(d *decoder, sources []string) {
	var names []string
	for _, s := range sources {
		names = append(names, strings.TrimPrefix(s, "source."))
	}
	if len(names) == 0 {
		return // the build's sources are wrong already: said there
	}
	for _, field := range []string{"only", "except"} {
		a, ok := d.attrs[field]
		if !ok {
			continue
		}
		var got []string
		d.strList(field, &got)
		for _, g := range got {
			switch {
			case slices.Contains(names, g):
			case !strings.Contains(g, "."):
				d.errorf(a, "Unknown source", "%s names %q: sources are named in Packer's \"TYPE.NAME\" form (this build's: %s).%s", field, g, strings.Join(names, ", "), suggest(g, names))
			default:
				d.errorf(a, "Unknown source", "%s names %q, which is not a source of this build (its sources: %s).%s", field, g, strings.Join(names, ", "), suggest(g, names))
			}
		}
	}
}

func (ev *evaluator) decodeShell(d *decoder, b *hcl2.Block) *Shell {
	s := &Shell{
		ExecuteCommand: "chmod +x {{.Path}}; {{.Vars}} {{.Path}}",
		InlineShebang:  "/bin/sh -e",
		RemoteFolder:   "/tmp",
		ValidExitCodes: []int{0},
	}
	d.strList("inline", &s.Inline)
	s.Scripts = ev.scripts(d)
	d.strList("environment_vars", &s.EnvironmentVars)
	d.strMap("env", &s.Env)
	d.str("execute_command", &s.ExecuteCommand)
	d.boolean("expect_disconnect", &s.ExpectDisconnect)
	d.intList("valid_exit_codes", &s.ValidExitCodes)
	d.str("inline_shebang", &s.InlineShebang)
	d.str("remote_folder", &s.RemoteFolder)

	n := 0
	for _, f := range []string{"inline", "script", "scripts"} {
		if d.has(f) {
			n++
		}
	}
	if n != 1 {
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Invalid shell provisioner",
			Detail:   "Exactly one of inline, script or scripts must be set.",
			Subject:  b.DefRange.Ptr(),
		})
	}
	if a, ok := d.attrs["environment_vars"]; ok {
		for _, kv := range s.EnvironmentVars {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				d.errorf(a, "Invalid environment_vars", "%q must be in the form NAME=VALUE.", strings.SplitN(kv, "=", 2)[0])
			}
		}
	}
	return s
}

func (ev *evaluator) decodeFile(d *decoder, b *hcl2.Block) *File {
	f := &File{Direction: "upload"}
	var source, content string
	var generated bool
	d.str("source", &source)
	d.str("content", &content)
	d.str("destination", &f.Destination)
	d.str("direction", &f.Direction)
	d.boolean("generated", &generated)
	d.oneOf("direction", f.Direction, "upload", "download")
	if d.has("content") {
		f.Content = &content
	}
	set := 0
	for _, a := range []string{"source", "sources", "content"} {
		if d.has(a) {
			set++
		}
	}
	switch {
	case set != 1:
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Invalid file provisioner",
			Detail: "Exactly one of source, sources or content must be set.", Subject: b.DefRange.Ptr(),
		})
	case d.has("sources"):
		ev.decodeFileSources(d, f, generated)
	case d.has("content") && f.Direction == "download":
		d.errorf(d.attrs["content"], "Invalid file provisioner", "content can only be uploaded.")
	case d.has("source") && (f.Direction == "download" || generated):
		f.Source = &FileRef{Path: source} // a guest path, or made during the build
	case d.has("source"):
		if ref, ok := ev.fileRef(d, d.attrs["source"], source); ok {
			f.Source = &ref
		}
	}
	if !d.has("destination") {
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Missing required argument",
			Detail: "The file provisioner needs destination.", Subject: b.DefRange.Ptr(),
		})
	}
	return f
}

// decodeAnsible reads a `provisioner "ansible"`: ansible-playbook run on
// the host against the build VM.
func (ev *evaluator) decodeAnsible(d *decoder, b *hcl2.Block) *Ansible {
	a := &Ansible{Command: "ansible-playbook", HostAlias: "default"}
	if attr, ok := d.attrs["playbook_file"]; ok {
		var path string
		d.str("playbook_file", &path)
		if ref, ok := ev.fileRef(d, attr, path); ok {
			a.PlaybookFile = ref
		}
	} else {
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Missing required argument",
			Detail: "The ansible provisioner needs playbook_file.", Subject: b.DefRange.Ptr(),
		})
	}
	d.str("command", &a.Command)
	d.strList("extra_arguments", &a.ExtraArguments)
	d.strList("ansible_env_vars", &a.EnvVars)
	d.str("user", &a.User)
	d.strList("groups", &a.Groups)
	d.str("host_alias", &a.HostAlias)
	d.strList("ansible_ssh_extra_args", &a.SSHExtraArgs)
	d.boolean("use_proxy", &a.UseProxy)
	d.boolean("keep_inventory_file", &a.KeepInventoryFile)
	if attr, ok := d.attrs["ansible_env_vars"]; ok {
		for _, kv := range a.EnvVars {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				d.errorf(attr, "Invalid ansible_env_vars", "%q must be in the form NAME=VALUE.", strings.SplitN(kv, "=", 2)[0])
			}
		}
	}
	return a
}

// decodeFileSources reads a file provisioner's sources: host files or
// directories uploaded, in order, into destination, a directory (its
// name ends in "/", as Packer requires).
func (ev *evaluator) decodeFileSources(d *decoder, f *File, generated bool) {
	a := d.attrs["sources"]
	var paths []string
	d.strList("sources", &paths)
	switch {
	case f.Direction == "download" || generated:
		d.errorf(a, "Invalid file provisioner", "sources can only be uploaded, and must exist when the recipe is read (not generated).")
		return
	case len(paths) == 0:
		d.errorf(a, "Invalid file provisioner", "sources is empty.")
		return
	case !strings.HasSuffix(f.Destination, "/"):
		d.errorf(a, "Invalid file provisioner", "with sources, destination must be a directory: end it with \"/\" (it is %q).", f.Destination)
	}
	for _, p := range paths {
		if ref, ok := ev.fileRef(d, a, p); ok {
			f.Sources = append(f.Sources, ref)
		}
	}
}

// scripts resolves the script and scripts attributes, in that order.
func (ev *evaluator) scripts(d *decoder) []FileRef {
	var refs []FileRef
	add := func(a *hcl2.Attribute, paths []string) {
		for _, path := range paths {
			if ref, ok := ev.fileRef(d, a, path); ok {
				refs = append(refs, ref)
			}
		}
	}
	if a, ok := d.attrs["script"]; ok {
		var one string
		d.str("script", &one)
		add(a, []string{one})
	}
	if a, ok := d.attrs["scripts"]; ok {
		var many []string
		d.strList("scripts", &many)
		add(a, many)
	}
	return refs
}

// refKind is what a path attribute must name.
type refKind int

const (
	fileOrDir refKind = iota
	fileOnly
	dirOnly
)

// fileRefs resolves and hashes the host path of attribute name (with
// list, its list of paths), each of the kind asked for: the files a
// provisioner, the floppy or the CD takes. Nil when the attribute is unset.
func (ev *evaluator) fileRefs(d *decoder, name string, list bool, kind refKind) []FileRef {
	a, ok := d.attrs[name]
	if !ok {
		return nil
	}
	var paths []string
	if list {
		d.strList(name, &paths)
	} else {
		var p string
		d.str(name, &p)
		paths = []string{p}
	}
	var refs []FileRef
	for _, p := range paths {
		ref, ok := ev.fileRef(d, a, p)
		switch {
		case !ok:
		case kind == dirOnly && !ref.Dir:
			d.errorf(a, "Invalid value", "%s: %s is a file, not a directory.", name, p)
		case kind == fileOnly && ref.Dir:
			d.errorf(a, "Invalid value", "%s: %s is a directory, not a file.", name, p)
		default:
			refs = append(refs, ref)
		}
	}
	return refs
}

// fileRef resolves and hashes a host file named by attribute a.
func (ev *evaluator) fileRef(d *decoder, a *hcl2.Attribute, path string) (FileRef, bool) {
	ref, err := ev.reader.hashRef(join(ev.root, path))
	if err != nil {
		d.errorf(a, "Unreadable file", "%s: %s.", path, errText(err))
		return FileRef{}, false
	}
	return ref, true
}

var postProcessorFields = map[string][]string{
	"manifest":    {"output", "strip_path", "custom_data"},
	"checksum":    {"output", "checksum_types"},
	"shell-local": {"inline", "script", "scripts", "environment_vars"},
	"compress":    {"output", "format", "compression_level"},
}

// compressFormats are the compress post-processor's formats clawimg writes
// (Packer's lz4, bgzf and xz are not among them).
var compressFormats = []string{".tar", ".tar.gz", ".tgz", ".gz", ".zip", ".tar.zst", ".zst"}

func (ev *evaluator) decodePostProcessor(b *hcl2.Block, sources []string) (PostProcessor, bool) {
	typ := b.Labels[0]
	p := PostProcessor{Type: typ}
	fields, ok := postProcessorFields[typ]
	if !ok {
		ev.unsupportedType(b, "post-processor", typ, keys(postProcessorFields), packerPostProcessors)
		return p, false
	}
	d, _, diags := ev.content(b.Body, fmt.Sprintf("post-processor %q", typ),
		append([]string{"name", "only", "except"}, fields...), nil, []string{"keep_input_artifact"})
	ev.diags = append(ev.diags, diags...)
	d.str("name", &p.Name)
	d.strList("only", &p.Only)
	d.strList("except", &p.Except)
	ev.checkOnlyExcept(d, sources)
	d.str("output", &p.Output)
	d.boolean("strip_path", &p.StripPath)
	d.strList("checksum_types", &p.ChecksumTypes)
	d.strList("inline", &p.Inline)
	d.strList("environment_vars", &p.EnvironmentVars)
	p.Scripts = ev.scripts(d)
	d.strMap("custom_data", &p.CustomData)
	if typ == "compress" {
		ev.checkCompress(d, &p)
	}
	for _, t := range p.ChecksumTypes {
		d.oneOf("checksum_types", t, "md5", "sha1", "sha224", "sha256", "sha384", "sha512")
	}
	if typ == "shell-local" && !d.has("inline") && len(p.Scripts) == 0 && !d.diags.HasErrors() {
		d.diags = append(d.diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError, Summary: "Invalid shell-local post-processor",
			Detail: "One of inline, script or scripts must be set.", Subject: b.DefRange.Ptr(),
		})
	}
	p.Sensitive = d.sensitive
	ev.diags = append(ev.diags, d.diags...)
	return p, !d.diags.HasErrors()
}
