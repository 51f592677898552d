package world

import (
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"gopkg.in/yaml.v3"
)

// scenarioYAML is how strictly scenario files are read: every error names
// the offending path ("tasks[2].domian: unknown key"), aliases are refused
// (no use in a scenario, and they let a small file expand into a huge one),
// and scalars must have the field's type, so `domain: 3` asks to be quoted
// rather than silently becoming "3".
var scenarioYAML = yamlstrict.Options{NoAliases: true, StrictScalars: true}

// decodeStrict decodes a parsed scenario document into v (a pointer).
func decodeStrict(n *yaml.Node, v any) error {
	return yamlstrict.DecodeNode(n, v, scenarioYAML)
}
