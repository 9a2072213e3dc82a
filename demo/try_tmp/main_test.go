package demotry

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/wilayah"
)

func TestTry(t *testing.T) {
	h, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	scale := 1.0
	if s := os.Getenv("SCALE"); s != "" {
		fmt.Sscan(s, &scale)
	}
	start := time.Now()
	info, err := demo.Generate(context.Background(), "/tmp/demotry/demo.db", demo.Options{Seed: 1, Scale: scale, Now: time.Date(2026, 11, 23, 19, 30, 0, 0, kpi.WIB), Regions: h})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat("/tmp/demotry/demo.db")
	t.Logf("%v in %v, %d bytes", info, time.Since(start), st.Size())
}
