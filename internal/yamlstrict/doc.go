// Package yamlstrict decodes YAML into Go values and rejects any key the
// target does not declare, naming the key by its full path
// ("capture.stall_timeoutt: unknown key (line 4)") — yaml.v3's KnownFields
// names the Go type instead, which a user editing a file cannot map back to
// the line they typed.
//
// It decodes by walking the node tree itself, so every error — unknown or
// repeated key, a value of the wrong shape or type — is a *FieldError with
// the path and line of the offending value. Scalars and custom unmarshalers
// are still decoded by yaml.v3, so values mean what they mean to yaml.v3.
// Options make it stricter for files from untrusted or hand-edited sources:
// no anchors or aliases, typed scalars, a size limit.
package yamlstrict
