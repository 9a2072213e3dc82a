package overview

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/kpi"
)

//go:embed templates
var templateFiles embed.FS

var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(styleSheet) },
}).ParseFS(templateFiles, "templates/page.html"))

var styleSheet = func() string {
	b, err := templateFiles.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// provinces is the national map, projected on first use.
var provinces = sync.OnceValues(func() (*provinceMap, error) { return projectProvinces(api.ProvinceBoundaries()) })

// TokenCookie holds the token a page was opened with.
const TokenCookie = "pantau_token"

// Options configure the pages.
type Options struct {
	// Reader is the JSON API's reader: snapshot, progress, history, tokens.
	Reader *api.Reader
	// Root is the region this pantau collects (serve --region); "" is the
	// nation. Pages open on it, or on a token's narrower scope.
	Root string
	// Ready reports whether every KPI has refreshed successfully once.
	Ready  func() bool
	Logger *slog.Logger
}

// Overview serves the pages.
type Overview struct{ opts Options }

// New builds the pages.
func New(opts Options) (*Overview, error) {
	if opts.Reader == nil {
		return nil, errors.New("overview: a reader is required")
	}
	if opts.Root == "" {
		opts.Root = kpi.NationalCode
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if _, err := provinces(); err != nil {
		return nil, err
	}
	return &Overview{opts: opts}, nil
}

// Mount registers the pages on mux: / (the landing region), /wilayah/{code},
// and the token form's POST /masuk and POST /keluar.
func (o *Overview) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { o.serve(w, r, "") })
	mux.HandleFunc("GET /wilayah/{code}", func(w http.ResponseWriter, r *http.Request) { o.serve(w, r, r.PathValue("code")) })
	mux.HandleFunc("POST /masuk", o.login)
	mux.HandleFunc("POST /keluar", o.logout)
}

// viewer is who opens a page: the token's scope and name, or the nation
// for an open pantau.
type viewer struct {
	scope, name string
}

// pageError is a page that says what went wrong, with its status.
type pageError struct {
	status  int
	message string
}

func (e *pageError) Error() string { return e.message }

// apiMessages say the API's error codes in Indonesian.
var apiMessages = map[string]string{
	"bad_parameter":  "Kode wilayah tidak sah.",
	"unknown_region": "Wilayah ini tidak dikenal atau tidak dipantau oleh pantau ini.",
	"forbidden":      "Token Anda tidak berhak membuka wilayah ini.",
	"not_ready":      "Menunggu pembaruan pertama…",
	"unauthorized":   "Token tidak dikenal atau sudah dicabut.",
}

// asPageError turns the reader's errors into pages; others are internal.
func asPageError(err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		msg, ok := apiMessages[ae.Code]
		if !ok {
			msg = ae.Message
		}
		return &pageError{status: ae.Status, message: msg}
	}
	return nil
}

// authenticate reads the token cookie. Without a cookie an open pantau
// shows the nation; otherwise the page asks for a token.
func (o *Overview) authenticate(ctx context.Context, r *http.Request) (viewer, *pageError, error) {
	c, err := r.Cookie(TokenCookie)
	if err != nil || c.Value == "" {
		switch {
		case o.opts.Reader.OpenRead():
			return viewer{scope: kpi.NationalCode}, nil, nil
		case !o.opts.Reader.HasTokens():
			return viewer{}, &pageError{status: http.StatusUnauthorized, message: "Halaman ini memerlukan token, tetapi pantau ini berjalan tanpa store, tempat token disimpan. " +
				"Jalankan pantau serve dengan --store (lalu pantau token create), atau dengan --api-open-read agar dapat dibaca tanpa token."}, nil
		}
		return viewer{}, &pageError{status: http.StatusUnauthorized, message: "Masukkan token untuk membuka halaman ini."}, nil
	}
	t, err := o.opts.Reader.Token(ctx, c.Value)
	if err != nil {
		if pe := asPageError(err); pe != nil {
			return viewer{}, pe, nil
		}
		return viewer{}, nil, err
	}
	v := viewer{scope: t.Scope, name: t.Name}
	if v.scope == "" {
		v.scope = kpi.NationalCode
	}
	return v, nil, nil
}

