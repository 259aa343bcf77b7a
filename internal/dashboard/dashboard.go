// Package dashboard is patchbay's web dashboard: server-rendered pages
// (html/template, assets embedded, a few lines of dependency-free script)
// where a team signs in and runs its project. It is a surface like the
// API: every page calls the Service with the signed-in member as the
// principal, and never reaches a store.
//
// Sessions are cookies holding a random token (HttpOnly, SameSite=Lax,
// Secure behind TLS); every state-changing request carries the session's
// CSRF token in its form and must come from the dashboard's own origin.
package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires a Server.
type Config struct {
	Service *patchbay.Service
	Log     *slog.Logger
	Now     func() time.Time
	// SignInsPerMinute limits sign-in attempts per client address
	// (default 10).
	SignInsPerMinute int
}

// Server is the dashboard surface.
type Server struct {
	svc     *patchbay.Service
	log     *slog.Logger
	now     func() time.Time
	pages   map[string]*template.Template
	signins *httpserver.Limiter
}

// Cookie names.
const (
	sessionCookie = "pb_session"
	flashCookie   = "pb_flash"
)

// New returns a dashboard for cfg. It panics if the embedded templates do
// not parse, which the package's tests rule out.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, log: cfg.Log, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	per := cfg.SignInsPerMinute
	if per == 0 {
		per = 10
	}
	s.signins = httpserver.NewLimiter(per, s.now)
	s.pages = parsePages()
	return s
}

// when shows a time the way every page does, "never" for none.
func when(t any) string {
	switch x := t.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if x == nil {
			return "never"
		}
		return x.UTC().Format("2006-01-02 15:04 UTC")
	}
	return ""
}

var funcs = template.FuncMap{"when": when, "lower": strings.ToLower, "join": strings.Join}

// parsePages builds one template set per page: the layout and the page's
// own file, so that pages may define the same blocks.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return out
}

// Mount puts the dashboard's paths on hs: its pages and its assets. API
// paths stay with the API surfaces.
func (s *Server) Mount(hs *httpserver.Server) {
	sf := httpserver.NewSurface(s.log, s.failPage)
	s.routes(sf)
	hs.Mount(sf, "/{$}", "/signin", "/signup", "/signout", "/projects/", "/org/", "/static/")
}

func (s *Server) routes(sf *httpserver.Surface) {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	sf.Handle("GET /static/", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
		return nil
	})
	sf.Handle("GET /{$}", s.signedIn(s.home))
	sf.Handle("GET /signin", s.signInPage)
	sf.Handle("POST /signin", s.signIn)
	sf.Handle("POST /signout", s.signedIn(s.signOut))
	sf.Handle("GET /signup", s.signUpPage)
	sf.Handle("POST /signup", s.signUp)

	sf.Handle("GET /projects/{$}", s.signedIn(s.switchProject))
	sf.Handle("GET /projects/{pid}/keys", s.inProject(s.keysPage))
	sf.Handle("POST /projects/{pid}/keys", s.inProject(s.createKey))
	sf.Handle("GET /projects/{pid}/keys/{id}/revoke", s.inProject(s.revokePage))
	sf.Handle("POST /projects/{pid}/keys/{id}/revoke", s.inProject(s.revokeKey))
	s.moreRoutes(sf)
}

// view is what every page's template receives.
type view struct {
	Title    string
	Nav      string // the active section
	Member   *patchbay.Member
	CSRF     string
	Projects []*patchbay.ProjectView
	Project  *patchbay.ProjectView
	Orgs     []patchbay.OrgChoice // the organizations the member's email belongs to
	Flash    string
	Error    string
	Data     any
}

// CanManage reports whether the member may administer (owners, admins).
func (v *view) CanManage() bool {
	return v.Member != nil && patchbay.Allows(v.Member.Role, patchbay.ManageAPIKeys)
}

// req is a signed-in request: the principal (bound to the page's project
// where the path names one) and its session.
type req struct {
	p       *patchbay.Principal
	session *patchbay.Session
	view    *view
}

type pageFunc func(w http.ResponseWriter, r *http.Request, q *req) error

