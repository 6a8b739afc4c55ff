package hcl

import (
	"fmt"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting bounds how deeply brackets, braces, parentheses and template
// interpolations may nest in a recipe. HCL's parser recurses once per
// level, and a Go stack overflow cannot be recovered from: 100,000 nested
// parentheses crashed clawimg. Real recipes nest a few levels.
const MaxNesting = 256

// checkNesting lexes src (lexing does not recurse) and reports the first
// place where nesting goes deeper than MaxNesting.
// checkJSONNesting is checkNesting for a JSON file: arrays and objects
// (outside strings) nest MaxNesting levels deep at most.
func checkJSONNesting(src []byte, path string) hcl2.Diagnostics {
	depth, inString, escaped := 0, false, false
	line, col := 1, 0
	for _, c := range src {
		col++
		switch {
		case c == '\n':
			line, col = line+1, 0
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > MaxNesting {
				return hcl2.Diagnostics{{
					Severity: hcl2.DiagError,
					Summary:  "Nesting too deep",
					Detail:   fmt.Sprintf("Arrays and objects may nest %d levels deep at most.", MaxNesting),
					Subject:  &hcl2.Range{Filename: path, Start: hcl2.Pos{Line: line, Column: col}, End: hcl2.Pos{Line: line, Column: col + 1}},
				}}
			}
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
	}
	return nil
}

func checkNesting(tokens hclsyntax.Tokens) hcl2.Diagnostics {
	depth := 0
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl, hclsyntax.TokenOHeredoc, hclsyntax.TokenOQuote:
			depth++
			if depth > MaxNesting {
				r := t.Range
				return hcl2.Diagnostics{{
					Severity: hcl2.DiagError,
					Summary:  "Nesting too deep",
					Detail:   fmt.Sprintf("Expressions and blocks may nest %d levels deep at most.", MaxNesting),
					Subject:  &r,
				}}
			}
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCHeredoc, hclsyntax.TokenCQuote:
			depth = max(depth-1, 0)
		}
	}
	return nil
}
