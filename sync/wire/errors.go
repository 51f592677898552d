package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// RejectCode says why Decode refused a payload, or why the hub did not
// merge a delta (StaleBase). The numbers are part of the wire format (an
// Ack carries one to tell a device why its delta was refused): never
// renumber, only append.
type RejectCode uint8

// Accepted is the zero RejectCode: an Ack with it reports success.
const Accepted RejectCode = 0

// Rejection reasons, in the order Decode checks them is documented in doc.go.
const (
	Truncated          RejectCode = 1  // shorter than its header or declared length
	BadMagic           RejectCode = 2  // not a clipfleet sync payload
	UnsupportedVersion RejectCode = 3  // a format version this build cannot read
	BadChecksum        RejectCode = 4  // CRC-32C mismatch: corrupted in storage or transit
	BadSignature       RejectCode = 5  // the signature does not verify with the sender's key
	UnknownKey         RejectCode = 6  // no key for this sender (unknown device, other fleet)
	WrongDimension     RejectCode = 7  // embedding dimension differs from the policy's or the header's
	WrongModel         RejectCode = 8  // another model id or learning method
	WrongPreprocess    RejectCode = 9  // another preprocessing hash
	NonFinite          RejectCode = 10 // a NaN or ±Inf value
	NormTooLarge       RejectCode = 11 // a tensor's L2 norm exceeds the policy bound
	Replayed           RejectCode = 12 // sequence number not above the last accepted one
	Expired            RejectCode = 13 // past its expires-at time
	Oversize           RejectCode = 14 // exceeds a byte or element limit
	Malformed          RejectCode = 15 // structurally invalid body
	WrongKind          RejectCode = 16 // a kind the receiver does not accept
	// StaleBase is never returned by Decode: the hub sends it in an Ack for
	// a delta it verified but dropped because its base is not the current
	// version. The device removes the entry; its learner still holds that
	// content (the export is in no Merged list) and exports it again
	// against the new base.
	StaleBase RejectCode = 17
	maxCode              = StaleBase
)

// Sentinels wrapped by *RejectError, one per code, for errors.Is.
var (
	// ErrRejected is wrapped by every *RejectError, so callers can tell a
	// refused payload from an operational failure (a SeqStore that errs).
	ErrRejected = errors.New("wire: payload rejected")

	ErrTruncated          = errors.New("wire: truncated")
	ErrBadMagic           = errors.New("wire: bad magic")
	ErrUnsupportedVersion = errors.New("wire: unsupported format version")
	ErrBadChecksum        = errors.New("wire: bad checksum")
	ErrBadSignature       = errors.New("wire: bad signature")
	ErrUnknownKey         = errors.New("wire: unknown key")
	ErrWrongDimension     = errors.New("wire: wrong dimension")
	ErrWrongModel         = errors.New("wire: wrong model")
	ErrWrongPreprocess    = errors.New("wire: wrong preprocessing")
	ErrNonFinite          = errors.New("wire: non-finite value")
	ErrNormTooLarge       = errors.New("wire: norm too large")
	ErrReplayed           = errors.New("wire: replayed")
	ErrExpired            = errors.New("wire: expired")
	ErrOversize           = errors.New("wire: oversize")
	ErrMalformed          = errors.New("wire: malformed")
	ErrWrongKind          = errors.New("wire: unexpected kind")
	ErrStaleBase          = errors.New("wire: delta against an old base version, not merged")

	// ErrInvalidConfig wraps every Config.Validate failure.
	ErrInvalidConfig = errors.New("wire: invalid config")
)

var codeInfo = [...]struct {
	name string
	err  error
}{
	Accepted:           {"accepted", nil},
	Truncated:          {"truncated", ErrTruncated},
	BadMagic:           {"bad-magic", ErrBadMagic},
	UnsupportedVersion: {"unsupported-version", ErrUnsupportedVersion},
	BadChecksum:        {"bad-checksum", ErrBadChecksum},
	BadSignature:       {"bad-signature", ErrBadSignature},
	UnknownKey:         {"unknown-key", ErrUnknownKey},
	WrongDimension:     {"wrong-dimension", ErrWrongDimension},
	WrongModel:         {"wrong-model", ErrWrongModel},
	WrongPreprocess:    {"wrong-preprocess", ErrWrongPreprocess},
	NonFinite:          {"non-finite", ErrNonFinite},
	NormTooLarge:       {"norm-too-large", ErrNormTooLarge},
	Replayed:           {"replayed", ErrReplayed},
	Expired:            {"expired", ErrExpired},
	Oversize:           {"oversize", ErrOversize},
	Malformed:          {"malformed", ErrMalformed},
	WrongKind:          {"wrong-kind", ErrWrongKind},
	StaleBase:          {"stale-base", ErrStaleBase},
}

// String is the code's stable kebab-case name, used in logs and fixtures.
func (c RejectCode) String() string {
	if c.Valid() {
		return codeInfo[c].name
	}
	return "code-" + strconv.Itoa(int(c))
}

// Valid reports whether c is Accepted or a known rejection.
func (c RejectCode) Valid() bool { return c <= maxCode }

// Err returns the sentinel of c (nil for Accepted and unknown codes).
func (c RejectCode) Err() error {
	if c.Valid() {
		return codeInfo[c].err
	}
	return nil
}

// ParseRejectCode is the inverse of String.
func ParseRejectCode(s string) (RejectCode, error) {
	for c := range codeInfo {
		if codeInfo[c].name == s {
			return RejectCode(c), nil
		}
	}
	return 0, fmt.Errorf("wire: unknown reject code %q", s)
}

// RejectError is the error Decode returns for a payload it refuses.
type RejectError struct {
	Code   RejectCode
	Field  string // where, e.g. "tensors[1].data[17]"; "" for the whole payload
	Detail string
	// Device and Seq identify the sender once its signature verified (they
	// are empty before): a hub may re-ack a Replayed delta it already has,
	// but must not act on identities an attacker could have written.
	Device string
	Seq    uint64
}

func (e *RejectError) Error() string {
	s := "wire: rejected (" + e.Code.String() + ")"
	if e.Field != "" {
		s += " at " + e.Field
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap exposes the code's sentinel and ErrRejected to errors.Is.
func (e *RejectError) Unwrap() []error {
	if err := e.Code.Err(); err != nil {
		return []error{err, ErrRejected}
	}
	return []error{ErrRejected}
}

// CodeOf returns the RejectCode of a rejection, Accepted if err is nil or
// not a rejection.
func CodeOf(err error) RejectCode {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Code
	}
	return Accepted
}

func reject(c RejectCode, field, format string, args ...any) *RejectError {
	return &RejectError{Code: c, Field: field, Detail: fmt.Sprintf(format, args...)}
}
