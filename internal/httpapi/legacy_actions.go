package httpapi

import (
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyListActions: GET /api/v2/actions[?apps=&actions=&tags=&useCase=&limit=].
// The catalog has no tools yet, so every filter matches none: an empty
// page, which both legacy SDKs accept (the Python SDK's constructor lists
// actions and must not fail).
func (s *Server) legacyListActions(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryPageSize(r, "limit", 0, 1000); err != nil {
		return err
	}
	if _, err := s.svc.Toolkits(principal(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": []any{}, "page": 1, "totalPages": 1})
	return nil
}

// legacyGetAction: GET /api/v2/actions/{name}. No tool exists yet: 404,
// with "Not Found" in the message, which the Python SDK reads as an unknown
// action.
func (s *Server) legacyGetAction(w http.ResponseWriter, r *http.Request) error {
	name, err := pathID(r, "name", "Action")
	if err != nil {
		return err
	}
	return errorf(patchbay.ENOTFOUND, "Action %q Not Found: this patchbay's catalog has no such tool.", patchbay.Truncate(name, 80))
}

// legacyListTriggers: GET /api/v1/triggers. patchbay has no triggers: an
// empty list.
func (s *Server) legacyListTriggers(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.Toolkits(principal(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []any{})
	return nil
}
