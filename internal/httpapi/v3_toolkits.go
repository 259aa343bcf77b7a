package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// v3Page is the envelope of every v3.1 listing.
type v3Page struct {
	Items       any     `json:"items"`
	NextCursor  *string `json:"next_cursor"`
	TotalPages  int     `json:"total_pages"`
	CurrentPage int     `json:"current_page"`
	TotalItems  int     `json:"total_items"`
}

// Cursors are opaque to clients: base64url of "<page>|<last id>", so the
// current page can be reported without counting.
func encodeCursor(page int, lastID string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(page) + "|" + lastID))
	return &c
}

func decodeCursor(r *http.Request) (page int, after string, err error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 1, "", nil
	}
	return parseCursor(c)
}

func parseCursor(c string) (int, string, error) {
	bad := errorf(patchbay.EINVALID, "cursor is not a cursor this server issued; pass next_cursor from the previous page.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	n, id, ok := strings.Cut(string(b), "|")
	page, err := strconv.Atoi(n)
	if !ok || err != nil || page < 1 || id == "" {
		return 0, "", bad
	}
	return page, id, nil
}

// listToolkits: GET /toolkits?category=&search=&sort_by=&cursor=&limit=.
func (s *Server) listToolkits(w http.ResponseWriter, r *http.Request) error {
	return s.writeToolkits(w, r, nil, r.URL.Query().Get("category"), r.URL.Query().Get("search"), r.URL.Query().Get("cursor"), r.URL.Query().Get("limit"))
}

type multiToolkitsRequest struct {
	Toolkits []string `json:"toolkits"`
	Category string   `json:"category"`
	Cursor   string   `json:"cursor"`
	Limit    *int     `json:"limit"`
}

// multiToolkits: POST /toolkits/multi {toolkits:[slugs], …}.
func (s *Server) multiToolkits(w http.ResponseWriter, r *http.Request) error {
	var req multiToolkitsRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	limit := ""
	if req.Limit != nil {
		limit = strconv.Itoa(*req.Limit)
	}
	slugs := make([]string, 0, len(req.Toolkits))
	for _, t := range req.Toolkits {
		slugs = append(slugs, strings.ToLower(t))
	}
	return s.writeToolkits(w, r, slugs, req.Category, "", req.Cursor, limit)
}

func (s *Server) writeToolkits(w http.ResponseWriter, r *http.Request, only []string, category, search, cursor, limitS string) error {
	limit := 200 // the whole catalog: toolkits.get() reads only the first page
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 || n > 1000 {
			return errorf(patchbay.EINVALID, "limit must be an integer from 1 to 1000; got %q.", patchbay.Truncate(limitS, 40))
		}
		limit = n
	}
	page, after := 1, ""
	if cursor != "" {
		var err error
		if page, after, err = parseCursor(cursor); err != nil {
			return err
		}
	}
	category, search = strings.ToLower(category), strings.ToLower(search)
	tks, err := s.svc.Toolkits(principal(r))
	if err != nil {
		return err
	}
	var all []v3Toolkit
	for _, tk := range tks {
		if only != nil && !slices.Contains(only, tk.Slug) {
			continue
		}
		if category != "" && !slices.ContainsFunc(tk.Categories, func(c patchbay.Category) bool {
			return c.Slug == category || strings.ToLower(c.Name) == category
		}) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(tk.Slug+" "+tk.Name+" "+tk.Description), search) {
			continue
		}
		all = append(all, toV3Toolkit(tk, false))
	}
	start := 0
	if after != "" {
		i := slices.IndexFunc(all, func(t v3Toolkit) bool { return t.Slug == after })
		if i < 0 {
			return errorf(patchbay.EINVALID, "cursor does not match this listing; start again without it.")
		}
		start = i + 1
	}
	end := min(start+limit, len(all))
	out := v3Page{Items: all[start:end], TotalPages: totalPages(len(all), limit), CurrentPage: page, TotalItems: len(all)}
	if out.Items.([]v3Toolkit) == nil {
		out.Items = []v3Toolkit{}
	}
	if end < len(all) {
		out.NextCursor = encodeCursor(page+1, all[end-1].Slug)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getToolkit: GET /toolkits/{slug}.
func (s *Server) getToolkit(w http.ResponseWriter, r *http.Request) error {
	tk, err := s.svc.FindToolkit(principal(r), r.PathValue("slug"))
	if err != nil {
		return err
	}
	// The catalog never changes while the process runs: encode each
	// toolkit once.
	body, ok := s.toolkitJSON.Load(tk.Slug)
	if !ok {
		b, err := json.Marshal(toV3Toolkit(tk, true))
		if err != nil {
			return err
		}
		body, _ = s.toolkitJSON.LoadOrStore(tk.Slug, append(b, '\n'))
	}
	httpserver.WriteJSONBytes(w, http.StatusOK, body.([]byte))
	return nil
}

// toolkitCategories: GET /toolkits/categories.
func (s *Server) toolkitCategories(w http.ResponseWriter, r *http.Request) error {
	tks, err := s.svc.Toolkits(principal(r))
	if err != nil {
		return err
	}
	items := categories(tks, false)
	writeJSON(w, http.StatusOK, v3Page{Items: items, TotalPages: 1, CurrentPage: 1, TotalItems: len(items)})
	return nil
}
