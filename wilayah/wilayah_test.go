package wilayah_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/wilayah"
)

func load(t *testing.T) *kpi.Hierarchy {
	t.Helper()
	h, err := wilayah.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return h
}

func TestLoadCounts(t *testing.T) {
	h := load(t)
	withDesa, err := wilayah.LoadWithDesa()
	if err != nil {
		t.Fatalf("LoadWithDesa: %v", err)
	}
	tests := []struct {
		name  string
		h     *kpi.Hierarchy
		level kpi.Level
		want  int
	}{
		{"Load has one nation", h, kpi.LevelNasional, 1},
		{"Load has 38 provinsi", h, kpi.LevelProvinsi, 38},
		{"Load has 514 kabupaten/kota", h, kpi.LevelKabupatenKota, 514},
		{"Load has 7,285 kecamatan", h, kpi.LevelKecamatan, 7285},
		{"Load has no desa", h, kpi.LevelDesa, 0},
		{"LoadWithDesa has one nation", withDesa, kpi.LevelNasional, 1},
		{"LoadWithDesa has 38 provinsi", withDesa, kpi.LevelProvinsi, 38},
		{"LoadWithDesa has 514 kabupaten/kota", withDesa, kpi.LevelKabupatenKota, 514},
		{"LoadWithDesa has 7,285 kecamatan", withDesa, kpi.LevelKecamatan, 7285},
		{"LoadWithDesa has 83,762 desa/kelurahan", withDesa, kpi.LevelDesa, 83762},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Count(tt.level); got != tt.want {
				t.Errorf("Count(%s) = %d, want %d", tt.level, got, tt.want)
			}
		})
	}
	t.Run("Regions holds every counted region", func(t *testing.T) {
		if got, want := len(h.Regions()), 1+38+514+7285; got != want {
			t.Errorf("len(Regions()) = %d, want %d", got, want)
		}
		if got, want := len(withDesa.Regions()), 1+38+514+7285+83762; got != want {
			t.Errorf("len(Regions()) with desa = %d, want %d", got, want)
		}
	})
}

func TestLoadIsCached(t *testing.T) {
	t.Run("Load returns the same hierarchy every call", func(t *testing.T) {
		a, _ := wilayah.Load()
		b, _ := wilayah.Load()
		if a != b {
			t.Error("Load parsed the master twice")
		}
	})
	t.Run("LoadWithDesa returns the same hierarchy every call", func(t *testing.T) {
		a, _ := wilayah.LoadWithDesa()
		b, _ := wilayah.LoadWithDesa()
		if a != b {
			t.Error("LoadWithDesa parsed the master twice")
		}
	})
}

func TestLookupAndParents(t *testing.T) {
	h := load(t)
	desa, err := wilayah.LoadWithDesa()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		h          *kpi.Hierarchy
		code       string
		wantName   string
		wantLevel  kpi.Level
		wantParent string
	}{
		{"32.16.06 is Tambun Selatan in Kabupaten Bekasi", h, "32.16.06", "Tambun Selatan", kpi.LevelKecamatan, "32.16"},
		{"32.16 is Kabupaten Bekasi in Jawa Barat", h, "32.16", "Kabupaten Bekasi", kpi.LevelKabupatenKota, "32"},
		{"32.75 is Kota Bekasi in Jawa Barat", h, "32.75", "Kota Bekasi", kpi.LevelKabupatenKota, "32"},
		{"32 is Jawa Barat in the nation", h, "32", "Jawa Barat", kpi.LevelProvinsi, kpi.NationalCode},
		{"ID is the nation and has no parent", h, kpi.NationalCode, "Indonesia", kpi.LevelNasional, ""},
		{"32.16.06.1001 is Jatimulya in Tambun Selatan", desa, "32.16.06.1001", "Jatimulya", kpi.LevelDesa, "32.16.06"},
		{"a quoted name with a doubled quote is unquoted", h, "35.29.22", `Ra"as`, kpi.LevelKecamatan, "35.29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := tt.h.Lookup(tt.code)
			if !ok {
				t.Fatalf("Lookup(%s) found nothing", tt.code)
			}
			if r.Name != tt.wantName || r.Level != tt.wantLevel || r.Parent != tt.wantParent {
				t.Errorf("Lookup(%s) = %+v, want name %q level %s parent %q", tt.code, r, tt.wantName, tt.wantLevel, tt.wantParent)
			}
			p, ok := tt.h.Parent(tt.code)
			if tt.wantParent == "" {
				if ok {
					t.Errorf("Parent(%s) = %+v, want none", tt.code, p)
				}
				return
			}
			if !ok || p.Code != tt.wantParent {
				t.Errorf("Parent(%s) = %+v, %v, want %s", tt.code, p, ok, tt.wantParent)
			}
		})
	}

	t.Run("32.16.06 is Tambun Selatan in Kabupaten Bekasi in Jawa Barat", func(t *testing.T) {
		var chain []string
		for code, ok := "32.16.06", true; ok; {
			r, found := h.Lookup(code)
			if !found {
				t.Fatalf("Lookup(%s) found nothing", code)
			}
			chain = append(chain, r.Code+" "+r.Name)
			var p kpi.Region
			p, ok = h.Parent(code)
			code = p.Code
		}
		want := []string{"32.16.06 Tambun Selatan", "32.16 Kabupaten Bekasi", "32 Jawa Barat", "ID Indonesia"}
		if !slices.Equal(chain, want) {
			t.Errorf("parent chain = %q, want %q", chain, want)
		}
	})
	t.Run("the desa level is absent from Load", func(t *testing.T) {
		if r, ok := h.Lookup("32.16.06.1001"); ok {
			t.Errorf("Lookup(32.16.06.1001) = %+v, want nothing without desa", r)
		}
	})
}

