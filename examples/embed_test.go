package examples_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/examples"
)

func TestEmbedded(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		embedded []byte
	}{
		{"the embedded spec is dinsos.yaml byte for byte", "dinsos.yaml", examples.DinsosSpec},
		{"the embedded schema is dinsos-schema.sql byte for byte", "dinsos-schema.sql", []byte(examples.DinsosSchema)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tt.embedded, want) {
				t.Errorf("embedded %s differs from the file (%d vs %d bytes)", tt.file, len(tt.embedded), len(want))
			}
		})
	}
}

func TestEmbeddedSpecParses(t *testing.T) {
	spec, err := config.Parse("dinsos.yaml", examples.DinsosSpec)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(spec.KPIs); got != 6 {
		t.Errorf("the example spec has %d KPIs, want 6", got)
	}
	for _, k := range spec.KPIs {
		// Every table a query reads is created by the schema.
		for _, table := range []string{"ewarong", "kube", "sembako_alokasi", "pkh_tahap", "pkh_graduasi"} {
			if strings.Contains(k.Query, "FROM "+table+"\n") || strings.Contains(k.Query, "FROM "+table+" ") {
				if !strings.Contains(examples.DinsosSchema, "CREATE TABLE "+table+" (") {
					t.Errorf("kpi %s reads %s, which the schema does not create", k.ID, table)
				}
			}
		}
	}
}
