package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// This file reads dashboards back the way Grafana does, for the tests
// here and the end-to-end test that runs every panel's query.

// Loaded is a dashboard file as Grafana reads it.
type Loaded struct {
	File string
	Raw  map[string]any
}

// LoadFiles reads every dashboard JSON file in dir.
func LoadFiles(dir string) ([]Loaded, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Loaded
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		out = append(out, Loaded{File: filepath.Base(f), Raw: raw})
	}
	return out, nil
}

// Panels returns a dashboard's panels, those inside rows included.
func Panels(d map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := d["panels"].([]any)
	for _, p := range list {
		m := p.(map[string]any)
		out = append(out, m)
		if inner, ok := m["panels"].([]any); ok {
			for _, ip := range inner {
				out = append(out, ip.(map[string]any))
			}
		}
	}
	return out
}

// Targets returns a panel's queries.
func Targets(p map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := p["targets"].([]any)
	for _, t := range list {
		out = append(out, t.(map[string]any))
	}
	return out
}

// Variables returns a dashboard's template variables.
func Variables(d map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := d["templating"].(map[string]any)["list"].([]any)
	for _, v := range list {
		out = append(out, v.(map[string]any))
	}
	return out
}