func TestJakarta(t *testing.T) {
	h := load(t)
	jakarta, ok := h.Lookup("31")
	if !ok || jakarta.Name != "Daerah Khusus Ibukota Jakarta" {
		t.Fatalf("Lookup(31) = %+v, %v, want DKI Jakarta", jakarta, ok)
	}
	var regencies []string
	for _, r := range h.Regions() {
		if r.Level != kpi.LevelKabupatenKota || !strings.HasPrefix(r.Code, "31.") {
			continue
		}
		regencies = append(regencies, r.Code)
		t.Run(r.Code+" "+r.Name+" is in DKI Jakarta", func(t *testing.T) {
			if r.Parent != "31" || r.ProvinceCode() != "31" {
				t.Errorf("%s: parent %q, province %q, want 31", r.Code, r.Parent, r.ProvinceCode())
			}
			if p, _ := h.Parent(r.Code); p.Code != "31" {
				t.Errorf("Parent(%s) = %s, want 31", r.Code, p.Code)
			}
		})
	}
	t.Run("DKI Jakarta has Kepulauan Seribu and five kota administrasi", func(t *testing.T) {
		want := []string{"31.01", "31.71", "31.72", "31.73", "31.74", "31.75"}
		if !slices.Equal(regencies, want) {
			t.Errorf("31.xx regencies = %q, want %q", regencies, want)
		}
		var children []string
		for _, c := range h.Children("31") {
			children = append(children, c.Code)
		}
		if !slices.Equal(children, want) {
			t.Errorf("Children(31) = %q, want %q", children, want)
		}
	})
}

func codes(rs []kpi.Region) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	return out
}

func TestAncestorsAndChildren(t *testing.T) {
	h := load(t)
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{
			"Ancestors of 32.16.06 run from Kabupaten Bekasi up to the nation",
			codes(h.Ancestors("32.16.06")),
			[]string{"32.16", "32", kpi.NationalCode},
		},
		{"Ancestors of 32 is only the nation", codes(h.Ancestors("32")), []string{kpi.NationalCode}},
		{"the nation has no ancestors", codes(h.Ancestors(kpi.NationalCode)), []string{}},
		{"an unknown code has no ancestors", codes(h.Ancestors("99.99")), []string{}},
		{"an unknown code has no children", codes(h.Children("99.99")), []string{}},
		{"a kecamatan has no children without desa", codes(h.Children("32.16.06")), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}

	t.Run("Children of 32.16 are all kecamatan of Kabupaten Bekasi ordered by code", func(t *testing.T) {
		// The expected list comes from the raw master, not the hierarchy.
		all, err := wilayah.Regions(false)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range all {
			if strings.HasPrefix(r.Code, "32.16.") && r.Level == kpi.LevelKecamatan {
				want = append(want, r.Code)
			}
		}
		slices.Sort(want)
		children := h.Children("32.16")
		got := codes(children)
		if len(got) != 23 {
			t.Errorf("Kabupaten Bekasi has %d kecamatan, want 23", len(got))
		}
		if !slices.Equal(got, want) {
			t.Errorf("Children(32.16) = %q, want %q", got, want)
		}
		if !slices.IsSorted(got) {
			t.Errorf("Children(32.16) not ordered by code: %q", got)
		}
		for _, c := range children {
			if c.Level != kpi.LevelKecamatan || c.Parent != "32.16" {
				t.Errorf("child %+v is not a kecamatan of 32.16", c)
			}
		}
		if !slices.Contains(got, "32.16.06") {
			t.Error("Tambun Selatan is not a child of Kabupaten Bekasi")
		}
	})
	t.Run("Children of the nation are the 38 provinsi ordered by code", func(t *testing.T) {
		got := codes(h.Children(kpi.NationalCode))
		if len(got) != 38 || !slices.IsSorted(got) {
			t.Errorf("Children(ID) = %q, want 38 provinces by code", got)
		}
	})
}