// crossSite reports a form posted from another site's page, which must
// not log the browser in or out: browsers send Origin with every POST.
func crossSite(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

func (o *Overview) login(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		o.render(w, r, http.StatusForbidden, &page{Title: "Galat", Message: "Formulir ini hanya dapat dikirim dari halaman pantau sendiri."})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		o.render(w, r, http.StatusBadRequest, &page{Title: "Masuk", Login: true, Message: "Isi token terlebih dahulu."})
		return
	}
	if _, err := o.opts.Reader.Token(r.Context(), token); err != nil {
		if pe := asPageError(err); pe != nil {
			o.render(w, r, pe.status, &page{Title: "Masuk", Login: true, Message: pe.message})
			return
		}
		o.internal(w, r, err)
		return
	}
	http.SetCookie(w, tokenCookie(r, token, 0))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (o *Overview) logout(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		o.render(w, r, http.StatusForbidden, &page{Title: "Galat", Message: "Formulir ini hanya dapat dikirim dari halaman pantau sendiri."})
		return
	}
	http.SetCookie(w, tokenCookie(r, "", -1))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// tokenCookie keeps the token from scripts (HttpOnly) and other sites'
// requests (SameSite=Strict), and off plain HTTP when pantau serves TLS.
// It lasts for the browser's session.
func tokenCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: TokenCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
}

// landing is the region a viewer's / opens: the deeper of the token's
// scope and what this pantau collects.
func (o *Overview) landing(v viewer) (string, *pageError) {
	switch root := o.opts.Root; {
	case kpi.Contains(root, v.scope):
		return v.scope, nil
	case kpi.Contains(v.scope, root):
		return root, nil
	}
	return "", &pageError{status: http.StatusForbidden, message: "Token Anda untuk wilayah " + v.scope + ", dan pantau ini memantau " + o.opts.Root + "."}
}

func (o *Overview) serve(w http.ResponseWriter, r *http.Request, code string) {
	v, pe, err := o.authenticate(r.Context(), r)
	if err != nil {
		o.internal(w, r, err)
		return
	}
	if pe != nil {
		if pe.status == http.StatusUnauthorized {
			if _, err := r.Cookie(TokenCookie); err == nil {
				http.SetCookie(w, tokenCookie(r, "", -1)) // a revoked token should not be sent again
			}
			o.render(w, r, pe.status, &page{Title: "Masuk", Login: true, Message: pe.message})
			return
		}
		o.render(w, r, pe.status, &page{Title: "Galat", Message: pe.message})
		return
	}
	if code == "" {
		if code, pe = o.landing(v); pe != nil {
			o.render(w, r, pe.status, &page{Title: "Galat", Message: pe.message, Viewer: v.name})
			return
		}
	}
	snap, err := o.opts.Reader.Snapshot()
	if err != nil {
		w.Header().Set("Retry-After", "5")
		o.render(w, r, http.StatusServiceUnavailable, &page{Title: "Menunggu", Waiting: true, Viewer: v.name})
		return
	}
	p, err := o.build(r.Context(), snap, v, code, r.URL.Query())
	if err != nil {
		if pe := asPageError(err); pe != nil {
			o.render(w, r, pe.status, &page{Title: "Galat", Message: pe.message, Viewer: v.name})
			return
		}
		o.internal(w, r, err)
		return
	}
	o.render(w, r, http.StatusOK, p)
}

func (o *Overview) internal(w http.ResponseWriter, r *http.Request, err error) {
	o.opts.Logger.Error("overview page", "path", r.URL.Path, "err", err)
	o.render(w, r, http.StatusInternalServerError, &page{Title: "Galat", Message: "Terjadi kesalahan di pantau; rinciannya ada di log pantau."})
}

func (o *Overview) render(w http.ResponseWriter, r *http.Request, status int, p *page) {
	// The security headers (CSP, nosniff, framing) are httpserve's, for
	// every answer of the listener.
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		// The page holds one viewer's regions: no shared cache may keep it.
		h.Set("Cache-Control", "private, no-cache")
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := pageTemplate.Execute(w, p); err != nil {
		o.opts.Logger.Warn("overview page", "path", r.URL.Path, "err", err)
	}
}

// wib formats an instant for people, in Jakarta time whatever the server's
// zone.
func wib(t time.Time) string { return t.In(kpi.WIB).Format("2006-01-02 15:04:05") + " WIB" }

// regionHref is a region's page, keeping the chosen KPI and colouring.
func regionHref(code string, q pageQuery) string {
	return "/wilayah/" + code + q.encode()
}
