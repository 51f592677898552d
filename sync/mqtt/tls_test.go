package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/sync/synctest"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// testPKI writes a CA and certificates signed by it into a directory.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clipfleet test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caKey, p.serial = key, 1
	p.write(t, "ca.crt", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue writes name.crt and name.key for CN name (a server certificate
// for 127.0.0.1 if server).
func (p *testPKI) issue(t *testing.T, name string, server bool) (cert, key string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	return p.write(t, name+".crt", "CERTIFICATE", der), p.write(t, name+".key", "PRIVATE KEY", kder)
}

// TestDeviceMutualTLS (against Mosquitto): the device authenticates with
// its certificate, whose CN becomes the username the example ACL binds
// to, and delivers through the TLS options of Broker; a client without a
// certificate is refused.
func TestDeviceMutualTLS(t *testing.T) {
	acl, err := os.ReadFile(testutil.RepoPath(t, "configs", "mosquitto", "acl.conf"))
	if err != nil {
		t.Fatal(err)
	}
	pki := newPKI(t)
	srvCert, srvKey := pki.issue(t, "broker", true)
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{ACL: string(acl), TLS: &synctest.MosquittoTLS{
		CAFile: filepath.Join(pki.dir, "ca.crt"), CertFile: srvCert, KeyFile: srvKey,
		RequireCertificate: true, UseIdentityAsUsername: true,
	}})
	url := "ssl://" + m.Addr()
	tlsFor := func(name string) Broker {
		b := DefaultBroker()
		b.URL, b.MaxReconnectInterval = url, 200*time.Millisecond
		cert, key := pki.issue(t, name, false)
		b.TLS = TLS{CAFile: filepath.Join(pki.dir, "ca.crt"), CertFile: cert, KeyFile: key}
		return b
	}
	hub := startFakeHubWith(t, tlsFor("hub-a"), "hub-a")
	d, ob := testDevice(t, url, "d1", t.TempDir(), &fakeApplier{}, func(o *DeviceOptions) {
		o.Config.Broker = tlsFor("d1")
		o.HubKeys = hubRing("hub-a")
	})
	run(t, d)
	if _, err := d.Enqueue(devPayload(0, 1)); err != nil {
		t.Fatal(err)
	}
	if p := hub.next(10 * time.Second); p.Device != "d1" || p.Seq != 1 {
		t.Fatalf("got %s seq %d", p.Device, p.Seq)
	}
	hub.ack("hub-a", "d1", 1, wire.Accepted)
	eventually(t, 5*time.Second, "acked over mTLS", func() bool { return ob.Len() == 0 })

	plain := DefaultBroker()
	plain.URL, plain.ConnectTimeout = url, 2*time.Second
	plain.TLS.CAFile = filepath.Join(pki.dir, "ca.crt") // verifies the broker, but no client certificate
	o, err := plain.ClientOptions("intruder")
	if err != nil {
		t.Fatal(err)
	}
	o.SetConnectRetry(false).SetAutoReconnect(false)
	c := newPahoClient(o)
	if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		c.Disconnect(0)
		t.Fatal("a client without a certificate connected")
	}
}
