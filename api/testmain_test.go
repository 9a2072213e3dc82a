package api

import (
	"os"
	"testing"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// TestMain ends a local run that skipped tests for a missing database with
// a summary of what did not run.
func TestMain(m *testing.M) { os.Exit(sourcetest.Main(m)) }
