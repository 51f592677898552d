// Package errkind builds errors whose message is exactly the formatted text
// (so it can start with the package that raised it and name the file,
// without repeating a sentinel's words) while still matching a sentinel
// "kind" with errors.Is, as well as any error wrapped with %w in the format.
package errkind

import "fmt"

// New formats the message and attaches kind for errors.Is.
func New(kind error, format string, args ...any) error {
	return &kindError{err: fmt.Errorf(format, args...), kind: kind}
}

type kindError struct {
	err  error
	kind error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }
