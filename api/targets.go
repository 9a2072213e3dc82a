package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/targetfile"
)

// maxBody bounds a request body: a target is a few hundred bytes.
const maxBody = 64 << 10

// TargetRow is one annual target.
type TargetRow struct {
	KPI        string `json:"kpi"`
	RegionCode string `json:"region_code"`
	RegionName string `json:"region_name"`
	Level      string `json:"level"`
	Year       int    `json:"year"`
	// Target is the annual target of a count KPI, null for a rate KPI.
	Target kpi.Number `json:"target"`
	// Rate is the target rate of a rate KPI, null for a count KPI.
	Rate kpi.Number `json:"rate"`
	// Monthly holds the twelve months' targets of a count KPI (the profile,
	// or the annual target spread evenly); empty for a rate KPI.
	Monthly []float64 `json:"monthly"`
	// HasProfile says the monthly targets were set rather than spread.
	HasProfile bool `json:"has_profile"`
	// ETag is the version to send as If-Match when replacing the target.
	ETag string `json:"etag"`
}

// targetETag names a target's values: a write sends it back in If-Match
// to replace only the version it saw.
func targetETag(t *kpi.Target) string {
	if t == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%v|%v|%v", t.KPI, t.Region, t.Year, t.Annual, t.Rate, t.Profile)
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

func (a *API) targetRow(h *kpi.Hierarchy, t kpi.Target) TargetRow {
	reg, _ := h.Lookup(t.Region)
	lvl, _ := kpi.CodeLevel(t.Region)
	row := TargetRow{KPI: t.KPI, RegionCode: t.Region, RegionName: reg.Name, Level: lvl.String(), Year: t.Year,
		Monthly: []float64{}, HasProfile: t.Profile != nil, ETag: targetETag(&t)}
	if def, ok := a.spec().KPI(t.KPI); ok && def.Kind == kpi.KindRate {
		row.Rate = kpi.Some(t.Rate)
		return row
	}
	row.Target = kpi.Some(t.Annual)
	plan := kpi.PlanFor(t)
	for m := time.January; m <= time.December; m++ {
		row.Monthly = append(row.Monthly, plan.Monthly(m))
	}
	return row
}

func (a *API) targets(r *request) error {
	ks, err := r.kpis()
	if err != nil {
		return err
	}
	year := 0
	if v := r.Query("year"); v != "" {
		if year, err = strconv.Atoi(v); err != nil || year < targetfile.MinYear || year > targetfile.MaxYear {
			return badParam("year", "%q: a year from %d to %d", v, targetfile.MinYear, targetfile.MaxYear)
		}
	}
	parent := r.scope()
	if p := r.Query("parent"); p != "" {
		if _, err := r.region("parent", p); err != nil {
			return err
		}
		parent = p
	}
	r.fromStore = true
	rows := []TargetRow{}
	for _, st := range ks {
		ts, err := a.opts.Store.ListTargets(r.Request.Context(), store.TargetFilter{KPI: st.Def.ID, Year: year})
		if err != nil {
			return err
		}
		for _, t := range ts {
			if kpi.Contains(parent, t.Region) && kpi.Contains(r.scope(), t.Region) {
				rows = append(rows, a.targetRow(r.snap.Hierarchy, t))
			}
		}
	}
	return r.reply(http.StatusOK, rows)
}

// targetKey reads the path's KPI, region and year.
func (r *request) targetKey() (kpi.Target, error) {
	t := kpi.Target{KPI: r.Param("kpi"), Region: r.Param("region")}
	if _, ok := r.a.spec().KPI(t.KPI); !ok {
		return t, errorf(http.StatusNotFound, "unknown_kpi", "kpi %q is not in the spec (%s)", t.KPI, strings.Join(r.a.spec().KPIIDs(), ", "))
	}
	if _, err := r.region("region", t.Region); err != nil {
		return t, err
	}
	y, err := strconv.Atoi(r.Param("year"))
	if err != nil || y < targetfile.MinYear || y > targetfile.MaxYear {
		return t, badParam("year", "%q: a year from %d to %d", r.Param("year"), targetfile.MinYear, targetfile.MaxYear)
	}
	t.Year = y
	return t, nil
}

func (r *request) currentTarget(key kpi.Target) (*kpi.Target, error) {
	ts, err := r.a.opts.Store.ListTargets(r.Request.Context(), store.TargetFilter{KPI: key.KPI, Region: key.Region, Year: key.Year})
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return &ts[0], nil
}

func (a *API) target(r *request) error {
	key, err := r.targetKey()
	if err != nil {
		return err
	}
	r.fromStore = true
	cur, err := r.currentTarget(key)
	if err != nil {
		return err
	}
	if cur == nil {
		return errorf(http.StatusNotFound, "no_target", "%s has no target for %s in %d", key.KPI, key.Region, key.Year)
	}
	r.etag = targetETag(cur)
	return r.reply(http.StatusOK, a.targetRow(r.snap.Hierarchy, *cur))
}

// TargetPut is the body of PUT targets/{kpi}/{region}/{year}.
type TargetPut struct {
	// Target is the annual target of a count KPI.
	Target *float64 `json:"target"`
	// Rate is the target rate of a rate KPI (0.95).
	Rate *float64 `json:"rate"`
	// Profile is an optional monthly profile of a count target: twelve
	// numbers adding up to Target.
	Profile []float64 `json:"profile"`
	// Reason goes to the audit trail, like the decree the target comes from.
	Reason string `json:"reason"`
}

// errStale is returned by the precondition when the target changed since
// the client read it.
var errStale = errors.New("stale")

func (a *API) putTarget(r *request) error {
	key, err := r.targetKey()
	if err != nil {
		return err
	}
	var body TargetPut
	dec := json.NewDecoder(http.MaxBytesReader(r.Writer, r.Request.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "too_large", "the body is larger than %d bytes", maxBody)
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return errorf(http.StatusRequestTimeout, "timeout", "the body did not arrive within the server's read timeout; send it at once")
		}
		return errorf(http.StatusBadRequest, "bad_body", "the body must be JSON like {\"target\": 70, \"reason\": \"SK 12/2026\"} or {\"rate\": 0.95}: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "bad_body", "the body must hold one JSON object")
	}
	if body.Profile != nil && len(body.Profile) != 12 {
		return errorf(http.StatusBadRequest, "bad_body", "profile: twelve monthly numbers, January first; got %d", len(body.Profile))
	}
	for _, f := range append([]*float64{body.Target, body.Rate}, ptrs(body.Profile)...) {
		if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return errorf(http.StatusBadRequest, "bad_body", "numbers must be finite")
		}
	}
	row := targetfile.ValueRow(key.Region, key.KPI, key.Year, body.Target, body.Rate, body.Profile)
	ts, problems := targetfile.Validate([]targetfile.Row{row}, a.spec(), a.opts.Regions)
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			p.Row = 0
			msgs[i] = p.String()
		}
		return errorf(http.StatusBadRequest, "invalid_target", "%s", strings.Join(msgs, "; "))
	}
	ifMatch := r.GetHeader("If-Match")
	existed := false
	ch := store.Change{Target: ts[0], Precondition: func(cur *kpi.Target) error {
		existed = cur != nil
		if ifMatch == "" {
			return nil
		}
		if cur == nil || !etagMatches(ifMatch, targetETag(cur)) {
			return errStale
		}
		return nil
	}}
	reason := body.Reason
	if reason == "" {
		reason = "PUT " + Prefix + "/targets"
	}
	by := "api token " + r.token.Name
	r.fromStore = true
	if _, err := a.opts.Store.ApplyTargets(r.Request.Context(), []store.Change{ch}, by, reason); err != nil {
		if errors.Is(err, errStale) {
			return errorf(http.StatusConflict, "stale", "the target changed since it was read (If-Match %s); GET it again and reapply the change", ifMatch)
		}
		return err
	}
	r.etag = targetETag(&ts[0])
	status := http.StatusOK
	if !existed {
		status = http.StatusCreated
	}
	return r.reply(status, a.targetRow(r.snap.Hierarchy, ts[0]))
}

