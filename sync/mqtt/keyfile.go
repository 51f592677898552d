package mqtt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// Key files are PEM: PKCS #8 "PRIVATE KEY" and PKIX "PUBLIC KEY", the forms
// `openssl genpkey -algorithm ed25519` writes, so either tool can make them.

// ErrKeyExists: GenerateKeyPair refuses to overwrite a key.
var ErrKeyExists = errors.New("mqtt: key file exists")

// ErrKeyPermissions: a private key file readable by group or others.
var ErrKeyPermissions = errors.New("mqtt: private key file is accessible by others")

// GenerateKeyPair writes a new Ed25519 key pair: the private key with mode
// 0600, the public key 0644, each crash-safely (temp file, fsync, rename,
// fsync of the directory). It refuses to replace existing files.
func GenerateKeyPair(privPath, pubPath string) (ed25519.PublicKey, error) {
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrKeyExists, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("mqtt: %w", err)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mqtt: generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	// The public half last: a crash in between leaves a private key
	// without a public one, which LoadPrivateKey can still re-derive.
	if err := atomicfile.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	if err := atomicfile.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	return pub, nil
}

func readPEM(path, typ string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("mqtt: %s: no PEM %q block", path, typ)
	}
	return b.Bytes, nil
}

// LoadPrivateKey reads an Ed25519 private key, refusing a file that group
// or others may access (as ssh does): a signing key that leaked lets its
// holder speak for the hub or device.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v, want 0600", ErrKeyPermissions, path, st.Mode().Perm())
	}
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("mqtt: %s: %T is not an Ed25519 key", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("mqtt: %s: %T is not an Ed25519 key", path, k)
	}
	return pub, nil
}

// LoadKeyDir reads every "<id>.pub" in dir as the public key of id (a
// device or hub id); other files are ignored. Enrolling a device is
// dropping its public key there.
func LoadKeyDir(dir string) (map[string]ed25519.PublicKey, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mqtt: key dir: %w", err)
	}
	out := map[string]ed25519.PublicKey{}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		id, ok := strings.CutSuffix(n, ".pub")
		if !ok || atomicfile.IsTemp(n) {
			continue
		}
		if !wire.ValidID(id) {
			return nil, fmt.Errorf("mqtt: key dir: %q is not a valid id", id)
		}
		pub, err := LoadPublicKey(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out[id] = pub
	}
	return out, nil
}
