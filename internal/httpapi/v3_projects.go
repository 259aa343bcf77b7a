package httpapi

import (
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type wireProjectKey struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Key       string `json:"key"`
	CreatedAt string `json:"created_at"`
}

// wireProject is the v3.1 project object. Secrets are masked.
type wireProject struct {
	ID              string           `json:"id"`
	OrgID           string           `json:"org_id"`
	Name            string           `json:"name"`
	Email           string           `json:"email"`
	CreatedAt       string           `json:"created_at"`
	UpdatedAt       string           `json:"updated_at"`
	WebhookURL      *string          `json:"webhook_url"`
	EventWebhookURL *string          `json:"event_webhook_url"`
	WebhookSecret   *string          `json:"webhook_secret"`
	TriggersEnabled bool             `json:"triggers_enabled"`
	IsNewWebhook    bool             `json:"is_new_webhook"`
	WebhookVersion  string           `json:"webhook_version"`
	Deleted         bool             `json:"deleted"`
	APIKeys         []wireProjectKey `json:"api_keys,omitempty"`
}

// toWireProject converts a project; ownerEmail is its organization owner's
// (see ownerEmail), looked up once per request.
func (s *Server) toWireProject(r *http.Request, p *patchbay.Project, ownerEmail string, withKeys bool) (wireProject, error) {
	out := wireProject{
		ID: p.ID, OrgID: p.OrgID, Name: p.Name, CreatedAt: wireTime(p.CreatedAt), UpdatedAt: wireTime(p.UpdatedAt),
		WebhookVersion: "V3", Deleted: p.DeletedAt != nil,
	}
	secret, err := s.svc.WebhookSecret(r.Context(), p)
	switch {
	case err == nil:
		masked := maskSecret(secret)
		out.WebhookSecret = &masked
	case patchbay.ErrorCode(err) != patchbay.ENOTFOUND:
		return out, err
	}
	out.Email = ownerEmail
	if withKeys {
		keys, err := s.svc.Store.ListAPIKeys(r.Context(), patchbay.KeyFilter{OrgID: p.OrgID, ProjectID: p.ID, Kind: patchbay.KeyKindProject})
		if err != nil {
			return out, err
		}
		out.APIKeys = make([]wireProjectKey, 0, len(keys))
		for _, k := range keys {
			out.APIKeys = append(out.APIKeys, wireProjectKey{ID: k.ID, Name: k.Name, Key: k.Masked(), CreatedAt: wireTime(k.CreatedAt)})
		}
	}
	return out, nil
}

// ownerEmail is the email of org's owner, "" if it has none.
func (s *Server) ownerEmail(r *http.Request, orgID string) string {
	if owner, err := s.svc.Owner(r.Context(), orgID); err == nil {
		return owner.Email
	}
	return ""
}

// maskSecret keeps a secret's first characters (its type prefix and a few
// more) and hides the rest.
func maskSecret(s patchbay.Secret) string {
	v := s.Reveal()
	n := min(len(v)/4, 10)
	return v[:n] + "…"
}

// listProjects: GET /org/owner/project/list?limit=&cursor=. Note the
// response key is "data", as in Composio's API.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50, 1, 50)
	if err != nil {
		return err
	}
	p := principal(r)
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" {
		if _, err := s.svc.Store.GetProject(r.Context(), p.Key.OrgID, cursor); err != nil {
			return errorf(patchbay.EINVALID, "Query parameter cursor does not name a project of this organization.")
		}
	}
	projects, err := s.svc.Store.ListProjects(r.Context(), p.Key.OrgID, cursor, limit+1)
	if err != nil {
		return err
	}
	out := map[string]any{}
	if len(projects) > limit {
		projects = projects[:limit]
		out["next_cursor"] = projects[limit-1].ID
	}
	data := make([]wireProject, 0, len(projects))
	email := s.ownerEmail(r, p.Key.OrgID)
	for _, proj := range projects {
		wp, err := s.toWireProject(r, proj, email, false)
		if err != nil {
			return err
		}
		data = append(data, wp)
	}
	out["data"] = data
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createProjectRequest struct {
	Name               *string        `json:"name"`
	ShouldCreateAPIKey *bool          `json:"should_create_api_key"`
	Config             map[string]any `json:"config"`
}

// createProject: POST /org/owner/project/new → {id, name, api_key}. A key is
// created only when should_create_api_key is true, and shown once.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	var req createProjectRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	name, err := requireString("name", req.Name)
	if err != nil {
		return err
	}
	withKey := req.ShouldCreateAPIKey != nil && *req.ShouldCreateAPIKey
	p := principal(r)
	cp, err := s.svc.CreateProject(r.Context(), actor(r), p.Key.OrgID, name, withKey)
	if err != nil {
		return err
	}
	out := map[string]any{"id": cp.Project.ID, "name": cp.Project.Name, "api_key": nil}
	if cp.Key != nil {
		out["api_key"] = cp.Token.Secret.Reveal()
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// getProject: GET /org/owner/project/{id}, with its keys masked.
func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	proj, err := s.svc.Store.GetProject(r.Context(), p.Key.OrgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	wp, err := s.toWireProject(r, proj, s.ownerEmail(r, proj.OrgID), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wp)
	return nil
}

// deleteProject: DELETE /org/owner/project/{id}; revokes the project's keys.
func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.svc.DeleteProject(r.Context(), actor(r), p.Key.OrgID, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
	return nil
}

// regenerateProjectKey: POST /org/owner/project/{id}/regenerate_api_key.
// Revokes the project's active keys and returns the new key, once.
func (s *Server) regenerateProjectKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	k, tok, err := s.svc.RegenerateProjectKey(r.Context(), actor(r), p.Key.OrgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"api_key": map[string]string{"id": k.ID, "name": k.Name, "key": tok.Secret.Reveal(), "created_at": wireTime(k.CreatedAt)},
		"message": "API key regenerated; the project's previous keys are revoked.",
	})
	return nil
}
