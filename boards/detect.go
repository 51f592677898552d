package boards

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ErrNotDetected is returned by Detect when no registered board matches;
// the error lists each board's evidence.
var ErrNotDetected = errors.New("boards: no board matches this system")

// ErrUnknownBoard is returned for a board name nobody registered.
var ErrUnknownBoard = errors.New("boards: unknown board")

// Candidate is one registered board's answer during detection.
type Candidate struct {
	Board    string `json:"board"`
	Rank     int    `json:"rank"`
	Matched  bool   `json:"matched"`
	Chosen   bool   `json:"chosen"`
	Evidence string `json:"evidence"`
	// Note says why a matching board was not chosen.
	Note string `json:"note,omitempty"`
}

// Detection is the outcome of Detect or Resolve.
type Detection struct {
	// Board is the chosen board: an accessory's name when one is laid over
	// the host (coral-usb), else the host's.
	Board string `json:"board"`
	// Host is the board underneath; equal to Board without an accessory.
	Host     string `json:"host"`
	Evidence string `json:"evidence"`
	// Forced is set when Config.Board named the board instead of "auto".
	Forced  bool    `json:"forced"`
	Profile Profile `json:"profile"`
	// Candidates holds every registered board's answer in detection order.
	Candidates []Candidate `json:"candidates"`
}

// Skipped returns the candidates that were not chosen.
func (d Detection) Skipped() []Candidate {
	var out []Candidate
	for _, c := range d.Candidates {
		if !c.Chosen {
			out = append(out, c)
		}
	}
	return out
}

// Detect asks every registered board whether fsys is it and chooses one as
// the package documentation describes.
func Detect(fsys fs.FS) (Detection, error) {
	return detect(fsys, All(), "")
}

// detect chooses among bs (in detection order); forced, when not empty,
// names the board to use whatever the evidence says.
func detect(fsys fs.FS, bs []Board, forced string) (Detection, error) {
	cands := make([]Candidate, len(bs))
	host, acc := -1, -1
	forcedAt := -1
	for i, b := range bs {
		ok, ev := b.Detect(fsys)
		cands[i] = Candidate{Board: b.Name(), Rank: b.Rank(), Matched: ok, Evidence: ev}
		_, isAcc := b.(Accessory)
		switch {
		case b.Name() == forced:
			forcedAt = i
		case !ok:
		case isAcc && acc < 0:
			acc = i
		case !isAcc && host < 0:
			host = i
		}
	}
	if forced != "" {
		return detectForced(fsys, bs, cands, forcedAt, host, forced)
	}
	if host < 0 {
		var why []string
		for _, c := range cands {
			why = append(why, c.Board+": "+c.Evidence)
		}
		return Detection{Candidates: cands}, fmt.Errorf("%w: %s", ErrNotDetected, strings.Join(why, "; "))
	}
	d := Detection{Board: bs[host].Name(), Host: bs[host].Name(), Evidence: cands[host].Evidence,
		Profile: bs[host].Profile(fsys), Candidates: cands}
	cands[host].Chosen = true
	if acc >= 0 {
		a := bs[acc].(Accessory)
		if a.Rank() > bs[host].Rank() {
			d.Board = a.Name()
			d.Profile = a.Overlay(d.Profile)
			d.Evidence = fmt.Sprintf("%s; on %s: %s", cands[acc].Evidence, d.Host, cands[host].Evidence)
			cands[acc].Chosen = true
		} else {
			cands[acc].Note = fmt.Sprintf("matched, but %s has its own accelerator (rank %d ≥ %d)", d.Host, bs[host].Rank(), a.Rank())
		}
	}
	for i := range cands {
		if cands[i].Matched && !cands[i].Chosen && cands[i].Note == "" {
			if cands[i].Rank == bs[host].Rank() {
				cands[i].Note = fmt.Sprintf("matched, but %s sorts first among boards of rank %d", d.Host, cands[i].Rank)
			} else {
				cands[i].Note = fmt.Sprintf("matched, but %s ranks higher (%d > %d)", d.Host, bs[host].Rank(), cands[i].Rank)
			}
		}
	}
	return d, nil
}

// detectForced builds the Detection for a board named in the config. A
// forced accessory still needs a detected host to lie on.
func detectForced(fsys fs.FS, bs []Board, cands []Candidate, at, host int, name string) (Detection, error) {
	if at < 0 {
		return Detection{Candidates: cands}, fmt.Errorf("%w %q (known: %s)", ErrUnknownBoard, name, strings.Join(names(bs), ", "))
	}
	b := bs[at]
	ev := "set by config (board: " + name + "); detection "
	if cands[at].Matched {
		ev += "agrees: " + cands[at].Evidence
	} else {
		ev += "disagrees: " + cands[at].Evidence
	}
	d := Detection{Board: name, Host: name, Evidence: ev, Forced: true, Candidates: cands}
	cands[at].Chosen = true
	if a, ok := b.(Accessory); ok {
		if host < 0 {
			return d, fmt.Errorf("%w: board %q is an accessory and no host board was detected under it", ErrNotDetected, name)
		}
		d.Host = bs[host].Name()
		d.Profile = a.Overlay(bs[host].Profile(fsys))
		d.Evidence += fmt.Sprintf("; on %s: %s", d.Host, cands[host].Evidence)
		cands[host].Chosen = true
	} else {
		d.Profile = b.Profile(fsys)
	}
	for i := range cands {
		if cands[i].Matched && !cands[i].Chosen {
			cands[i].Note = "matched, but the config sets board: " + name
		}
	}
	return d, nil
}

func names(bs []Board) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Name()
	}
	return out
}
