package kpi

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCodeLevelAccepts(t *testing.T) {
	tests := []struct {
		name string
		code string
		want Level
	}{
		{"ID is the nation", "ID", LevelNasional},
		{"two digits are a provinsi", "32", LevelProvinsi},
		{"two dotted pairs are a kabupaten/kota", "32.16", LevelKabupatenKota},
		{"a kota code in the 7x range is a kabupaten/kota", "32.75", LevelKabupatenKota},
		{"three dotted pairs are a kecamatan", "32.16.06", LevelKecamatan},
		{"three pairs and four digits are a desa", "32.16.06.2001", LevelDesa},
		{"a kelurahan code starting with 1 is a desa-level code", "32.16.06.1001", LevelDesa},
		{"a part with a leading zero is fine when not all zero", "11.01.01", LevelKecamatan},
		{"a desa part of 0001 is not zero", "32.16.06.0001", LevelDesa},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CodeLevel(tt.code)
			if err != nil {
				t.Fatalf("CodeLevel(%q): %v", tt.code, err)
			}
			if got != tt.want {
				t.Errorf("CodeLevel(%q) = %s, want %s", tt.code, got, tt.want)
			}
		})
	}
}

func TestCodeLevelRejects(t *testing.T) {
	tests := []struct {
		name string
		code string
	}{
		{"an empty code is rejected", ""},
		{"a single digit is rejected", "3"},
		{"three digits are rejected", "321"},
		{"a one-digit regency part is rejected", "32.1"},
		{"a one-digit kecamatan part is rejected", "32.16.6"},
		{"an empty part between dots is rejected", "32..16"},
		{"a three-digit desa part is rejected", "32.16.06.201"},
		{"a five-digit desa part is rejected", "32.16.06.20011"},
		{"a letter in a part is rejected", "3a"},
		{"a zero province is rejected", "00"},
		{"a zero regency is rejected", "32.00"},
		{"a zero kecamatan is rejected", "32.16.00"},
		{"a zero desa is rejected", "32.16.06.0000"},
		{"a trailing dot is rejected", "32.16."},
		{"a leading dot is rejected", ".32"},
		{"a leading space is rejected", " 32"},
		{"a trailing space is rejected", "32 "},
		{"a space inside is rejected", "32. 16"},
		{"five parts are rejected", "32.16.06.2001.01"},
		{"five pairs are rejected", "32.16.06.20.01"},
		{"Arabic-Indic digits are rejected", "٣٢"},
		{"fullwidth digits are rejected", "３２"},
		{"a unicode digit in a later part is rejected", "32.١٦"},
		{"a lowercase nation code is rejected", "id"},
		{"the nation code cannot take parts", "ID.32"},
		{"a sign is rejected", "+3"},
		{"a dash separator is rejected", "32-16"},
		{"a slash separator is rejected", "32/16"},
		{"invalid UTF-8 is rejected", "3\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lvl, err := CodeLevel(tt.code); err == nil {
				t.Errorf("CodeLevel(%q) = %s, want an error", tt.code, lvl)
			}
		})
	}
	t.Run("the error quotes the code", func(t *testing.T) {
		_, err := CodeLevel("32.16.6")
		if err == nil || !strings.Contains(err.Error(), `"32.16.6"`) {
			t.Errorf("CodeLevel(32.16.6) error = %v, want it to quote the code", err)
		}
	})
}

