package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTPConfig is the metrics and debug API listener.
type HTTPConfig struct {
	// Listen is host:port; the host must be a loopback address or
	// "localhost" because the debug API can change what the device learns.
	// Empty disables the listener.
	Listen string `yaml:"listen"`
}

// ErrNotLoopback is returned when the debug API would be reachable from the network.
var ErrNotLoopback = errors.New("not a loopback address")

// Validate checks the listen address without binding it.
func (c HTTPConfig) Validate() error {
	if c.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("http.listen: port %q: %w", port, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("http.listen: host %q: %w (the debug API is bound to localhost only; use 127.0.0.1 or [::1])", host, ErrNotLoopback)
	}
	return nil
}

// Handler serves /metrics, /healthz and the debug API under /api/v1/.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", d.serveHealth)
	mux.HandleFunc("GET /api/v1/status", d.serveStatus)
	mux.HandleFunc("GET /api/v1/events", d.serveEvents)
	mux.HandleFunc("GET /api/v1/frame.jpg", d.serveFrame)
	return mux
}

// serveHealth is healthy while frames keep flowing: a stalled camera or a
// wedged encoder turns it to 503 so a supervisor can act.
func (d *Daemon) serveHealth(w http.ResponseWriter, r *http.Request) {
	last, ok := d.ring.last()
	stale := 3 * time.Second
	if !ok || time.Since(last.EmittedAt) > stale {
		http.Error(w, "no frame processed in the last "+stale.String(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (d *Daemon) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, d.Status())
}

func (d *Daemon) serveEvents(w http.ResponseWriter, r *http.Request) {
	n := 20
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > eventRingSize {
			http.Error(w, fmt.Sprintf("n must be an integer in [1,%d]", eventRingSize), http.StatusBadRequest)
			return
		}
		n = v
	}
	writeJSON(w, d.ring.lastN(n))
}

// serveFrame shows what the camera sees, as the pipeline last took it.
func (d *Daemon) serveFrame(w http.ResponseWriter, r *http.Request) {
	img, ok := d.snapshot()
	if !ok {
		http.Error(w, "no frame yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_ = jpeg.Encode(w, img, &jpeg.Options{Quality: 85})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// rgbToImage converts packed RGB into an image.RGBA for encoding.
func rgbToImage(rgb []byte, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i+2 < len(rgb) && j+3 < len(img.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = rgb[i], rgb[i+1], rgb[i+2], 255
	}
	return img
}
