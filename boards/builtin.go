package boards

import "io/fs"

// spec is a Board described by data; every built-in board is one.
type spec struct {
	name    string
	rank    int
	detect  func(fsys fs.FS) (bool, string)
	profile func(cpus int) Profile
	// nominalCPUs is used when the root does not say how many CPUs are
	// online (0 for the generic boards, which cannot know).
	nominalCPUs int
}

func (s *spec) Name() string                     { return s.name }
func (s *spec) Rank() int                        { return s.rank }
func (s *spec) Detect(fsys fs.FS) (bool, string) { return s.detect(fsys) }
func (s *spec) Profile(fsys fs.FS) Profile       { return s.profileFor(onlineCPUs(fsys)) }
func (s *spec) profileFor(cpus int) Profile {
	if cpus <= 0 {
		cpus = s.nominalCPUs
	}
	p := s.profile(cpus)
	p.CPUs = cpus
	return p
}

// accessorySpec is a built-in Accessory.
type accessorySpec struct {
	spec
	overlay func(host Profile) Profile
}

func (a *accessorySpec) Overlay(host Profile) Profile { return a.overlay(host) }

func init() {
	for _, b := range []Board{
		jetsonOrinNano, jetsonXavierNX, jetsonNano,
		coralDevBoard, coralUSB,
		raspberryPi4, raspberryPi5,
		genericX86, genericARM64,
	} {
		Register(b)
	}
}
