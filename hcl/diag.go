package hcl

import (
	"fmt"
	"sort"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// Diagnostic is one problem found in a recipe, with its position.
type Diagnostic struct {
	Error   bool   `json:"error"` // false for a warning
	Summary string `json:"summary"`
	Detail  string `json:"detail,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	// Snippet is the source line the diagnostic points at, with a marker
	// line under it; empty when the position has no source text.
	Snippet string `json:"snippet,omitempty"`
}

// Message is the summary and detail on one line.
func (d Diagnostic) Message() string {
	if d.Detail == "" {
		return d.Summary
	}
	return d.Summary + ": " + d.Detail
}

// String renders the diagnostic as "file:line:col: message" followed by the
// source snippet, the way compilers do.
func (d Diagnostic) String() string {
	var b strings.Builder
	switch {
	case d.File != "" && d.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", d.File, d.Line, d.Column)
	case d.File != "":
		fmt.Fprintf(&b, "%s: ", d.File) // the file as a whole, e.g. unreadable
	}
	if !d.Error {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message())
	if d.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(d.Snippet)
	}
	return b.String()
}

// Diagnostics is every problem found in a recipe. As an error it means the
// recipe is invalid (exit code 2 in the CLI).
type Diagnostics []Diagnostic

// Error renders all diagnostics, one block each.
func (ds Diagnostics) Error() string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, "\n")
}

// HasErrors reports whether any diagnostic is an error, not a warning.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Error {
			return true
		}
	}
	return false
}

// convertDiags turns HCL diagnostics into ours, with snippets taken from the
// parsed files; the text in masks (where sensitive values are written) is
// shown as Masked.
func convertDiags(files map[string]*hcl2.File, in hcl2.Diagnostics, masks []hcl2.Range) Diagnostics {
	out := make(Diagnostics, 0, len(in))
	lines := map[string][]string{} // split once per file: a file can have 100k diagnostics
	for _, d := range in {
		nd := Diagnostic{Error: d.Severity == hcl2.DiagError, Summary: d.Summary, Detail: d.Detail}
		nd.Summary = strings.TrimSuffix(nd.Summary, ".")
		if d.Subject != nil {
			nd.File, nd.Line, nd.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
			name := d.Subject.Filename
			if _, ok := lines[name]; !ok && files[name] != nil {
				lines[name] = strings.Split(string(files[name].Bytes), "\n")
			}
			nd.Snippet = snippet(lines[name], *d.Subject, masks)
		}
		out = append(out, nd)
	}
	// In the order of the recipe's text, whatever order they were found
	// in, so that two runs print the same (diagnostics without a place
	// first, then by file, line, column).
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}

// snippet returns the first line of rng among a file's lines, numbered, with
// carets under the range, and the parts of masks on that line replaced by
// Masked.
func snippet(lines []string, rng hcl2.Range, masks []hcl2.Range) string {
	if rng.Start.Line < 1 || rng.Start.Line > len(lines) {
		return ""
	}
	line := strings.TrimRight(lines[rng.Start.Line-1], "\r")
	start := min(rng.Start.Column-1, len(line))
	end := len(line)
	if rng.End.Line == rng.Start.Line && rng.End.Column-1 <= len(line) {
		end = rng.End.Column - 1
	}
	line, start, end = maskLine(line, rng.Filename, rng.Start.Line, masks, start, end)
	width := max(end-start, 1)
	num := fmt.Sprintf("%5d | ", rng.Start.Line)
	pad := strings.Repeat(" ", len(num)-2) + "| "
	// Keep tabs so the carets line up under the code.
	var lead strings.Builder
	for _, r := range line[:start] {
		if r == '\t' {
			lead.WriteRune('\t')
		} else {
			lead.WriteByte(' ')
		}
	}
	return num + line + "\n" + pad + lead.String() + strings.Repeat("^", width)
}

// maskLine replaces the parts of masks that fall on line number n of file with
// Masked, moving the byte offsets start and end along.
func maskLine(line, file string, n int, masks []hcl2.Range, start, end int) (string, int, int) {
	type span struct{ from, to int }
	var spans []span
	for _, m := range masks {
		if m.Filename != file || n < m.Start.Line || n > m.End.Line {
			continue
		}
		from, to := 0, len(line)
		if m.Start.Line == n {
			from = min(m.Start.Column-1, len(line))
		}
		if m.End.Line == n {
			to = min(m.End.Column-1, len(line))
		}
		if from < to {
			spans = append(spans, span{from, to})
		}
	}
	// Right to left, so earlier offsets stay valid.
	sort.Slice(spans, func(i, j int) bool { return spans[i].from > spans[j].from })
	last := len(line) + 1
	for _, sp := range spans {
		if sp.to > last { // overlaps one already masked
			sp.to = last
		}
		if sp.from >= sp.to {
			continue
		}
		line = line[:sp.from] + Masked + line[sp.to:]
		// An offset after the span moves with it; one inside it goes to
		// the mask's start (start) or end (end), so the carets cover it.
		shift := len(Masked) - (sp.to - sp.from)
		move := func(x, inside int) int {
			switch {
			case x >= sp.to:
				return x + shift
			case x > sp.from:
				return inside
			}
			return x
		}
		start, end = move(start, sp.from), move(end, sp.from+len(Masked))
		last = sp.from
	}
	return line, start, end
}
