package dashboards

import "fmt"

func percent() obj {
	return obj{"unit": "percentunit", "decimals": 1, "thresholds": paceThresholds(), "color": obj{"mode": "thresholds"}}
}

func statOptions(textMode string) obj {
	return obj{
		"reduceOptions": obj{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"colorMode":     "background", "graphMode": "none", "textMode": textMode,
		"justifyMode": "auto", "orientation": "auto", "wideLayout": true,
	}
}

func tableOptions() obj {
	return obj{"showHeader": true, "cellHeight": "sm", "footer": obj{"show": false}}
}

// override sets properties of one field, by name.
func override(field string, props ...obj) obj {
	return obj{"matcher": obj{"id": "byName", "options": field}, "properties": props}
}

func prop(id string, v any) obj { return obj{"id": id, "value": v} }

func statusCell() []obj {
	return []obj{prop("mappings", statusMappings()), prop("custom.cellOptions", obj{"type": "color-background"})}
}

func percentCell() []obj {
	return []obj{prop("unit", "percentunit"), prop("decimals", 1), prop("thresholds", paceThresholds()),
		prop("custom.cellOptions", obj{"type": "color-text"})}
}

func withOverrides(p obj, overrides ...obj) obj {
	p["fieldConfig"].(obj)["overrides"] = overrides
	return p
}

func withTransformations(p obj, ts ...obj) obj {
	p["transformations"] = ts
	return p
}

// progressColumns are the instant queries of a progress table, one per
// metric, merged into one row per KPI × region by Grafana's merge.
func progressColumns(sel string, join func(string) string) []obj {
	return []obj{
		promTable("A", join(fmt.Sprintf("pantau_kpi_actual{%s}", sel))),
		promTable("B", join(fmt.Sprintf("pantau_kpi_expected{%s}", sel))),
		promTable("C", join(fmt.Sprintf("pantau_kpi_target{%s}", sel))),
		promTable("D", join(fmt.Sprintf("pantau_kpi_attainment_ratio{%s}", sel))),
		promTable("E", join(fmt.Sprintf("pantau_kpi_pace_ratio{%s}", sel))),
		promTable("F", join(statusCode(sel))),
	}
}

func progressOverrides() []obj {
	return []obj{
		override("Capaian", percentCell()...),
		override("Laju", percentCell()...),
		override("Status", statusCell()...),
	}
}

var progressFields = [][2]string{
	{"Value #A", "Realisasi"}, {"Value #B", "Seharusnya"}, {"Value #C", "Target"},
	{"Value #D", "Capaian"}, {"Value #E", "Laju"}, {"Value #F", "Status"},
}

func ringkasan() Dashboard {
	var l layout
	wilayah := promVar("wilayah", "Provinsi / kabupaten / kota",
		`query_result(pantau_region_info{province_code="$provinsi",level=~"provinsi|kabupaten_kota"})`, regionRegex, false, false)
	here := `region_code="$wilayah",window="month"`
	// Below the chosen region, at the levels Prometheus has: kabupaten/kota
	// by default (the spec's exposure), kecamatan when the spec exposes them.
	under := `level=~"kabupaten_kota|kecamatan",region_code=~"${wilayah}\\..+",window="month"`

	status := l.panel("stat", "Status KPI bulan ini",
		"Status tiap KPI di wilayah terpilih, dari laju realisasi terhadap rencana sampai saat ini.",
		24, 5, promDS, []obj{promNow("A", kpiName(statusCode(here)), "{{kpi_name}}")},
		obj{"mappings": statusMappings(), "color": obj{"mode": "thresholds"}, "thresholds": obj{"mode": "absolute", "steps": []obj{{"color": "text", "value": nil}}}},
		statOptions("value_and_name"), nil)

	fields := append([][2]string{{"kpi_name", "KPI"}}, progressFields...)
	table := withTransformations(withOverrides(
		l.panel("table", "Realisasi vs target bulan ini",
			"Per KPI: realisasi, yang seharusnya sudah tercapai hari ini, target bulan ini, capaian (realisasi ÷ target) dan laju (realisasi ÷ seharusnya).",
			24, 8, promDS, progressColumns(here, kpiName), nil, tableOptions(), nil),
		progressOverrides()...), append([]obj{merge()}, organize(fields...)...)...)

	year := `kpi="$kpi",region_code="$wilayah",window="year"`
	trend := l.panel("timeseries", "Kemajuan tahun ini terhadap garis target",
		"Realisasi sejak 1 Januari dibandingkan dengan target yang seharusnya sudah tercapai (garis target) dan target tahunan.",
		16, 9, promDS, []obj{
			prom("A", "pantau_kpi_actual{"+year+"}", "Realisasi"),
			prom("B", "pantau_kpi_expected{"+year+"}", "Garis target"),
			prom("C", "pantau_kpi_target{"+year+"}", "Target tahunan"),
		}, obj{"custom": obj{"lineWidth": 2, "fillOpacity": 0}}, obj{"legend": obj{"displayMode": "list", "placement": "bottom"}}, nil)

	alerts := withTransformations(l.panel("table", "Peringatan aktif",
		"Peringatan dari Prometheus yang sedang aktif untuk wilayah di provinsi ini.",
		8, 9, promDS, []obj{promTable("A", regionName(`ALERTS{alertstate="firing",province_code="$provinsi"}`))},
		nil, tableOptions(), nil),
		organize([2]string{"alertname", "Peringatan"}, [2]string{"severity", "Tingkat"}, [2]string{"name", "Wilayah"}, [2]string{"kpi", "KPI"})...)

	counts := l.panel("stat", "Kabupaten/kota per status",
		"Berapa kabupaten/kota di provinsi terpilih yang sesuai rencana, berisiko, tertinggal, tanpa target atau tanpa data untuk KPI terpilih bulan ini.",
		24, 4, promDS, []obj{promNow("A", `sum by (status) (pantau:kpi_status:count{kpi="$kpi",level="kabupaten_kota",window="month",province_code="$provinsi"})`, "{{status}}")},
		obj{"color": obj{"mode": "fixed", "fixedColor": "text"}}, statOptions("value_and_name"), nil)
	var byStatus []obj
	for _, st := range statuses {
		byStatus = append(byStatus, override(st.status, prop("displayName", st.text), prop("color", obj{"mode": "fixed", "fixedColor": st.color})))
	}
	counts = withOverrides(counts, byStatus...)

	behind := kpiName(regionName(fmt.Sprintf(
		"pantau_kpi_pace_ratio{%s}\nand on (kpi, region_code) pantau_kpi_status{status=\"behind\",%s}", under, under)))
	kecamatan := withTransformations(withOverrides(
		l.panel("table", "Wilayah tertinggal",
			"Kabupaten/kota (dan kecamatan, bila spesifikasi mengirimnya ke Prometheus) dengan status tertinggal bulan ini, laju terendah lebih dulu. Klik nama wilayah untuk rinciannya.",
			24, 10, promDS, []obj{promTable("A", behind)}, nil,
			obj{"showHeader": true, "cellHeight": "sm", "sortBy": []obj{{"displayName": "Laju", "desc": false}}}, nil),
		override("Laju", percentCell()...),
		override("Wilayah", prop("links", []obj{dataLink("Rincian ${__data.fields.kpi_name} di ${__data.fields.name}", DetailUID,
			"var-kpi=${__data.fields.kpi}&var-provinsi=${provinsi}&var-region=${__data.fields.region_code}")})),
		// The link needs the KPI id; the table shows its name.
		override("kpi", prop("custom.hidden", true)),
	), organize([2]string{"name", "Wilayah"}, [2]string{"kpi_name", "KPI"}, [2]string{"Value", "Laju"}, [2]string{"region_code", "Kode"}, [2]string{"kpi", "kpi"})...)

	slips := withTransformations(withOverrides(l.panel("table", "Kecamatan di bawah rencana (API)",
		"Dari API pantau, yang memegang setiap kecamatan: kecamatan berisiko atau tertinggal saat ini untuk KPI terpilih, yang terparah lebih dulu, dengan kekurangannya dan sejak bulan apa. Klik nama kecamatan untuk rinciannya.",
		24, 10, infinityDS, []obj{infinity("A", "/api/v1/slips", [][2]string{{"kpi", "$kpi"}, {"level", "kecamatan"}, {"parent", "$wilayah"}}, "table",
			column{"region_name", "Kecamatan", "string"}, column{"region_code", "Kode", "string"}, column{"status", "Status", "string"},
			column{"actual", "Realisasi", "number"}, column{"expected", "Seharusnya", "number"}, column{"pace", "Laju", "number"},
			column{"behind_by", "Kekurangan", "number"}, column{"since", "Sejak", "string"})},
		nil, tableOptions(), nil),
		override("Laju", percentCell()...),
		override("Status", prop("mappings", apiStatusMappings()), prop("custom.cellOptions", obj{"type": "color-background"})),
		override("Kecamatan", prop("links", []obj{dataLink("Rincian di ${__data.fields.Kecamatan}", DetailUID,
			"var-kpi=${kpi}&var-provinsi=${provinsi}&var-region=${__data.fields.Kode}")}))),
		// Infinity returns columns alphabetically; show them as declared.
		organize([2]string{"Kecamatan", "Kecamatan"}, [2]string{"Kode", "Kode"}, [2]string{"Status", "Status"}, [2]string{"Realisasi", "Realisasi"},
			[2]string{"Seharusnya", "Seharusnya"}, [2]string{"Laju", "Laju"}, [2]string{"Kekurangan", "Kekurangan"}, [2]string{"Sejak", "Sejak"})...)

	return Dashboard{File: "ringkasan-kepala-dinas.json", JSON: dashboard(RingkasanUID, "Ringkasan Kepala Dinas",
		"Satu provinsi atau kabupaten/kota: status tiap KPI bulan ini, kemajuan tahun ini, kecamatan yang tertinggal dan peringatan aktif.",
		[]obj{provinsiVar(false), wilayah, kpiVar()},
		[]obj{status, table, trend, alerts, counts, kecamatan, slips})}
}

func perbandingan() Dashboard {
	var l layout
	tingkat := customVar("tingkat", "Tingkat", [2]string{"Provinsi", "provinsi"}, [2]string{"Kabupaten/Kota", "kabupaten_kota"})
	bandingkan := promVar("bandingkan", "Wilayah dibandingkan",
		`query_result(pantau_region_info{level="$tingkat",province_code=~"$provinsi"})`, regionRegex, true, false)
	scope := `level="$tingkat",province_code=~"$provinsi"`

	ranking := l.panel("bargauge", "Peringkat capaian tahun ini",
		"Wilayah pada tingkat terpilih, diurutkan menurut capaian tahun berjalan (realisasi ÷ target tahunan).",
		12, 16, promDS, []obj{promNow("A", "sort_desc(\n"+regionName(`pantau_kpi_attainment_ratio{kpi="$kpi",`+scope+`,window="year"}`)+"\n)", "{{name}}")},
		percent(), obj{"orientation": "horizontal", "displayMode": "gradient", "showUnfilled": true,
			"reduceOptions": obj{"calcs": []string{"lastNotNull"}, "fields": "", "values": false}}, nil)

	geomap := l.panel("geomap", "Peta capaian provinsi",
		"Capaian tahun berjalan tiap provinsi. Batas provinsi dari GET /api/v1/geo/provinces, disalin ke public/maps Grafana (lihat docs/grafana.md).",
		12, 16, promDS, []obj{promTable("A", regionName(`pantau_kpi_attainment_ratio{kpi="$kpi",level="provinsi",window="year"}`))},
		percent(), obj{
			"view":     obj{"id": "coords", "lat": -2.5, "lon": 118, "zoom": 4},
			"controls": obj{"showZoom": true, "mouseWheelZoom": true, "showAttribution": true},
			"basemap":  obj{"type": "default", "name": "Peta dasar"},
			"layers": []obj{
				{"type": "geojson", "name": "Batas provinsi", "config": obj{
					"src": "public/maps/pantau-provinces.geojson", "rules": []obj{},
					"style": obj{"color": obj{"fixed": "transparent"}, "opacity": 0.4}}},
				{"type": "markers", "name": "Capaian", "tooltip": true,
					"location": obj{"mode": "lookup", "lookup": "region_code", "gazetteer": "public/maps/pantau-provinces.geojson"},
					"config": obj{"showLegend": true, "style": obj{
						"color": obj{"field": "Value", "fixed": "dark-green"}, "size": obj{"fixed": 10},
						"text": obj{"field": "name", "mode": "field"}}}},
			},
			"tooltip": obj{"mode": "details"},
		}, nil)

	grid := withTransformations(withOverrides(
		l.panel("table", "Status KPI × wilayah",
			"Status bulan ini setiap KPI (kolom) di setiap wilayah (baris) pada tingkat terpilih.",
			24, 14, promDS, []obj{promTable("A", kpiName(regionName(statusCode(scope+`,window="month"`))))},
			obj{"mappings": statusMappings(), "custom": obj{"cellOptions": obj{"type": "color-background"}}}, tableOptions(), nil),
		override("name", prop("displayName", "Wilayah"), prop("custom.cellOptions", obj{"type": "auto"}))),
		obj{"id": "groupingToMatrix", "options": obj{"columnField": "kpi_name", "rowField": "name", "valueField": "Value", "emptyValue": "null"}})

	trend := l.panel("timeseries", "Tren capaian wilayah terpilih",
		"Capaian tahun berjalan wilayah yang dipilih, berdampingan.",
		16, 10, promDS, []obj{prom("A", regionName(`pantau_kpi_attainment_ratio{kpi="$kpi",region_code=~"$bandingkan",window="year"}`), "{{name}}")},
		obj{"unit": "percentunit", "custom": obj{"lineWidth": 2}}, obj{"legend": obj{"displayMode": "table", "placement": "right"}}, nil)

	weighted := l.panel("stat", "Rasio gabungan provinsi terpilih",
		"Untuk KPI rasio: Σ pembilang ÷ Σ penyebut seluruh provinsi terpilih, bukan rata-rata rasionya. Kosong untuk KPI hitungan.",
		8, 10, promDS, []obj{promNow("A",
			`sum(pantau:kpi_numerator:sum_by_province{kpi="$kpi",window="month",province_code=~"$provinsi"})`+"\n/ "+
				`sum(pantau:kpi_denominator:sum_by_province{kpi="$kpi",window="month",province_code=~"$provinsi"})`, "Bulan ini")},
		obj{"unit": "percentunit", "decimals": 1, "color": obj{"mode": "fixed", "fixedColor": "blue"}}, statOptions("value"), nil)

	api := withTransformations(withOverrides(l.panel("table", "Peringkat nasional terbawah (API)",
		"Dari API pantau: dua puluh wilayah dengan laju terendah bulan ini pada tingkat terpilih di seluruh Indonesia.",
		24, 10, infinityDS, []obj{infinity("A", "/api/v1/ranking",
			[][2]string{{"kpi", "$kpi"}, {"level", "$tingkat"}, {"order", "worst"}, {"limit", "20"}}, "table",
			column{"rank", "Peringkat", "number"}, column{"region_name", "Wilayah", "string"}, column{"region_code", "Kode", "string"},
			column{"attainment", "Capaian", "number"}, column{"pace", "Laju", "number"}, column{"status", "Status", "string"})},
		nil, tableOptions(), nil),
		override("Capaian", percentCell()...), override("Laju", percentCell()...),
		override("Status", prop("mappings", apiStatusMappings()), prop("custom.cellOptions", obj{"type": "color-background"}))),
		organize([2]string{"Peringkat", "Peringkat"}, [2]string{"Wilayah", "Wilayah"}, [2]string{"Kode", "Kode"},
			[2]string{"Capaian", "Capaian"}, [2]string{"Laju", "Laju"}, [2]string{"Status", "Status"})...)

	return Dashboard{File: "perbandingan-wilayah.json", JSON: dashboard(PerbandinganID, "Perbandingan Wilayah",
		"Provinsi atau kabupaten/kota dibandingkan: peringkat capaian, peta, status setiap KPI dan tren wilayah terpilih.",
		[]obj{kpiVar(), tingkat, provinsiVar(true), bandingkan},
		[]obj{ranking, geomap, grid, trend, weighted, api})}
}

func detail() Dashboard {
	var l layout
	region := promVar("region", "Wilayah", `query_result(pantau_region_info{province_code="$provinsi"})`, regionRegex, false, false)
	here := `kpi="$kpi",region_code="$region",window="month"`
	stat := func(title, metric, legend string, defaults obj) obj {
		return l.panel("stat", title, "", 4, 4, promDS, []obj{promNow("A", metric+"{"+here+"}", legend)}, defaults, statOptions("value"), nil)
	}
	plain := obj{"decimals": 2, "color": obj{"mode": "fixed", "fixedColor": "blue"}}
	stats := []obj{
		stat("Realisasi", "pantau_kpi_actual", "Realisasi", plain),
		stat("Seharusnya saat ini", "pantau_kpi_expected", "Seharusnya", plain),
		stat("Target bulan ini", "pantau_kpi_target", "Target", plain),
		stat("Capaian", "pantau_kpi_attainment_ratio", "Capaian", percent()),
		stat("Laju", "pantau_kpi_pace_ratio", "Laju", percent()),
		l.panel("stat", "Status", "", 4, 4, promDS, []obj{promNow("A", statusCode(here), "Status")},
			obj{"mappings": statusMappings(), "color": obj{"mode": "thresholds"}, "thresholds": obj{"mode": "absolute", "steps": []obj{{"color": "text", "value": nil}}}},
			statOptions("value"), nil),
	}

	children := `kpi="$kpi",region_code=~"${region}\\.[0-9]+",window="month"`
	cols := append(progressColumns(children, regionName),
		promTable("G", regionName("pantau_kpi_numerator{"+children+"}")),
		promTable("H", regionName("pantau_kpi_denominator{"+children+"}")))
	fields := append([][2]string{{"name", "Wilayah"}, {"region_code", "Kode"}}, progressFields...)
	fields = append(fields, [2]string{"Value #G", "Pembilang"}, [2]string{"Value #H", "Penyebut"})
	table := withTransformations(withOverrides(
		l.panel("table", "Wilayah di bawahnya",
			"Kabupaten/kota, kecamatan atau desa di bawah wilayah terpilih. Klik nama untuk turun satu tingkat; pembilang dan penyebut hanya untuk KPI rasio.",
			24, 12, promDS, cols, nil, tableOptions(), nil),
		append(progressOverrides(), override("Wilayah", prop("links", []obj{dataLink("Rincian ${__data.fields.name}", DetailUID,
			"var-kpi=${kpi}&var-provinsi=${provinsi}&var-region=${__data.fields.region_code}")})))...),
		append([]obj{merge()}, organize(fields...)...)...)

	month := l.panel("timeseries", "Bulan ini: realisasi dan seharusnya",
		"Realisasi bulan berjalan dibandingkan dengan yang seharusnya sudah tercapai pada tiap saat.",
		24, 9, promDS, []obj{prom("A", "pantau_kpi_actual{"+here+"}", "Realisasi"), prom("B", "pantau_kpi_expected{"+here+"}", "Seharusnya")},
		obj{"custom": obj{"lineWidth": 2}}, obj{"legend": obj{"displayMode": "list", "placement": "bottom"}}, nil)

	below := withTransformations(withOverrides(l.panel("table", "Wilayah di bawahnya (API)",
		"Dari API pantau, yang memegang setiap tingkat sampai kecamatan: wilayah satu tingkat di bawah wilayah terpilih, laju terendah lebih dulu. Klik nama untuk turun satu tingkat.",
		24, 12, infinityDS, []obj{infinity("A", "/api/v1/ranking",
			[][2]string{{"kpi", "$kpi"}, {"parent", "$region"}, {"order", "worst"}, {"limit", "1000"}}, "table",
			column{"region_name", "Wilayah", "string"}, column{"region_code", "Kode", "string"},
			column{"actual", "Realisasi", "number"}, column{"expected", "Seharusnya", "number"}, column{"target", "Target", "number"},
			column{"attainment", "Capaian", "number"}, column{"pace", "Laju", "number"}, column{"status", "Status", "string"},
			column{"numerator", "Pembilang", "number"}, column{"denominator", "Penyebut", "number"})},
		nil, tableOptions(), nil),
		override("Capaian", percentCell()...), override("Laju", percentCell()...),
		override("Status", prop("mappings", apiStatusMappings()), prop("custom.cellOptions", obj{"type": "color-background"})),
		override("Wilayah", prop("links", []obj{dataLink("Rincian ${__data.fields.Wilayah}", DetailUID,
			"var-kpi=${kpi}&var-provinsi=${provinsi}&var-region=${__data.fields.Kode}")}))),
		organize([2]string{"Wilayah", "Wilayah"}, [2]string{"Kode", "Kode"}, [2]string{"Realisasi", "Realisasi"}, [2]string{"Seharusnya", "Seharusnya"},
			[2]string{"Target", "Target"}, [2]string{"Capaian", "Capaian"}, [2]string{"Laju", "Laju"}, [2]string{"Status", "Status"},
			[2]string{"Pembilang", "Pembilang"}, [2]string{"Penyebut", "Penyebut"})...)

	history := l.panel("timeseries", "Riwayat bulanan (API)",
		"Dari riwayat bulanan pantau: realisasi dan target tiap bulan (batang) dan sejak awal tahun (garis), tanpa bergantung pada retensi Prometheus.",
		24, 9, infinityDS, []obj{infinity("A", "/api/v1/history", [][2]string{{"kpi", "$kpi"}, {"region", "$region"}}, "timeseries",
			column{"time", "Bulan", "timestamp"}, column{"actual", "Realisasi", "number"}, column{"target", "Target", "number"},
			column{"cumulative_actual", "Realisasi sejak awal tahun", "number"}, column{"cumulative_target", "Garis target", "number"})},
		obj{"custom": obj{"drawStyle": "bars", "fillOpacity": 60}}, obj{"legend": obj{"displayMode": "list", "placement": "bottom"}},
		obj{"timeFrom": "2y"})
	history = withOverrides(history,
		override("Realisasi sejak awal tahun", prop("custom.drawStyle", "line"), prop("custom.lineWidth", 2)),
		override("Garis target", prop("custom.drawStyle", "line"), prop("custom.lineStyle", obj{"fill": "dash", "dash": []int{10, 10}})))

	return Dashboard{File: "detail-kpi.json", JSON: dashboard(DetailUID, "Detail KPI",
		"Satu KPI di satu wilayah: angka bulan ini, wilayah di bawahnya dengan pembilang dan penyebut, dan riwayat bulanan.",
		[]obj{kpiVar(), provinsiVar(false), region},
		append(stats, table, month, below, history))}
}

func kesehatan() Dashboard {
	var l layout
	upDown := []obj{{"type": "value", "options": obj{
		"1": obj{"text": "Aktif", "color": "green", "index": 0}, "0": obj{"text": "Mati", "color": "red", "index": 1}}}}
	kpiUp := []obj{{"type": "value", "options": obj{
		"1": obj{"text": "Berhasil", "color": "green", "index": 0}, "0": obj{"text": "Gagal", "color": "red", "index": 1}}}}
	mapped := func(m []obj) obj {
		return obj{"mappings": m, "color": obj{"mode": "thresholds"}, "thresholds": obj{"mode": "absolute", "steps": []obj{{"color": "text", "value": nil}}}}
	}
	series := func(title, desc string, w int, unit string, targets ...obj) obj {
		return l.panel("timeseries", title, desc, w, 8, promDS, targets, obj{"unit": unit}, obj{"legend": obj{"displayMode": "list", "placement": "bottom"}}, nil)
	}
	panels := []obj{
		l.panel("stat", "Sumber data", "Apakah tiap sumber data menjawab ping pada penyegaran terakhir.", 6, 4, promDS,
			[]obj{promNow("A", "pantau_source_up", "{{source}}")}, mapped(upDown), statOptions("value_and_name"), nil),
		l.panel("stat", "pantau di-scrape", "Apakah Prometheus berhasil mengambil /metrics dari tiap pantau.", 6, 4, promDS,
			[]obj{promNow("A", `up{job="pantau"}`, "{{instance}}")}, mapped(upDown), statOptions("value_and_name"), nil),
		l.panel("stat", "Umur snapshot", "Waktu sejak angka yang disajikan dihitung; lebih dari dua penyegaran berarti penyegaran tertunda.", 6, 4, promDS,
			[]obj{promNow("A", "pantau_snapshot_age_seconds", "{{instance}}")},
			obj{"unit": "s", "color": obj{"mode": "thresholds"}, "thresholds": obj{"mode": "absolute", "steps": []obj{
				{"color": "green", "value": nil}, {"color": "orange", "value": 600}, {"color": "red", "value": 900}}}},
			statOptions("value"), nil),
		l.panel("stat", "Penyegaran KPI", "Apakah penyegaran terakhir tiap KPI berhasil; yang gagal menampilkan angka lama, atau tanpa angka bila belum pernah berhasil.", 6, 4, promDS,
			[]obj{promNow("A", kpiName("pantau_kpi_up"), "{{kpi_name}}")}, mapped(kpiUp), statOptions("value_and_name"), nil),
		series("Durasi kueri", "Waktu jalan kueri terakhir tiap KPI (bulan, tahun, awal tahun).", 12, "s",
			prom("A", "pantau_query_duration_seconds", "{{kpi}} {{query}}")),
		series("Durasi penyegaran", "Satu penyegaran penuh: semua kueri dan penyusunan eksposisi.", 12, "s",
			prom("A", "pantau_refresh_duration_seconds", "{{instance}}")),
		series("Baris ditolak per alasan (per jam)", "Baris sumber yang dibuang: kode wilayah salah atau tidak dikenal, nilai kosong, negatif, penyebut nol, duplikat.", 12, "short",
			prom("A", "sum by (kpi, reason) (increase(pantau_rows_rejected_total[1h]))", "{{kpi}}: {{reason}}")),
		series("Kegagalan (per jam)", "Penyegaran KPI yang gagal, dan pembacaan target dari penyimpanan pantau yang gagal.", 12, "short",
			prom("A", "sum by (kpi) (increase(pantau_refresh_failures_total[1h]))", "penyegaran {{kpi}}"),
			prom("B", "increase(pantau_target_read_failures_total[1h])", "baca target")),
		series("Target ditolak dan data terlambat (per jam)", "Target yang tidak dapat dipakai (kode wilayah tidak dikenal, profil bulanan tidak sah), dan bulan tertutup yang berubah karena baris datang terlambat.", 12, "short",
			prom("A", "sum by (kpi, reason) (increase(pantau_targets_rejected_total[1h]))", "target {{kpi}}: {{reason}}"),
			prom("B", "sum by (kpi) (increase(pantau_closed_month_changes_total[1h]))", "bulan tertutup berubah {{kpi}}")),
		series("Ukuran eksposisi", "Seri KPI dalam snapshot dan sampel yang diterima Prometheus per scrape.", 12, "short",
			prom("A", "pantau_snapshot_series", "seri KPI"),
			prom("B", `scrape_samples_scraped{job="pantau"}`, "sampel per scrape")),
		series("Durasi scrape", "Waktu Prometheus mengambil /metrics dari pantau.", 12, "s",
			prom("A", `scrape_duration_seconds{job="pantau"}`, "{{instance}}")),
	}
	d := dashboard(KesehatanUID, "Kesehatan pantau",
		"Apakah pantau dan sumber datanya sehat: sumber aktif, durasi kueri, baris ditolak, umur snapshot, kegagalan dan ukuran eksposisi.",
		[]obj{}, panels)
	d["time"] = obj{"from": "now-24h", "to": "now"}
	return Dashboard{File: "kesehatan-pantau.json", JSON: d}
}
