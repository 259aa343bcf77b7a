package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/auth-configs", s.inProject(s.authConfigsPage))
		sf.Handle("POST /projects/{pid}/auth-configs", s.inProject(s.createAuthConfig))
		sf.Handle("POST /projects/{pid}/auth-configs/{id}/enable", s.inProject(s.enableAuthConfig))
		sf.Handle("GET /projects/{pid}/auth-configs/{id}/disable", s.inProject(s.authConfigConfirm("disable")))
		sf.Handle("POST /projects/{pid}/auth-configs/{id}/disable", s.inProject(s.disableAuthConfig))
		sf.Handle("GET /projects/{pid}/auth-configs/{id}/delete", s.inProject(s.authConfigConfirm("delete")))
		sf.Handle("POST /projects/{pid}/auth-configs/{id}/delete", s.inProject(s.deleteAuthConfig))
	})
}

// authConfigsShown caps the listing; the filters narrow it.
const authConfigsShown = 100

// acCred is one stored credential of an auth config, masked by the
// Service when secret.
type acCred struct{ Name, Value string }

// acRow is one auth config as the table shows it.
type acRow struct {
	ID, Name, Toolkit, ToolkitName, Mode string
	Managed, Disabled                    bool
	Credentials                          []acCred
	Connections                          int
	Created                              string
}

// acFormField is one auth-config credential input of the create form.
type acFormField struct {
	Input, ID                               string // the form name and element id
	Name, DisplayName, Description, Default string
	Required, Secret                        bool
	// Value refills the field after a refused form; never for a secret.
	Value string
}

type acFormScheme struct {
	Mode   string
	Fields []acFormField
}

// acForm is the create form for one toolkit.
type acForm struct {
	Toolkit, ToolkitName string
	// DefaultMode is the scheme of a managed auth config, "" when the
	// toolkit has none (every scheme needs the developer's credentials).
	DefaultMode string
	Schemes     []acFormScheme
	// Scheme is the choice: "" for the toolkit's default (managed).
	Scheme string
	Name   string
	// NameDefault is the name given when none is.
	NameDefault string
}

// HasFields reports whether any scheme takes credentials in the auth config.
func (f *acForm) HasFields() bool {
	for _, sc := range f.Schemes {
		if len(sc.Fields) > 0 {
			return true
		}
	}
	return false
}

type acToolkitOption struct{ Slug, Name string }

type authConfigsData struct {
	Rows  []acRow
	Total int // matching the filters, of which Rows are the newest
	// The filters: a substring of the name, and a toolkit slug.
	Search, Toolkit string
	Toolkits        []acToolkitOption
	CanManage       bool
	// New is the create form for the toolkit chosen (?new=slug), nil until
	// one is.
	New *acForm
	// Chosen is the toolkit the chooser shows selected.
	Chosen string
}

// Filtered reports whether the listing is filtered.
func (d *authConfigsData) Filtered() bool { return d.Search != "" || d.Toolkit != "" }

func acRowOf(v *patchbay.AuthConfigView) acRow {
	row := acRow{ID: v.ID, Name: v.Name, Toolkit: v.Toolkit, ToolkitName: v.Toolkit, Mode: string(v.Mode),
		Managed: v.Managed, Disabled: v.Disabled, Connections: v.Connections, Created: when(v.CreatedAt)}
	if v.ToolkitDef != nil {
		row.ToolkitName = v.ToolkitDef.Name
	}
	for k, val := range v.Credentials {
		row.Credentials = append(row.Credentials, acCred{Name: k, Value: val})
	}
	sort.Slice(row.Credentials, func(i, j int) bool { return row.Credentials[i].Name < row.Credentials[j].Name })
	return row
}

// acCredInput is the form name of a scheme's credential field.
func acCredInput(mode patchbay.AuthMode, field string) string {
	return "cred." + string(mode) + "." + field
}

