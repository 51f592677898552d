// Package atomicfile writes files so that a crash (power loss, SIGKILL)
// leaves either the old content or the new content at the path, never a
// mix or a truncated file: the data goes to a temporary file in the same
// directory, is fsynced, renamed over the target, and the directory is
// fsynced so the rename itself is durable.
package atomicfile
