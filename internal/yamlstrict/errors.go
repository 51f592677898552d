package yamlstrict

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrUnknownKey is wrapped by errors about keys the target does not declare.
	ErrUnknownKey = errors.New("unknown key")
	// ErrDuplicateKey is wrapped when a mapping repeats a key.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrAlias is wrapped when Options.NoAliases rejects an anchor or alias,
	// and for merge keys ("<<"), which are never supported.
	ErrAlias = errors.New("YAML anchors and aliases are not allowed")
	// ErrEmpty is returned by DecodeWith and DecodeNode for input with no
	// document; Decode treats it as "nothing to change".
	ErrEmpty = errors.New("empty document")
	// ErrTooLarge is wrapped when the input exceeds Options.MaxBytes.
	ErrTooLarge = errors.New("document too large")
)

// FieldError is an error at one value of the document.
type FieldError struct {
	Path string // dotted path such as "tasks[2].domain"; "" for the document itself
	Line int    // 1-based line in the YAML, 0 if unknown
	Msg  string // what is wrong: "unknown key", `want an integer, found "many"`
	Hint string // printed after the line, e.g. "known keys: a, b"; may be empty
	Err  error  // the cause or class (ErrUnknownKey, a custom unmarshaler's error); may be nil
}

// Error reads "path: msg (line N); hint", leaving out the parts that are empty.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrUnknownKey) works.
func (e *FieldError) Unwrap() error { return e.Err }