func TestSubtree(t *testing.T) {
	h := load(t)
	sub, err := h.Subtree("32")
	if err != nil {
		t.Fatalf("Subtree(32): %v", err)
	}
	t.Run("Subtree of 32 holds only Jawa Barat regions plus the nation root", func(t *testing.T) {
		for _, r := range sub.Regions() {
			if r.Code != kpi.NationalCode && r.ProvinceCode() != "32" {
				t.Errorf("Subtree(32) holds %s %s, outside Jawa Barat", r.Code, r.Name)
			}
		}
		if _, ok := sub.Lookup(kpi.NationalCode); !ok {
			t.Error("Subtree(32) lacks the nation root")
		}
		if got := codes(sub.Children(kpi.NationalCode)); !slices.Equal(got, []string{"32"}) {
			t.Errorf("Subtree(32) nation children = %q, want [32]", got)
		}
	})
	t.Run("Subtree of 32 keeps every Jawa Barat region of the full hierarchy", func(t *testing.T) {
		want := 0
		for _, r := range h.Regions() {
			if kpi.Contains("32", r.Code) {
				want++
				if _, ok := sub.Lookup(r.Code); !ok {
					t.Errorf("Subtree(32) lacks %s %s", r.Code, r.Name)
				}
			}
		}
		if got := len(sub.Regions()); got != want+1 {
			t.Errorf("Subtree(32) holds %d regions, want %d Jawa Barat regions plus the nation", got, want)
		}
		if got := sub.Count(kpi.LevelKabupatenKota); got != 27 {
			t.Errorf("Jawa Barat has %d kabupaten/kota, want 27", got)
		}
	})
	t.Run("Subtree of an unknown code is an error", func(t *testing.T) {
		if _, err := h.Subtree("99"); err == nil {
			t.Error("Subtree(99) succeeded")
		}
	})
}

func TestConsistency(t *testing.T) {
	h, err := wilayah.LoadWithDesa()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every region's ProvinceCode and RegencyCode agree with its ancestors", func(t *testing.T) {
		bad := 0
		for _, r := range h.Regions() {
			var province, regency string
			for _, a := range h.Ancestors(r.Code) {
				switch a.Level {
				case kpi.LevelProvinsi:
					province = a.Code
				case kpi.LevelKabupatenKota:
					regency = a.Code
				}
			}
			switch r.Level {
			case kpi.LevelProvinsi:
				province = r.Code
			case kpi.LevelKabupatenKota:
				regency = r.Code
			}
			if r.Level >= kpi.LevelProvinsi && r.Level <= kpi.LevelDesa && province == "" {
				t.Errorf("%s has no province among its ancestors", r.Code)
			}
			if r.ProvinceCode() != province || r.RegencyCode() != regency {
				bad++
				if bad <= 10 {
					t.Errorf("%s: ProvinceCode %q RegencyCode %q, ancestors say %q %q", r.Code, r.ProvinceCode(), r.RegencyCode(), province, regency)
				}
			}
		}
	})
	t.Run("every region's level is one below its parent's", func(t *testing.T) {
		for _, r := range h.Regions() {
			if r.Code == kpi.NationalCode {
				continue
			}
			p, ok := h.Parent(r.Code)
			if !ok || p.Level != r.Level-1 || !kpi.Contains(p.Code, r.Code) {
				t.Errorf("%s (%s): parent %+v, %v", r.Code, r.Level, p, ok)
			}
		}
	})
	t.Run("every region has a name without surrounding space", func(t *testing.T) {
		for _, r := range h.Regions() {
			if r.Name == "" || r.Name != strings.TrimSpace(r.Name) {
				t.Errorf("%s has name %q", r.Code, r.Name)
			}
		}
	})
}

func TestRegions(t *testing.T) {
	t.Run("Regions lists provinces first and parents before children", func(t *testing.T) {
		rs, err := wilayah.Regions(true)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 38+514+7285+83762 {
			t.Errorf("Regions(true) has %d rows", len(rs))
		}
		seen := map[string]bool{kpi.NationalCode: true}
		for _, r := range rs {
			if !seen[r.Parent] {
				t.Fatalf("%s listed before its parent %s", r.Code, r.Parent)
			}
			seen[r.Code] = true
		}
	})
	t.Run("Regions returns a fresh slice the caller may change", func(t *testing.T) {
		a, _ := wilayah.Regions(false)
		a[0].Name = "changed"
		b, _ := wilayah.Regions(false)
		if b[0].Name == "changed" {
			t.Error("Regions shares its slice between calls")
		}
		h := load(t)
		if r, _ := h.Lookup(a[0].Code); r.Name == "changed" {
			t.Error("changing Regions' result changed the cached hierarchy")
		}
	})
}
