package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

func TestKeygen(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "hub")
	env, out, errb := testEnv()
	if code := run(context.Background(), env, "keygen", "--out", prefix); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	st, err := os.Stat(prefix + ".key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", st, err)
	}
	priv, err := mqtt.LoadPrivateKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := mqtt.LoadPublicKey(prefix + ".pub")
	if err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("public key: %v", err)
	}
	if !strings.Contains(out.String(), "fingerprint: SHA256:") {
		t.Errorf("output %q", out)
	}
	env, _, errb = testEnv()
	if code := run(context.Background(), env, "keygen", "--out", prefix); code != 1 || !strings.Contains(errb.String(), "exists") {
		t.Errorf("overwrite: exit %d, %s", code, errb)
	}
	if again, _ := mqtt.LoadPrivateKey(prefix + ".key"); !again.Equal(priv) {
		t.Error("the key changed")
	}
}
