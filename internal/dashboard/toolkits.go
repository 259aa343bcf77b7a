package dashboard

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/toolkits", s.inProject(s.toolkitsPage))
		sf.Handle("GET /projects/{pid}/toolkits/{slug}", s.inProject(s.toolkitPage))
	})
}

// tkField is one input of an auth scheme as the toolkit pages show it.
type tkField struct {
	Name, DisplayName, Description, Default string
	Required, Secret                        bool
	// AuthConfig: supplied in the project's auth config (an OAuth client
	// secret); otherwise by the end user when connecting (an API key).
	AuthConfig bool
}

// tkScheme is one way to authenticate to a toolkit, its fields split by
// who supplies them.
type tkScheme struct {
	Mode string
	// Default: the scheme a managed auth config of the toolkit uses.
	Default          bool
	AuthConfigFields []tkField
	ConnectionFields []tkField
}

// Fields lists every field, auth-config fields first.
func (sc tkScheme) Fields() []tkField {
	return append(slices.Clone(sc.AuthConfigFields), sc.ConnectionFields...)
}

// tkRow is one toolkit of the catalog.
type tkRow struct {
	Slug, Name, Description, AppURL string
	Categories                      []string // names
	Schemes                         []tkScheme
	Tools                           int
}

type tkCategory struct{ Slug, Name string }

type toolkitsData struct {
	Toolkits   []tkRow
	Total      int // toolkits in the catalog
	Categories []tkCategory
	// The filters: a substring of the name or slug, and a category slug.
	Search, Category string
}

// tkToolRow is one tool of a toolkit.
type tkToolRow struct {
	Slug, Name, Description string
	Important               bool
}

type toolkitData struct {
	Toolkit tkRow
	Tools   []tkToolRow
	// AllTools is the toolkit's number of tools, whatever the filters.
	AllTools int
	// The tool filters: words of the slug, name or description, and only
	// the important ones.
	Search    string
	Important bool
	// AuthConfigs is how many auth configs of the project use the toolkit.
	AuthConfigs int
	CanManage   bool // may create auth configs
}

func toolkitRow(tk *patchbay.Toolkit) tkRow {
	row := tkRow{Slug: tk.Slug, Name: tk.Name, Description: tk.Description, AppURL: tk.AppURL}
	for _, c := range tk.Categories {
		row.Categories = append(row.Categories, c.Name)
	}
	def, _ := patchbay.DefaultScheme(tk)
	for i := range tk.AuthSchemes {
		sc := &tk.AuthSchemes[i]
		out := tkScheme{Mode: string(sc.Mode), Default: def != nil && def.Mode == sc.Mode}
		for _, f := range sc.Fields {
			tf := tkField{Name: f.Name, DisplayName: f.DisplayName, Description: f.Description,
				Required: f.Required, Secret: f.Secret, AuthConfig: f.Scope == patchbay.ScopeAuthConfig}
			if f.Default != nil {
				tf.Default = *f.Default
			}
			if tf.AuthConfig {
				out.AuthConfigFields = append(out.AuthConfigFields, tf)
			} else {
				out.ConnectionFields = append(out.ConnectionFields, tf)
			}
		}
		row.Schemes = append(row.Schemes, out)
	}
	return row
}

// toolCount is how many tools the catalog has for a toolkit.
func (s *Server) toolCount(q *req, slug string) (int, error) {
	_, n, err := s.svc.Tools(q.p, patchbay.ToolFilter{Toolkits: []string{slug}})
	return n, err
}

// toolkitsPage: GET /projects/{pid}/toolkits?search=&category=, the
// catalog.
func (s *Server) toolkitsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	all, err := s.svc.Toolkits(q.p)
	if err != nil {
		return err
	}
	d := toolkitsData{Total: len(all), Search: strings.TrimSpace(r.URL.Query().Get("search")),
		Category: strings.TrimSpace(r.URL.Query().Get("category"))}
	search := strings.ToLower(d.Search)
	cats := map[string]string{}
	for _, tk := range all {
		inCategory := d.Category == ""
		for _, c := range tk.Categories {
			cats[c.Slug] = c.Name
			inCategory = inCategory || strings.EqualFold(c.Slug, d.Category)
		}
		if !inCategory || search != "" && !strings.Contains(strings.ToLower(tk.Name), search) && !strings.Contains(tk.Slug, search) {
			continue
		}
		row := toolkitRow(tk)
		if row.Tools, err = s.toolCount(q, tk.Slug); err != nil {
			return err
		}
		d.Toolkits = append(d.Toolkits, row)
	}
	for slug, name := range cats {
		d.Categories = append(d.Categories, tkCategory{Slug: slug, Name: name})
	}
	sort.Slice(d.Categories, func(i, j int) bool { return d.Categories[i].Name < d.Categories[j].Name })
	q.view.Title, q.view.Nav, q.view.Data = "Toolkits", "toolkits", d
	return s.render(w, r, http.StatusOK, "toolkits", q.view)
}

// toolkitPage: GET /projects/{pid}/toolkits/{slug}?search=&important=1,
// one toolkit: how to authenticate to it, and its tools.
func (s *Server) toolkitPage(w http.ResponseWriter, r *http.Request, q *req) error {
	tk, err := s.svc.FindToolkit(q.p, r.PathValue("slug"))
	if err != nil {
		return err
	}
	d := toolkitData{Toolkit: toolkitRow(tk), Search: strings.TrimSpace(r.URL.Query().Get("search")),
		Important: r.URL.Query().Get("important") != "",
		CanManage: patchbay.Allows(q.view.Member.Role, patchbay.ManageAuthConfigs)}
	if d.AllTools, err = s.toolCount(q, tk.Slug); err != nil {
		return err
	}
	tools, _, err := s.svc.Tools(q.p, patchbay.ToolFilter{Toolkits: []string{tk.Slug}, Search: d.Search, Important: d.Important})
	if err != nil {
		return err
	}
	for _, t := range tools {
		d.Tools = append(d.Tools, tkToolRow{Slug: t.Slug, Name: t.Name, Description: t.Description, Important: t.Important()})
	}
	d.Toolkit.Tools = len(d.Tools)
	if _, d.AuthConfigs, err = s.svc.ListAuthConfigs(r.Context(), q.p, patchbay.AuthConfigFilter{Toolkit: tk.Slug, ShowDisabled: true, Page: patchbay.Page{Limit: 1}}); err != nil {
		return err
	}
	q.view.Title, q.view.Nav, q.view.Data = tk.Name, "toolkits", d
	return s.render(w, r, http.StatusOK, "toolkit", q.view)
}