// signedIn runs h for a signed-in member, and sends anyone else to the
// sign-in page. A state-changing request must carry the session's CSRF
// token and come from this origin.
func (s *Server) signedIn(h pageFunc) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q, err := s.session(r)
		if err != nil {
			if patchbay.ErrorCode(err) == patchbay.EUNAUTHORIZED {
				if r.Method == http.MethodGet {
					s.setFlash(w, r, patchbay.ErrorMessage(err))
					http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return nil
				}
				return err
			}
			return err
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := checkForm(r, q.session); err != nil {
				return err
			}
		}
		q.view.Flash = s.takeFlash(w, r)
		return h(w, r, q)
	}
}

// inProject is signedIn for paths under /projects/{pid}/: the principal
// is bound to that project (ENOTFOUND outside the member's organization).
func (s *Server) inProject(h pageFunc) httpserver.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, q *req) error {
		p, err := s.svc.InProject(r.Context(), q.p, r.PathValue("pid"))
		if err != nil {
			return err
		}
		q.p, q.view.Project = p, p.Project
		return h(w, r, q)
	})
}

func (s *Server) session(r *http.Request) (*req, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, patchbay.Errorf(patchbay.EUNAUTHORIZED, "Sign in to continue.")
	}
	p, sess, err := s.svc.SessionPrincipal(r.Context(), c.Value, httpserver.ClientIP(r))
	if err != nil {
		return nil, err
	}
	projects, _, err := s.svc.ListProjects(r.Context(), p, "", 100)
	if err != nil {
		return nil, err
	}
	orgs, err := s.svc.Organizations(r.Context(), p)
	if err != nil {
		return nil, err
	}
	m := p.Member
	return &req{p: p, session: sess, view: &view{Member: &m, CSRF: sess.CSRF, Projects: projects, Orgs: orgs}}, nil
}

// checkForm refuses a state-changing request without the session's CSRF
// token, or from another origin.
func checkForm(r *http.Request, sess *patchbay.Session) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	if !patchbay.SameCSRF(sess, r.PostFormValue("csrf")) {
		return patchbay.Errorf(patchbay.EFORBIDDEN, "This form has expired or did not come from the dashboard: reload the page and try again.")
	}
	return nil
}

// sameOrigin refuses a form another site's page sent (also for sign-in
// and sign-up, which no session protects yet).
func sameOrigin(r *http.Request) error {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return patchbay.Errorf(patchbay.EFORBIDDEN, "This form was sent from another site, so it was refused.")
		}
	}
	return nil
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("dashboard: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("dashboard: render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// failPage is the dashboard's error envelope: a page saying what went
// wrong, with the member's navigation when there is a session.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, f *httpserver.Failure) {
	v := &view{Title: http.StatusText(f.Status), Error: f.Message}
	if f.Status >= 500 {
		v.Error = "Something went wrong on our side (request " + f.RequestID + ")."
	}
	if q, err := s.session(r); err == nil {
		q.view.Title, q.view.Error = v.Title, v.Error
		v = q.view
	}
	if err := s.render(w, r, f.Status, "error", v); err != nil {
		s.log.Error("render the error page", "err", err)
	}
}

// redirect answers a form with a redirect that shows msg on the next page.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		s.setFlash(w, r, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(patchbay.Truncate(msg, 300)), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r), MaxAge: 60})
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return msg
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string, sess *patchbay.Session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), Expires: sess.ExpiresAt, MaxAge: int(sess.ExpiresAt.Sub(s.now()).Seconds())})
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
}

// switchProject: GET /projects/?project=ID, the switcher's form.
func (s *Server) switchProject(w http.ResponseWriter, r *http.Request, q *req) error {
	p, err := s.svc.InProject(r.Context(), q.p, r.URL.Query().Get("project"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/projects/"+p.ProjectID+"/keys", http.StatusSeeOther)
	return nil
}

// home sends a member to the first project's keys.
func (s *Server) home(w http.ResponseWriter, r *http.Request, q *req) error {
	if len(q.view.Projects) == 0 {
		return patchbay.Errorf(patchbay.ENOTFOUND, "Your organization has no project yet: create one with `patchbay projects create`.")
	}
	if q.view.Flash != "" {
		s.setFlash(w, r, q.view.Flash) // for the page this leads to
	}
	http.Redirect(w, r, "/projects/"+q.view.Projects[0].Project.ID+"/keys", http.StatusSeeOther)
	return nil
}

// sections are the pages beyond sign-in and keys; each page's file adds
// its routes here from an init function, so pages stay one file each.
var sections []func(s *Server, sf *httpserver.Surface)

func (s *Server) moreRoutes(sf *httpserver.Surface) {
	for _, add := range sections {
		add(s, sf)
	}
}
