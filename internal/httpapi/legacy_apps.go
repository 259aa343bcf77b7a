package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyListApps: GET /api/v1/apps[?category=&additionalFields=]. Every
// toolkit, with its auth schemes.
func (s *Server) legacyListApps(w http.ResponseWriter, r *http.Request) error {
	category := strings.ToLower(r.URL.Query().Get("category"))
	tks, err := s.svc.Toolkits(principal(r))
	if err != nil {
		return err
	}
	items := []legacyApp{}
	for _, tk := range tks {
		if category != "" && !slices.ContainsFunc(tk.Categories, func(c patchbay.Category) bool {
			return c.Slug == category || strings.EqualFold(c.Name, category)
		}) {
			continue
		}
		items = append(items, toLegacyApp(tk))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "totalPages": 1, "page": 1})
	return nil
}

// legacyGetApp: GET /api/v1/apps/{appName}, case-insensitive.
func (s *Server) legacyGetApp(w http.ResponseWriter, r *http.Request) error {
	name, err := pathID(r, "name", "App")
	if err != nil {
		return err
	}
	tk, err := s.svc.FindToolkit(principal(r), name)
	if err != nil {
		return errorf(patchbay.ENOTFOUND, "App %q not found.", patchbay.Truncate(name, 60))
	}
	writeJSON(w, http.StatusOK, toLegacyApp(tk))
	return nil
}

// legacyAppCategories: GET /api/v1/apps/list/categories.
func (s *Server) legacyAppCategories(w http.ResponseWriter, r *http.Request) error {
	tks, err := s.svc.Toolkits(principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": categories(tks, false)})
	return nil
}

// legacyAppEnums: GET /api/v1/apps/list/enums, the app keys.
func (s *Server) legacyAppEnums(w http.ResponseWriter, r *http.Request) error {
	tks, err := s.svc.Toolkits(principal(r))
	if err != nil {
		return err
	}
	keys := []string{}
	for _, tk := range tks {
		keys = append(keys, strings.ToUpper(tk.Slug))
	}
	writeJSON(w, http.StatusOK, keys)
	return nil
}

// categories lists the catalog's categories, sorted by slug.
func categories(tks []*patchbay.Toolkit, detail bool) []v3Category {
	seen := map[string]string{}
	for _, tk := range tks {
		for _, cat := range tk.Categories {
			seen[cat.Slug] = cat.Name
		}
	}
	slugs := make([]string, 0, len(seen))
	for s := range seen {
		slugs = append(slugs, s)
	}
	slices.Sort(slugs)
	out := make([]v3Category, 0, len(slugs))
	for _, s := range slugs {
		if detail {
			out = append(out, v3Category{Slug: s, Name: seen[s]})
		} else {
			out = append(out, v3Category{ID: s, Name: seen[s]})
		}
	}
	return out
}
