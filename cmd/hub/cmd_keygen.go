package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

func init() {
	register(command{name: "keygen", summary: "write a new Ed25519 key pair (PREFIX.key 0600, PREFIX.pub)", run: cmdKeygen})
}

func cmdKeygen(_ context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("hub keygen", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	out := fs.String("out", "hub", "path prefix: writes PREFIX.key and PREFIX.pub (never overwrites)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(env.stderr, "hub keygen: unexpected arguments %v\n", fs.Args())
		return 2
	}
	priv, pub := *out+".key", *out+".pub"
	pk, err := mqtt.GenerateKeyPair(priv, pub)
	if err != nil {
		fmt.Fprintf(env.stderr, "hub keygen: %v\n", err)
		return 1
	}
	sum := sha256.Sum256(pk)
	// The fingerprint lets an operator check a copied public key by eye.
	fmt.Fprintf(env.stdout, "private key: %s\npublic key:  %s\nfingerprint: SHA256:%s\n", priv, pub, hex.EncodeToString(sum[:16]))
	return 0
}
