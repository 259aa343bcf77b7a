package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/mcp", s.inProject(s.mcpPage))
		sf.Handle("POST /projects/{pid}/mcp", s.inProject(s.createMCPServer))
		sf.Handle("GET /projects/{pid}/mcp/{id}/delete", s.inProject(s.mcpDeleteConfirm))
		sf.Handle("POST /projects/{pid}/mcp/{id}/delete", s.inProject(s.deleteMCPServer))
	})
}

// mcpShown caps the listing.
const mcpShown = 100

// mcpRow is one MCP server configuration as the page shows it, with its
// URL for the user the page was asked about.
type mcpRow struct {
	ID, Name     string
	Toolkits     []string
	AllowedTools []string
	ManagedAuth  bool
	Created      string
	// URL is the configuration's URL for User ("" without a user): it
	// works with a project API key in x-api-key.
	URL string
	// ClientConfig is the JSON entry for an MCP client's configuration
	// file (Claude Desktop, Cursor), with a placeholder for the key.
	ClientConfig string
}

type mcpData struct {
	Rows      []mcpRow
	Total     int
	User      string // the end user whose URLs are shown
	CanManage bool
	Toolkits  []acToolkitOption
	// Form refills the create form after a refusal.
	Form struct {
		Name, Toolkits, AllowedTools string
		ManagedAuth                  bool
	}
}

// mcpClientConfig is the mcpServers entry that adds the configuration to an
// MCP client, with the key left for the developer to fill in.
func mcpClientConfig(name, url string) string {
	key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), " ", "-"))
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the template escapes it for the page
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"mcpServers": map[string]any{key: map[string]any{
		"type": "http", "url": url, "headers": map[string]string{"x-api-key": "<your patchbay project API key>"},
	}}})
	return strings.TrimSpace(b.String())
}

func (s *Server) mcpData(r *http.Request, q *req) (*mcpData, error) {
	d := &mcpData{User: strings.TrimSpace(r.URL.Query().Get("user")), CanManage: patchbay.Allows(q.view.Member.Role, patchbay.ManageMCPServers)}
	d.Form.ManagedAuth = true
	if d.User != "" {
		if err := patchbay.ValidateUserID(d.User); err != nil {
			return nil, err
		}
	}
	servers, total, err := s.svc.ListMCPServers(r.Context(), q.p, patchbay.MCPServerFilter{Page: patchbay.Page{Limit: mcpShown}})
	if err != nil {
		return nil, err
	}
	d.Total = total
	origin := httpserver.PublicOrigin(r)
	for _, m := range servers {
		row := mcpRow{ID: m.ID, Name: m.Name, Toolkits: m.Toolkits, AllowedTools: m.AllowedTools, ManagedAuth: m.ManagedAuth, Created: when(m.CreatedAt)}
		if d.User != "" {
			row.URL = patchbay.MCPURL(origin, m.ID, d.User, false)
			row.ClientConfig = mcpClientConfig(m.Name, row.URL)
		}
		d.Rows = append(d.Rows, row)
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

func (s *Server) renderMCP(w http.ResponseWriter, r *http.Request, q *req, status int, d *mcpData) error {
	q.view.Title, q.view.Nav, q.view.Data = "MCP servers", "mcp", d
	return s.render(w, r, status, "mcp", q.view)
}

// mcpPage: GET /projects/{pid}/mcp?user=, the project's MCP server
// configurations, with each one's URL for the user named.
func (s *Server) mcpPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.mcpData(r, q)
	if err != nil {
		return err
	}
	return s.renderMCP(w, r, q, http.StatusOK, d)
}

// splitList reads a comma- or space-separated list of a form field.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// createMCPServer: POST /projects/{pid}/mcp {name, toolkits, allowed_tools,
// managed_auth}.
func (s *Server) createMCPServer(w http.ResponseWriter, r *http.Request, q *req) error {
	form := r.PostForm
	n := patchbay.NewMCPServer{Name: strings.TrimSpace(form.Get("name")), Toolkits: splitList(form.Get("toolkits")),
		AllowedTools: splitList(form.Get("allowed_tools")), ManagedAuth: form.Get("managed_auth") == "on"}
	m, err := s.svc.CreateMCPServer(r.Context(), q.p, n)
	if patchbay.ErrorCode(err) == patchbay.EINVALID {
		d, derr := s.mcpData(r, q)
		if derr != nil {
			return derr
		}
		q.view.Error = patchbay.ErrorMessage(err)
		d.Form.Name, d.Form.Toolkits, d.Form.AllowedTools, d.Form.ManagedAuth = n.Name, form.Get("toolkits"), form.Get("allowed_tools"), n.ManagedAuth
		return s.renderMCP(w, r, q, http.StatusBadRequest, d)
	}
	if err != nil {
		return err
	}
	return s.redirect(w, r, s.mcpPath(q), "MCP server "+m.Name+" ("+m.ID+") created for "+strings.Join(m.Toolkits, ", ")+". Enter a user below to see their URL.")
}

func (s *Server) mcpPath(q *req) string { return "/projects/" + q.p.ProjectID + "/mcp" }

// mcpDeleteConfirm: GET /projects/{pid}/mcp/{id}/delete, the confirmation
// for browsers without script.
func (s *Server) mcpDeleteConfirm(w http.ResponseWriter, r *http.Request, q *req) error {
	m, err := s.svc.GetMCPServer(r.Context(), q.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	q.view.Title, q.view.Nav, q.view.Data = "Delete the MCP server "+m.Name+"?", "mcp", mcpRow{ID: m.ID, Name: m.Name, Toolkits: m.Toolkits}
	return s.render(w, r, http.StatusOK, "mcp_confirm", q.view)
}

// deleteMCPServer: POST /projects/{pid}/mcp/{id}/delete. Its URLs, signed
// ones included, stop working.
func (s *Server) deleteMCPServer(w http.ResponseWriter, r *http.Request, q *req) error {
	m, err := s.svc.GetMCPServer(r.Context(), q.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteMCPServer(r.Context(), q.p, m.ID); err != nil {
		return err
	}
	return s.redirect(w, r, s.mcpPath(q), "MCP server "+m.Name+" is deleted: its URLs no longer work.")
}
