package httpserve_test

import (
	"os"
	"testing"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// TestMain reports the tests skipped for a missing program (chromium).
func TestMain(m *testing.M) { os.Exit(sourcetest.Main(m)) }
