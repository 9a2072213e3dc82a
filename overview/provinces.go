package overview

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// provinceShape is one province drawn as an SVG path.
type provinceShape struct {
	Code, Name string
	D          string // the path data
}

// provinceMap is the provinces projected once for the national page.
type provinceMap struct {
	Width, Height int
	Shapes        []provinceShape
}

// mapWidth is the map's width in SVG units: one unit is about 5 km, finer
// than a phone or a projector shows at full width.
const mapWidth = 1000

// projectProvinces turns the GeoJSON's MultiPolygons into SVG paths:
// equirectangular with longitudes shrunk by cos(lat0), which keeps
// Indonesia (11°S to 6°N) within a few percent of its true shape. Points
// that round to the previous one are dropped, and so are rings that
// collapse to fewer than three points (islets smaller than a unit).
func projectProvinces(geojson []byte) (*provinceMap, error) {
	var fc struct {
		Features []struct {
			Properties struct {
				Code string `json:"KODE_PROV"`
				Name string `json:"PROVINSI"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(geojson, &fc); err != nil {
		return nil, fmt.Errorf("province boundaries: %w", err)
	}
	type feature struct {
		code, name string
		polys      [][][][2]float64
	}
	var feats []feature
	minLon, maxLon, minLat, maxLat := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, f := range fc.Features {
		var polys [][][][2]float64
		switch f.Geometry.Type {
		case "MultiPolygon":
			if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
				return nil, fmt.Errorf("province %s: %w", f.Properties.Code, err)
			}
		case "Polygon":
			var p [][][2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil {
				return nil, fmt.Errorf("province %s: %w", f.Properties.Code, err)
			}
			polys = [][][][2]float64{p}
		default:
			return nil, fmt.Errorf("province %s: geometry %q, want a Polygon or MultiPolygon", f.Properties.Code, f.Geometry.Type)
		}
		for _, p := range polys {
			for _, ring := range p {
				for _, pt := range ring {
					minLon, maxLon = min(minLon, pt[0]), max(maxLon, pt[0])
					minLat, maxLat = min(minLat, pt[1]), max(maxLat, pt[1])
				}
			}
		}
		feats = append(feats, feature{f.Properties.Code, f.Properties.Name, polys})
	}
	if len(feats) == 0 {
		return nil, fmt.Errorf("province boundaries: no features")
	}
	kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	scale := mapWidth / ((maxLon - minLon) * kx)
	m := &provinceMap{Width: mapWidth, Height: int(math.Ceil((maxLat - minLat) * scale))}
	for _, f := range feats {
		var d strings.Builder
		for _, p := range f.polys {
			for _, ring := range p {
				var pts [][2]int
				for _, pt := range ring {
					q := [2]int{int(math.Round((pt[0] - minLon) * kx * scale)), int(math.Round((maxLat - pt[1]) * scale))}
					if len(pts) == 0 || q != pts[len(pts)-1] {
						pts = append(pts, q)
					}
				}
				if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
					pts = pts[:len(pts)-1]
				}
				if len(pts) < 3 {
					continue
				}
				for i, q := range pts {
					if i == 0 {
						d.WriteByte('M')
					} else {
						d.WriteByte('L')
					}
					d.WriteString(strconv.Itoa(q[0]))
					d.WriteByte(' ')
					d.WriteString(strconv.Itoa(q[1]))
				}
				d.WriteByte('Z')
			}
		}
		m.Shapes = append(m.Shapes, provinceShape{Code: f.code, Name: f.name, D: d.String()})
	}
	return m, nil
}
