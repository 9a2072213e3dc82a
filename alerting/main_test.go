package alerting

import (
	"os"
	"testing"

	"github.com/pantau-id/pantau/source/sourcetest"
)

func TestMain(m *testing.M) { os.Exit(sourcetest.Main(m)) }