func TestParentCode(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		want   string
		wantOK bool
	}{
		{"the nation has no parent", NationalCode, "", false},
		{"a provinsi's parent is the nation", "32", NationalCode, true},
		{"a kabupaten/kota's parent is its provinsi", "32.16", "32", true},
		{"a kecamatan's parent is its kabupaten/kota", "32.16.06", "32.16", true},
		{"a desa's parent is its kecamatan", "32.16.06.2001", "32.16.06", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParentCode(tt.code)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParentCode(%q) = %q, %v, want %q, %v", tt.code, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Level
	}{
		{"nasional is the nation", "nasional", LevelNasional},
		{"national is the nation", "national", LevelNasional},
		{"provinsi is a province", "provinsi", LevelProvinsi},
		{"province is a province", "province", LevelProvinsi},
		{"kabupaten_kota is a regency", "kabupaten_kota", LevelKabupatenKota},
		{"kabupaten/kota is a regency", "kabupaten/kota", LevelKabupatenKota},
		{"kabupaten alone is a regency", "kabupaten", LevelKabupatenKota},
		{"kota alone is a regency", "kota", LevelKabupatenKota},
		{"kabkota is a regency", "kabkota", LevelKabupatenKota},
		{"regency is a regency", "regency", LevelKabupatenKota},
		{"kecamatan is a district", "kecamatan", LevelKecamatan},
		{"district is a district", "district", LevelKecamatan},
		{"desa is a village", "desa", LevelDesa},
		{"kelurahan is a village", "kelurahan", LevelDesa},
		{"desa_kelurahan is a village", "desa_kelurahan", LevelDesa},
		{"village is a village", "village", LevelDesa},
		{"case does not matter", "Kabupaten/Kota", LevelKabupatenKota},
		{"surrounding space does not matter", "  Kecamatan\t", LevelKecamatan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if err != nil {
				t.Fatalf("ParseLevel(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseLevel(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "rt", "rw", "kab", "kabupaten kota", "provinsi2"} {
		t.Run("the unknown spelling "+strconv.Quote(in)+" is an error naming the canonical levels", func(t *testing.T) {
			_, err := ParseLevel(in)
			if err == nil {
				t.Fatalf("ParseLevel(%q) succeeded", in)
			}
			for _, name := range levelNames {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not list %s", err, name)
				}
			}
		})
	}
	t.Run("every level's String parses back to the level", func(t *testing.T) {
		for _, l := range Levels {
			got, err := ParseLevel(l.String())
			if err != nil || got != l {
				t.Errorf("ParseLevel(%q) = %s, %v", l.String(), got, err)
			}
		}
	})
	t.Run("an out-of-range level prints its number", func(t *testing.T) {
		if got := Level(9).String(); got != "level(9)" {
			t.Errorf("Level(9).String() = %q", got)
		}
	})
}

func regionCodesOf(rs []Region) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	return out
}

func TestNewHierarchy(t *testing.T) {
	tests := []struct {
		name    string
		regions []Region
		wantErr string // "" for success
	}{
		{
			"regions in any order build a tree",
			[]Region{
				{Code: "32.16.06", Name: "Tambun Selatan"},
				{Code: "32", Name: "Jawa Barat"},
				{Code: "32.16", Name: "Kabupaten Bekasi", Parent: "32"},
			},
			"",
		},
		{"an empty list is the nation alone", nil, ""},
		{
			"a duplicate code is rejected",
			[]Region{{Code: "32", Name: "Jawa Barat"}, {Code: "32", Name: "Jabar"}},
			"region code 32 listed twice",
		},
		{
			"the nation listed twice is rejected",
			[]Region{{Code: "ID", Name: "Indonesia"}, {Code: "ID", Name: "Indonesia"}},
			"region code ID listed twice",
		},
		{
			"a missing parent is rejected",
			[]Region{{Code: "32", Name: "Jawa Barat"}, {Code: "32.16.06", Name: "Tambun Selatan"}},
			"region 32.16.06: parent 32.16 is not in the region list",
		},
		{
			"a parent that disagrees with the code is rejected",
			[]Region{{Code: "31", Name: "DKI Jakarta"}, {Code: "32", Name: "Jawa Barat"}, {Code: "32.16", Name: "Kabupaten Bekasi", Parent: "31"}},
			"region 32.16 names parent 31, but its code puts it under 32",
		},
		{
			"a malformed code is rejected",
			[]Region{{Code: "32", Name: "Jawa Barat"}, {Code: "32.1", Name: "Bad"}},
			`region code "32.1"`,
		},
		{
			"an empty code is rejected",
			[]Region{{Code: "", Name: "Nowhere"}},
			"empty region code",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHierarchy(tt.regions)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewHierarchy succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewHierarchy: %v", err)
			}
			if h.Count(LevelNasional) != 1 {
				t.Errorf("Count(nasional) = %d, want 1", h.Count(LevelNasional))
			}
			if got := len(h.Regions()); got != len(tt.regions)+1 {
				t.Errorf("len(Regions()) = %d, want %d", got, len(tt.regions)+1)
			}
		})
	}

	h, err := NewHierarchy([]Region{
		{Code: "32.16.06", Name: "Tambun Selatan", Level: LevelDesa},
		{Code: "32.16.01", Name: "Setu"},
		{Code: "32", Name: "Jawa Barat"},
		{Code: "31", Name: "DKI Jakarta"},
		{Code: "32.16", Name: "Kabupaten Bekasi"},
		{Code: "32.16.06.2001", Name: "Lambangsari"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the nation is added when missing", func(t *testing.T) {
		r, ok := h.Lookup(NationalCode)
		if !ok || r.Name != "Indonesia" || r.Level != LevelNasional || r.Parent != "" {
			t.Errorf("Lookup(ID) = %+v, %v", r, ok)
		}
	})
	t.Run("levels and parents come from the code, not the caller", func(t *testing.T) {
		r, _ := h.Lookup("32.16.06")
		if r.Level != LevelKecamatan || r.Parent != "32.16" {
			t.Errorf("Lookup(32.16.06) = %+v, want kecamatan under 32.16", r)
		}
	})
	t.Run("Regions lists parents before children and by code within a level", func(t *testing.T) {
		want := []string{"ID", "31", "32", "32.16", "32.16.01", "32.16.06", "32.16.06.2001"}
		if got := regionCodesOf(h.Regions()); !slices.Equal(got, want) {
			t.Errorf("Regions() = %q, want %q", got, want)
		}
	})
	t.Run("Children are ordered by code", func(t *testing.T) {
		if got := regionCodesOf(h.Children("32.16")); !slices.Equal(got, []string{"32.16.01", "32.16.06"}) {
			t.Errorf("Children(32.16) = %q", got)
		}
		if got := regionCodesOf(h.Children(NationalCode)); !slices.Equal(got, []string{"31", "32"}) {
			t.Errorf("Children(ID) = %q", got)
		}
	})
	t.Run("Ancestors run from the parent up to the nation", func(t *testing.T) {
		want := []string{"32.16.06", "32.16", "32", "ID"}
		if got := regionCodesOf(h.Ancestors("32.16.06.2001")); !slices.Equal(got, want) {
			t.Errorf("Ancestors(32.16.06.2001) = %q, want %q", got, want)
		}
	})
	t.Run("Count counts each level and nothing out of range", func(t *testing.T) {
		want := map[Level]int{LevelNasional: 1, LevelProvinsi: 2, LevelKabupatenKota: 1, LevelKecamatan: 2, LevelDesa: 1, Level(-1): 0, Level(5): 0}
		for l, n := range want {
			if got := h.Count(l); got != n {
				t.Errorf("Count(%s) = %d, want %d", l, got, n)
			}
		}
	})
	t.Run("Subtree keeps the region, its descendants and its ancestors", func(t *testing.T) {
		sub, err := h.Subtree("32.16.06")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ID", "32", "32.16", "32.16.06", "32.16.06.2001"}
		if got := regionCodesOf(sub.Regions()); !slices.Equal(got, want) {
			t.Errorf("Subtree(32.16.06) = %q, want %q", got, want)
		}
	})
	t.Run("unknown codes have no region, parent or children", func(t *testing.T) {
		if _, ok := h.Lookup("33"); ok {
			t.Error("Lookup(33) found a region")
		}
		if _, ok := h.Parent("33"); ok {
			t.Error("Parent(33) found a region")
		}
		if h.Children("33") != nil || h.Ancestors("33") != nil {
			t.Error("unknown code has children or ancestors")
		}
		if _, err := h.Subtree("33"); err == nil {
			t.Error("Subtree(33) succeeded")
		}
	})
}

