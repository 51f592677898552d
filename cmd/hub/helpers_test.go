package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testEnv(environ ...string) (*cliEnv, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return &cliEnv{stdout: out, stderr: errb, environ: func() []string { return environ }}, out, errb
}

func run(ctx context.Context, env *cliEnv, args ...string) int { return runCLI(ctx, env, args) }

func devKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("clipfleet/cmd/hub/test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// setup writes a hub key pair, one device's public key and a config file
// for fleet "demo"; it returns the config path and the hub's public key.
func setup(t *testing.T, extra string) (cfgPath string, hubPub ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	pub, err := mqtt.GenerateKeyPair(filepath.Join(dir, "hub.key"), filepath.Join(dir, "hub.pub"))
	if err != nil {
		t.Fatal(err)
	}
	devDir := filepath.Join(dir, "devices")
	if err := os.Mkdir(devDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePub(filepath.Join(devDir, "robot-1.pub"), devKey("robot-1").Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`id: hub-a
key_file: %s
log: {level: debug}
broker:
  keep_alive: 2s
  max_reconnect_interval: 250ms
fleets:
  - name: demo
    device_keys_dir: %s
    state_path: %s
    model: {method: ncm, dim: 4}
    merge: {interval: 100ms}
%s`, filepath.Join(dir, "hub.key"), devDir, filepath.Join(dir, "demo.db"), extra)
	cfgPath = filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, pub
}

// writePub writes a public key file in the format keygen writes.
func writePub(path string, pub ed25519.PublicKey) error {
	return os.WriteFile(path, pemPublic(pub), 0o644)
}