// newAuthConfigForm is the create form for tk; values refill it after a
// refused form (secrets excepted).
func newAuthConfigForm(tk *patchbay.Toolkit, values url.Values) *acForm {
	f := &acForm{Toolkit: tk.Slug, ToolkitName: tk.Name, NameDefault: tk.Name + " Auth Config"}
	if def, err := patchbay.DefaultScheme(tk); err == nil {
		f.DefaultMode = string(def.Mode)
	}
	for i := range tk.AuthSchemes {
		sc := &tk.AuthSchemes[i]
		fs := acFormScheme{Mode: string(sc.Mode)}
		for _, fd := range sc.FieldsFor(patchbay.ScopeAuthConfig) {
			in := acCredInput(sc.Mode, fd.Name)
			ff := acFormField{Input: in, ID: "cred-" + string(sc.Mode) + "-" + fd.Name, Name: fd.Name, DisplayName: fd.DisplayName,
				Description: fd.Description, Required: fd.Required, Secret: fd.Secret}
			if ff.DisplayName == "" {
				ff.DisplayName = fd.Name
			}
			if fd.Default != nil {
				ff.Default = *fd.Default
			}
			if !fd.Secret {
				ff.Value = values.Get(in)
			}
			fs.Fields = append(fs.Fields, ff)
		}
		f.Schemes = append(f.Schemes, fs)
	}
	if values != nil {
		f.Scheme, f.Name = values.Get("scheme"), values.Get("name")
	} else if f.DefaultMode == "" && len(f.Schemes) > 0 {
		f.Scheme = f.Schemes[0].Mode
	}
	return f
}

// authConfigsData reads the listing for the request's filters.
func (s *Server) authConfigsData(r *http.Request, q *req) (*authConfigsData, error) {
	qs := r.URL.Query()
	d := &authConfigsData{Search: strings.TrimSpace(qs.Get("search")), Toolkit: strings.TrimSpace(qs.Get("toolkit")),
		CanManage: patchbay.Allows(q.view.Member.Role, patchbay.ManageAuthConfigs)}
	views, total, err := s.svc.ListAuthConfigs(r.Context(), q.p, patchbay.AuthConfigFilter{Toolkit: d.Toolkit, Search: d.Search,
		ShowDisabled: true, Page: patchbay.Page{Limit: authConfigsShown, Desc: true}})
	if err != nil {
		return nil, err
	}
	d.Total = total
	for _, v := range views {
		d.Rows = append(d.Rows, acRowOf(v))
	}
	tks, err := s.svc.Toolkits(q.p)
	if err != nil {
		return nil, err
	}
	for _, tk := range tks {
		d.Toolkits = append(d.Toolkits, acToolkitOption{Slug: tk.Slug, Name: tk.Name})
	}
	return d, nil
}

func (s *Server) renderAuthConfigs(w http.ResponseWriter, r *http.Request, q *req, status int, d *authConfigsData) error {
	if d.New != nil {
		d.Chosen = d.New.Toolkit
	}
	q.view.Title, q.view.Nav, q.view.Data = "Auth configs", "auth-configs", d
	return s.render(w, r, status, "authconfigs", q.view)
}

// authConfigsPage: GET /projects/{pid}/auth-configs?search=&toolkit=&new=,
// the project's auth configs, and the create form for the toolkit ?new
// names.
func (s *Server) authConfigsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.authConfigsData(r, q)
	if err != nil {
		return err
	}
	if slug := r.URL.Query().Get("new"); slug != "" && d.CanManage {
		tk, err := s.svc.FindToolkit(q.p, slug)
		if err != nil {
			return err
		}
		d.New = newAuthConfigForm(tk, nil)
	}
	return s.renderAuthConfigs(w, r, q, http.StatusOK, d)
}