func ptrs(fs []float64) []*float64 {
	out := make([]*float64, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

// AuditRow is one change to a target.
type AuditRow struct {
	ID         int64      `json:"id"`
	KPI        string     `json:"kpi"`
	RegionCode string     `json:"region_code"`
	RegionName string     `json:"region_name"`
	Year       int        `json:"year"`
	Action     string     `json:"action"`
	ChangedAt  Time       `json:"changed_at"`
	ChangedBy  string     `json:"changed_by"`
	Reason     string     `json:"reason"`
	OldTarget  kpi.Number `json:"old_target"`
	OldRate    kpi.Number `json:"old_rate"`
	NewTarget  kpi.Number `json:"new_target"`
	NewRate    kpi.Number `json:"new_rate"`
}

func (a *API) audit(r *request) error {
	f := store.AuditFilter{}
	if ids := r.list("kpi"); len(ids) > 0 {
		ks, err := r.oneKPI()
		if err != nil {
			return err
		}
		f.KPI = ks.Def.ID
	}
	if v := r.Query("region"); v != "" {
		if _, err := r.region("region", v); err != nil {
			return err
		}
		f.Region = v
	}
	if v := r.Query("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < targetfile.MinYear || y > targetfile.MaxYear {
			return badParam("year", "%q: a year from %d to %d", v, targetfile.MinYear, targetfile.MaxYear)
		}
		f.Year = y
	}
	limit, err := r.limit(100)
	if err != nil {
		return err
	}
	scoped := r.scope() != kpi.NationalCode && f.Region == ""
	if !scoped {
		f.Limit = limit
	}
	r.fromStore = true
	entries, err := a.opts.Store.Audit(r.Request.Context(), f)
	if err != nil {
		return err
	}
	rows := []AuditRow{}
	for _, e := range entries {
		if !kpi.Contains(r.scope(), e.Region) || len(rows) == limit {
			continue
		}
		reg, _ := r.snap.Hierarchy.Lookup(e.Region)
		row := AuditRow{ID: e.ID, KPI: e.KPI, RegionCode: e.Region, RegionName: reg.Name, Year: e.Year,
			Action: string(e.Action), ChangedAt: a.at(e.ChangedAt), ChangedBy: e.ChangedBy, Reason: e.Reason}
		row.OldTarget, row.OldRate = a.values(e.KPI, e.Old)
		row.NewTarget, row.NewRate = a.values(e.KPI, e.New)
		rows = append(rows, row)
	}
	return r.reply(http.StatusOK, rows)
}

// values splits a target version into its count target and its rate, one
// of them null by the KPI's kind; both null when there is no version.
func (a *API) values(id string, t *kpi.Target) (target, rate kpi.Number) {
	if t == nil {
		return kpi.None, kpi.None
	}
	if def, ok := a.spec().KPI(id); ok && def.Kind == kpi.KindRate {
		return kpi.None, kpi.Some(t.Rate)
	}
	return kpi.Some(t.Annual), kpi.None
}
