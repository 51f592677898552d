package host_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/boards"
	_ "github.com/clipfleet/clipfleet/boards/host"
)

// The blank import is all it takes: pin lookups load periph's drivers and
// say which did, instead of reporting that none are linked.
func TestBlankImportRegistersDrivers(t *testing.T) {
	summary, err := boards.LoadHostDrivers()
	if err != nil {
		t.Fatalf("periph host drivers: %v", err)
	}
	if !strings.HasPrefix(summary, "periph drivers loaded: ") {
		t.Fatalf("summary %q", summary)
	}
	t.Log(summary)
	_, err = boards.LookupPin("NO_SUCH_PIN_42", "status LED")
	if !errors.Is(err, boards.ErrNoPin) || strings.Contains(err.Error(), "no GPIO host drivers are linked") || !strings.Contains(err.Error(), summary) {
		t.Fatalf("err = %v, want ErrNoPin quoting the loaded drivers", err)
	}
}
