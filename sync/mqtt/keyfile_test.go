package mqtt

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "hub.key"), filepath.Join(dir, "hub.pub")
	pk, err := GenerateKeyPair(priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(priv); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode().Perm())
	}
	k, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Equal(pk) || !k.Public().(ed25519.PublicKey).Equal(pk) {
		t.Error("keys do not match")
	}
	msg := []byte("x")
	if !ed25519.Verify(p, msg, ed25519.Sign(k, msg)) {
		t.Error("signature does not verify")
	}
	if _, err := GenerateKeyPair(priv, filepath.Join(dir, "other.pub")); !errors.Is(err, ErrKeyExists) {
		t.Errorf("overwrite: %v", err)
	}
	if err := os.Chmod(priv, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(priv); !errors.Is(err, ErrKeyPermissions) {
		t.Errorf("world-readable key: %v", err)
	}
	if _, err := LoadPublicKey(priv); err == nil {
		t.Error("private key read as a public key")
	}
}

func TestLoadKeyDir(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"robot-1", "robot-2"} {
		if _, err := GenerateKeyPair(filepath.Join(t.TempDir(), id+".key"), filepath.Join(dir, id+".pub")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeyDir(dir)
	if err != nil || len(keys) != 2 || keys["robot-1"] == nil || keys["robot-2"] == nil {
		t.Fatalf("keys %v, %v", keys, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad id.pub"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyDir(dir); err == nil {
		t.Error("invalid id accepted")
	}
}