func TestRegionProvinceAndRegencyCode(t *testing.T) {
	tests := []struct {
		name         string
		code         string
		wantProvince string
		wantRegency  string
	}{
		{"the nation lies in no province", NationalCode, "", ""},
		{"a province lies in itself and no regency", "32", "32", ""},
		{"a regency lies in its province and itself", "32.16", "32", "32.16"},
		{"a kecamatan lies in its province and regency", "32.16.06", "32", "32.16"},
		{"a desa lies in its province and regency", "32.16.06.2001", "32", "32.16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Region{Code: tt.code}
			if got := r.ProvinceCode(); got != tt.wantProvince {
				t.Errorf("ProvinceCode(%s) = %q, want %q", tt.code, got, tt.wantProvince)
			}
			if got := r.RegencyCode(); got != tt.wantRegency {
				t.Errorf("RegencyCode(%s) = %q, want %q", tt.code, got, tt.wantRegency)
			}
		})
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		code  string
		want  bool
	}{
		{"Kabupaten Bekasi contains Tambun Selatan", "32.16", "32.16.06", true},
		{"Kabupaten Bekasi contains itself", "32.16", "32.16", true},
		{"Jawa Barat contains a desa deep below", "32", "32.16.06.2001", true},
		{"a code prefix is not containment when it cuts a part", "32.1", "32.16", false},
		{"Kota Bekasi does not contain Kabupaten Bekasi's kecamatan", "32.75", "32.16.06", false},
		{"a kecamatan does not contain its regency", "32.16.06", "32.16", false},
		{"the nation contains a province", "ID", "32", true},
		{"the nation contains a desa", "ID", "32.16.06.2001", true},
		{"the nation contains itself", "ID", "ID", true},
		{"a province does not contain the nation", "32", "ID", false},
		{"a province does not contain its neighbour", "31", "32", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Contains(tt.scope, tt.code); got != tt.want {
				t.Errorf("Contains(%q, %q) = %v, want %v", tt.scope, tt.code, got, tt.want)
			}
		})
	}
}