// createAuthConfig: POST /projects/{pid}/auth-configs {toolkit, scheme,
// name, cred.<MODE>.<field>…}. scheme "" is the toolkit's default
// (managed, with no credentials); otherwise only the chosen scheme's
// fields are sent.
func (s *Server) createAuthConfig(w http.ResponseWriter, r *http.Request, q *req) error {
	form := r.PostForm
	tk, err := s.svc.FindToolkit(q.p, form.Get("toolkit"))
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		d, err := s.authConfigsData(r, q)
		if err != nil {
			return err
		}
		q.view.Error = "Choose a toolkit of the catalog for the new auth config."
		return s.renderAuthConfigs(w, r, q, http.StatusBadRequest, d)
	}
	if err != nil {
		return err
	}
	n := patchbay.NewAuthConfig{Toolkit: tk.Slug, Name: strings.TrimSpace(form.Get("name"))}
	if mode := patchbay.AuthMode(form.Get("scheme")); mode == "" {
		n.Managed = true
	} else {
		n.Mode = mode
		if sc, ok := tk.Scheme(mode); ok {
			n.Credentials = map[string]any{}
			for _, f := range sc.FieldsFor(patchbay.ScopeAuthConfig) {
				if v := strings.TrimSpace(form.Get(acCredInput(mode, f.Name))); v != "" {
					n.Credentials[f.Name] = v
				}
			}
		}
	}
	ac, err := s.svc.CreateAuthConfig(r.Context(), q.p, n)
	if patchbay.ErrorCode(err) == patchbay.EINVALID {
		d, derr := s.authConfigsData(r, q)
		if derr != nil {
			return derr
		}
		q.view.Error = patchbay.ErrorMessage(err)
		d.New = newAuthConfigForm(tk, form)
		return s.renderAuthConfigs(w, r, q, http.StatusBadRequest, d)
	}
	if err != nil {
		return err
	}
	how := "the " + string(ac.Mode) + " scheme (custom)"
	if ac.Managed {
		how = "the toolkit's default scheme, " + string(ac.Mode) + " (managed)"
	}
	return s.redirect(w, r, s.authConfigsPath(q), fmt.Sprintf("Auth config %s (%s) created for %s with %s.", ac.Name, ac.ID, tk.Name, how))
}

func (s *Server) authConfigsPath(q *req) string {
	return "/projects/" + q.p.ProjectID + "/auth-configs"
}

// acConfirmData is what a no-script confirmation page shows.
type acConfirmData struct {
	Action string // "disable" or "delete"
	Row    acRow
}

// authConfigConfirm: GET /projects/{pid}/auth-configs/{id}/{disable,delete},
// the confirmation for browsers without script (with script, the same
// confirmation is a dialog on the listing).
func (s *Server) authConfigConfirm(action string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		v, err := s.svc.AuthConfig(r.Context(), q.p, r.PathValue("id"))
		if err != nil {
			return err
		}
		row := acRowOf(v)
		title := "Delete the auth config " + row.Name + "?"
		if action == "disable" {
			title = "Disable the auth config " + row.Name + "?"
		}
		q.view.Title, q.view.Nav, q.view.Data = title, "auth-configs", acConfirmData{Action: action, Row: row}
		return s.render(w, r, http.StatusOK, "authconfig_confirm", q.view)
	}
}

// enableAuthConfig: POST /projects/{pid}/auth-configs/{id}/enable.
func (s *Server) enableAuthConfig(w http.ResponseWriter, r *http.Request, q *req) error {
	ac, err := s.svc.SetAuthConfigDisabled(r.Context(), q.p, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	return s.redirect(w, r, s.authConfigsPath(q), "Auth config "+ac.Name+" is enabled: users can connect through it, and its accounts run tools again.")
}

// disableAuthConfig: POST /projects/{pid}/auth-configs/{id}/disable.
func (s *Server) disableAuthConfig(w http.ResponseWriter, r *http.Request, q *req) error {
	ac, err := s.svc.SetAuthConfigDisabled(r.Context(), q.p, r.PathValue("id"), true)
	if err != nil {
		return err
	}
	return s.redirect(w, r, s.authConfigsPath(q), "Auth config "+ac.Name+" is disabled: new connections through it are refused, and its accounts cannot run tools until it is enabled.")
}

// deleteAuthConfig: POST /projects/{pid}/auth-configs/{id}/delete. Its
// connected accounts and their credentials go with it.
func (s *Server) deleteAuthConfig(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.svc.AuthConfig(r.Context(), q.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteAuthConfig(r.Context(), q.p, v.ID); err != nil {
		return err
	}
	msg := "Auth config " + v.Name + " is deleted."
	if v.Connections > 0 {
		msg = fmt.Sprintf("Auth config %s is deleted, with its %s.", v.Name, acAccounts(v.Connections))
	}
	return s.redirect(w, r, s.authConfigsPath(q), msg)
}

// Accounts counts the auth config's connected accounts in words.
func (r acRow) Accounts() string { return acAccounts(r.Connections) }

// acAccounts counts connected accounts in words.
func acAccounts(n int) string {
	if n == 1 {
		return "1 connected account"
	}
	return fmt.Sprintf("%d connected accounts", n)
}
