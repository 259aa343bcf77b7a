package dashboard

import (
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// keyRow is one API key as the keys table shows it.
type keyRow struct {
	ID, Name, Masked, CreatedBy string
	Created, LastUsed           string
	Revoked                     bool
	RevokedAt, RevokedBy        string
}

type keysData struct {
	Keys []keyRow
	// New is a key just created, shown this once.
	New     string
	NewName string
}

// memberNames maps member IDs to how the page names them.
func (s *Server) memberNames(r *http.Request, q *req) (map[string]string, error) {
	ms, err := s.svc.ListMembers(r.Context(), q.p)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.ID] = m.Email
	}
	return out, nil
}

func (s *Server) keyRows(r *http.Request, q *req) ([]keyRow, error) {
	keys, err := s.svc.ListAPIKeys(r.Context(), q.p, patchbay.KeyQuery{Kind: patchbay.KeyKindProject, IncludeRevoked: true})
	if err != nil {
		return nil, err
	}
	names, err := s.memberNames(r, q)
	if err != nil {
		return nil, err
	}
	rows := make([]keyRow, 0, len(keys))
	for _, k := range keys {
		row := keyRow{ID: k.ID, Name: k.Name, Masked: k.Masked(), Created: when(k.CreatedAt),
			LastUsed: when(k.LastUsedAt), Revoked: k.Revoked()}
		if k.Creator != nil {
			row.CreatedBy = k.Creator.Email
		}
		if k.Revoked() {
			row.RevokedAt = when(k.RevokedAt)
			row.RevokedBy = names[k.RevokedBy]
			if row.RevokedBy == "" {
				row.RevokedBy = k.RevokedBy // "leak-report", or a member since removed
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *Server) keysPage(w http.ResponseWriter, r *http.Request, q *req) error {
	rows, err := s.keyRows(r, q)
	if err != nil {
		return err
	}
	q.view.Title, q.view.Nav, q.view.Data = "API keys", "keys", keysData{Keys: rows}
	return s.render(w, r, http.StatusOK, "keys", q.view)
}

// createKey: POST /projects/{pid}/keys {name}. The page that answers shows
// the new key once; it is never shown again.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request, q *req) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	k, tok, err := s.svc.CreateAPIKey(r.Context(), q.p, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: q.p.ProjectID, Name: name})
	if patchbay.ErrorCode(err) == patchbay.EINVALID {
		q.view.Error = patchbay.ErrorMessage(err)
		return s.renderKeys(w, r, q, http.StatusBadRequest, keysData{})
	}
	if err != nil {
		return err
	}
	q.view.Flash = "Key " + k.Name + " created. Copy it now: it is shown only this once."
	return s.renderKeys(w, r, q, http.StatusOK, keysData{New: tok.Secret.Reveal(), NewName: k.Name})
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, q *req, status int, d keysData) error {
	rows, err := s.keyRows(r, q)
	if err != nil {
		return err
	}
	d.Keys = rows
	q.view.Title, q.view.Nav, q.view.Data = "API keys", "keys", d
	return s.render(w, r, status, "keys", q.view)
}

// revokePage: GET /projects/{pid}/keys/{id}/revoke, the confirmation for
// browsers without script (with script, the same confirmation is a dialog
// on the keys page).
func (s *Server) revokePage(w http.ResponseWriter, r *http.Request, q *req) error {
	rows, err := s.keyRows(r, q)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if row.ID == r.PathValue("id") && !row.Revoked {
			q.view.Title, q.view.Nav, q.view.Data = "Revoke "+row.Name, "keys", row
			return s.render(w, r, http.StatusOK, "revoke", q.view)
		}
	}
	return patchbay.Errorf(patchbay.ENOTFOUND, "This project has no active key %s.", patchbay.Truncate(r.PathValue("id"), 60))
}

// revokeKey: POST /projects/{pid}/keys/{id}/revoke. Immediate and
// permanent; members get 403 from the Service.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, q *req) error {
	k, err := s.svc.RevokeAPIKey(r.Context(), q.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.redirect(w, r, "/projects/"+q.p.ProjectID+"/keys", "Key "+k.Name+" is revoked: every call with it now gets 401.")
}
