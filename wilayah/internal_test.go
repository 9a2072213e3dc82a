package wilayah

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pantau-id/pantau/kpi"
)

const (
	goodProvinces = "code,name\n31,DKI Jakarta\n32,Jawa Barat\n"
	goodRegencies = "code,province_code,name\n32.16,32,Kabupaten Bekasi\n"
	goodDistricts = "code,regency_code,name\n32.16.06,32.16,Tambun Selatan\n"
	goodVillages  = "code,district_code,name\n32.16.06.1001,32.16.06,Jatimulya\n"
)

func master(provinces, regencies, districts, villages string) fstest.MapFS {
	return fstest.MapFS{
		"data/provinces.csv": {Data: []byte(provinces)},
		"data/regencies.csv": {Data: []byte(regencies)},
		"data/districts.csv": {Data: []byte(districts)},
		"data/villages.csv":  {Data: []byte(villages)},
	}
}

func TestReadRegionsErrors(t *testing.T) {
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string // "" for success
	}{
		{"a well-formed master loads", master(goodProvinces, goodRegencies, goodDistricts, goodVillages), ""},
		{
			"columns may come in any order since the header is read by name",
			master("name,code\nJawa Barat,32\n", "name,code,province_code\nKabupaten Bekasi,32.16,32\n", goodDistricts, goodVillages),
			"",
		},
		{
			"a header without the parent column is an error",
			master(goodProvinces, "code,provinsi,name\n32.16,32,Kabupaten Bekasi\n", goodDistricts, goodVillages),
			`data/regencies.csv:1: header "code,provinsi,name" lacks column "province_code"`,
		},
		{
			"a header naming a column twice is an error",
			master("code,name,name\n32,Jawa Barat,x\n", goodRegencies, goodDistricts, goodVillages),
			`data/provinces.csv:1: header names column "name" twice`,
		},
		{"an empty file is an error", master("", goodRegencies, goodDistricts, goodVillages), "data/provinces.csv:1: empty file"},
		{
			"a malformed code names its file and line",
			master(goodProvinces, goodRegencies, "code,regency_code,name\n32.16.06,32.16,Tambun Selatan\n32.16.6,32.16,Bad\n", goodVillages),
			`data/districts.csv:3: region code "32.16.6": part 3 "6" must have 2 digits`,
		},
		{
			"a code of the wrong level is an error",
			master(goodProvinces, "code,province_code,name\n32.16.06,32,Tambun Selatan\n", goodDistricts, goodVillages),
			"data/regencies.csv:2: code 32.16.06 is a kecamatan code, want kabupaten_kota",
		},
		{
			"a parent column that disagrees with the code is an error",
			master(goodProvinces, "code,province_code,name\n32.16,31,Kabupaten Bekasi\n", goodDistricts, goodVillages),
			`data/regencies.csv:2: region 32.16 names province_code "31", but its code puts it under 32`,
		},
		{
			"a parent missing from the master is an error",
			master(goodProvinces, goodRegencies, goodDistricts, "code,district_code,name\n32.16.07.1001,32.16.07,Nowhere\n"),
			"data/villages.csv:2: region 32.16.07.1001: parent 32.16.07 is not in the master",
		},
		{
			"a duplicate code is an error",
			master(goodProvinces+"32,Jawa Barat lagi\n", goodRegencies, goodDistricts, goodVillages),
			"data/provinces.csv:4: region code 32 listed twice",
		},
		{
			"an empty name is an error",
			master(goodProvinces, goodRegencies, goodDistricts, "code,district_code,name\n32.16.06.1001,32.16.06, \n"),
			"data/villages.csv:2: region 32.16.06.1001 has no name",
		},
		{
			"a row with a missing field names its file and line",
			master(goodProvinces, goodRegencies, "code,regency_code,name\n32.16.06,32.16,Tambun Selatan\n32.16.07,32.16\n", goodVillages),
			"data/districts.csv:3: wrong number of fields",
		},
		{
			"a bare quote names its file and line",
			master(goodProvinces, "code,province_code,name\n32.16,32,Kab \"Bekasi\n", goodDistricts, goodVillages),
			"data/regencies.csv:2:",
		},
		{
			"a missing file is an error",
			fstest.MapFS{"data/provinces.csv": {Data: []byte(goodProvinces)}},
			"data/regencies.csv",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := readRegions(tt.fsys, true)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("readRegions: %v", err)
				}
				if _, err := kpi.NewHierarchy(rs); err != nil {
					t.Fatalf("NewHierarchy: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("readRegions succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestWithoutDesaSkipsVillages(t *testing.T) {
	t.Run("a broken villages file does not affect the hierarchy without desa", func(t *testing.T) {
		fsys := master(goodProvinces, goodRegencies, goodDistricts, "garbage")
		h, err := build(fsys, false)
		if err != nil {
			t.Fatalf("build without desa: %v", err)
		}
		if got := h.Count(kpi.LevelKecamatan); got != 1 {
			t.Errorf("Count(kecamatan) = %d, want 1", got)
		}
		if _, err := build(fsys, true); err == nil {
			t.Error("build with desa succeeded on a broken villages file")
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	for _, bc := range []struct {
		name     string
		withDesa bool
	}{{"kecamatan", false}, {"desa", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := build(data, bc.withDesa); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