func FuzzCodeLevel(f *testing.F) {
	// The seed corpus, good and bad codes, is in testdata/fuzz/FuzzCodeLevel.
	f.Fuzz(func(t *testing.T, code string) {
		lvl, err := CodeLevel(code)
		if err != nil {
			return
		}
		if code == NationalCode {
			if lvl != LevelNasional {
				t.Fatalf("CodeLevel(ID) = %s", lvl)
			}
			if p, ok := ParentCode(code); ok {
				t.Fatalf("ParentCode(ID) = %q, want none", p)
			}
			return
		}
		if parts := strings.Count(code, ".") + 1; int(lvl) != parts {
			t.Fatalf("CodeLevel(%q) = %s (%d), but the code has %d parts", code, lvl, int(lvl), parts)
		}
		if lvl < LevelProvinsi || lvl > LevelDesa {
			t.Fatalf("CodeLevel(%q) = %s, outside provinsi..desa", code, lvl)
		}
		parent, ok := ParentCode(code)
		if !ok {
			t.Fatalf("ParentCode(%q) has no parent", code)
		}
		plvl, err := CodeLevel(parent)
		if err != nil {
			t.Fatalf("CodeLevel accepts %q but not its parent %q: %v", code, parent, err)
		}
		if plvl != lvl-1 {
			t.Fatalf("ParentCode(%q) = %q at %s, want level %s", code, parent, plvl, lvl-1)
		}
		if !Contains(parent, code) || Contains(code, parent) {
			t.Fatalf("Contains disagrees with ParentCode(%q) = %q", code, parent)
		}
		r := Region{Code: code}
		if !strings.HasPrefix(code, r.ProvinceCode()) || (lvl >= LevelKabupatenKota) != (r.RegencyCode() != "") {
			t.Fatalf("%q: ProvinceCode %q RegencyCode %q", code, r.ProvinceCode(), r.RegencyCode())
		}
	})
}

func TestLevelLabelIsHowPeopleWriteIt(t *testing.T) {
	for l, want := range map[Level]string{LevelNasional: "nasional", LevelKabupatenKota: "kabupaten/kota", LevelDesa: "desa/kelurahan", Level(9): "level(9)"} {
		if got := l.Label(); got != want {
			t.Errorf("%v.Label() = %q, want %q", l, got, want)
		}
	}
}
